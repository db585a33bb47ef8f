/// Base64 as the embeddings endpoint sends vectors with
/// `encoding_format: "base64"`: little-endian float32 values.
enum Base64 {
  /// The 6-bit value of each byte, 0xFF for bytes outside the alphabet.
  private static let values: [UInt8] = {
    var table = [UInt8](repeating: 0xFF, count: 256)
    for (n, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
      table[Int(c)] = UInt8(n)
    }
    return table
  }()

  /// The bytes `text` encodes, or nil when it is not base64 (padding
  /// optional, no whitespace).
  static func decode<C: Collection>(_ text: C) -> [UInt8]? where C.Element == UInt8 {
    var out: [UInt8] = []
    out.reserveCapacity(text.count * 3 / 4)
    var acc: UInt32 = 0
    var bits = 0
    var padding = 0
    for c in text {
      if c == UInt8(ascii: "=") {
        padding += 1
        continue
      }
      let v = values[Int(c)]
      guard v != 0xFF, padding == 0 else { return nil }
      acc = (acc << 6) | UInt32(v)
      bits += 6
      if bits >= 8 {
        bits -= 8
        out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
      }
    }
    guard padding <= 2, bits < 6 else { return nil }
    return out
  }

  /// Appends the vector that the base64 string contents at `contents`
  /// encode as a JSON array of numbers, each written with the fewest digits
  /// that read back as the same float32 (non-finite values as null).
  ///
  /// - Returns: False, appending nothing, when the text is not base64 of
  ///   whole float32 values.
  static func appendFloat32Vector(_ s: JSONScanner, contents: Range<Int>, to json: inout [UInt8]) -> Bool {
    let raw = UnsafeBufferPointer(rebasing: s.bytes[contents])
    // A JSON writer may escape "/" as "\/".
    let bytes = raw.contains(UInt8(ascii: "\\")) ? decode(s.decodeString(contents: contents)) : decode(raw)
    guard let bytes, bytes.count % 4 == 0 else { return false }
    json.append(UInt8(ascii: "["))
    var i = 0
    while i < bytes.count {
      if i > 0 { json.append(UInt8(ascii: ",")) }
      let bits = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
      let value = Float(bitPattern: bits)
      if value.isFinite {
        json.append(contentsOf: value.description.utf8)
      } else {
        json.append(contentsOf: "null".utf8)
      }
      i += 4
    }
    json.append(UInt8(ascii: "]"))
    return true
  }
}
