/// Appends JSON text to a byte array: escaped strings, and values copied
/// from a scanned line in compact form.
public enum JSONWriter {
  private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

  /// Appends `text` (raw UTF-8) as the contents of a JSON string, escaped,
  /// without the quotes. Non-ASCII bytes are written as they are.
  public static func appendEscaped<C: Collection>(_ text: C, to out: inout [UInt8])
  where C.Element == UInt8 {
    for c in text {
      switch c {
      case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(c)
      case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(c)
      case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
      case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
      case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
      case 0x08: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "b"))
      case 0x0C: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "f"))
      case 0..<0x20:
        out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
        out.append(hexDigits[Int(c >> 4)])
        out.append(hexDigits[Int(c & 0xF)])
      default: out.append(c)
      }
    }
  }

  /// Appends `text` as a quoted JSON string.
  public static func appendString(_ text: String, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    appendEscaped(text.utf8, to: &out)
    out.append(UInt8(ascii: "\""))
  }

  /// Appends the value at `range` of `scanner` with insignificant whitespace
  /// removed; strings and numbers keep their bytes as in the source.
  public static func appendCompact(_ scanner: JSONScanner, _ range: Range<Int>, to out: inout [UInt8]) {
    let bytes = scanner.bytes
    var i = range.lowerBound
    let end = range.upperBound
    var runStart = i
    while i < end {
      let c = bytes[i]
      if c == UInt8(ascii: "\"") {
        // Copy the whole string through; it was validated already.
        i += 1
        while i < end {
          let s = bytes[i]
          if s == UInt8(ascii: "\\") { i += 2; continue }
          i += 1
          if s == UInt8(ascii: "\"") { break }
        }
      } else if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 {
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
        i += 1
        runStart = i
      } else {
        i += 1
      }
    }
    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<end]))
  }

  /// Appends the value at `range` as text inside a JSON string: a string's
  /// contents as they are (still escaped), `null` as nothing, and any other
  /// value as its compact JSON, escaped.
  public static func appendAsText(_ scanner: JSONScanner, _ range: Range<Int>, to out: inout [UInt8]) {
    switch scanner.kind(at: range.lowerBound) {
    case .string?:
      out.append(contentsOf: UnsafeBufferPointer(rebasing: scanner.bytes[(range.lowerBound + 1)..<(range.upperBound - 1)]))
    case .null?:
      break
    case .number?, .bool?:
      out.append(contentsOf: UnsafeBufferPointer(rebasing: scanner.bytes[range]))
    default:
      var compact: [UInt8] = []
      appendCompact(scanner, range, to: &compact)
      appendEscaped(compact, to: &out)
    }
  }

  /// Appends a decimal integer.
  public static func appendInteger(_ value: Int, to out: inout [UInt8]) {
    if value == 0 {
      out.append(UInt8(ascii: "0"))
      return
    }
    var v = value.magnitude
    var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
      UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
      (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var n = 0
    withUnsafeMutableBytes(of: &digits) { d in
      while v > 0 {
        d[n] = UInt8(ascii: "0") + UInt8(v % 10)
        v /= 10
        n += 1
      }
      if value < 0 { out.append(UInt8(ascii: "-")) }
      while n > 0 {
        n -= 1
        out.append(d[n])
      }
    }
  }
}
