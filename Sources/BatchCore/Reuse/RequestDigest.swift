/// What identifies an answer: the SHA-256 of where the request was answered
/// (the provider and base URL), its endpoint and its body as sent; not its
/// custom_id nor the file it went in, so that re-split or grown items find
/// the answers they already paid for.
struct RequestDigest: Comparable, Sendable {
  /// The digest's 32 bytes as four big-endian words: comparing the words
  /// compares the bytes.
  var a: UInt64, b: UInt64, c: UInt64, d: UInt64

  static let byteCount = 32

  /// The digest of `body` under `key` (``RequestDigest/key(provider:baseURL:endpoint:)``).
  init(key: [UInt8], body: UnsafeBufferPointer<UInt8>) {
    var sha = SHA256()
    key.withUnsafeBytes { sha.update($0) }
    sha.update(UnsafeRawBufferPointer(body))
    self.init(hex: sha.finalizeHex())!
  }

  init?(hex: String) {
    let digits = Array(hex.utf8)
    guard digits.count == 64 else { return nil }
    var words: [UInt64] = []
    for w in 0..<4 {
      var word: UInt64 = 0
      for digit in digits[(w * 16)..<(w * 16 + 16)] {
        guard let value = Self.hexValue(digit) else { return nil }
        word = word << 4 | UInt64(value)
      }
      words.append(word)
    }
    (a, b, c, d) = (words[0], words[1], words[2], words[3])
  }

  /// Reads 32 bytes, as ``write(to:)`` puts them.
  init(bytes: UnsafeRawPointer) {
    func word(_ n: Int) -> UInt64 { UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: n * 8, as: UInt64.self)) }
    (a, b, c, d) = (word(0), word(1), word(2), word(3))
  }

  func write(to bytes: inout [UInt8]) {
    for word in [a, b, c, d] { withUnsafeBytes(of: word.bigEndian) { bytes.append(contentsOf: $0) } }
  }

  static func < (l: RequestDigest, r: RequestDigest) -> Bool {
    (l.a, l.b, l.c, l.d) < (r.a, r.b, r.c, r.d)
  }

  private static func hexValue(_ digit: UInt8) -> UInt8? {
    switch digit {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
    default: return nil
    }
  }

  /// The part of the digest's input that every request of a run shares.
  static func key(provider: String, baseURL: String, endpoint: String) -> [UInt8] {
    Array("batchline answer 1\n\(provider)\n\(baseURL)\n\(endpoint)\n".utf8)
  }

  /// The body of a request line: the bytes of its `body` value, as sent.
  static func body(of line: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
    let scanner = JSONScanner(line)
    return try? scanner.member(Array("body".utf8), ofObjectAt: scanner.skipWhitespace(0))
  }
}
