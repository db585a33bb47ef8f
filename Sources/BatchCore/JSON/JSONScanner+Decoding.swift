/// Strings and integers decoded from their validated bytes.
extension JSONScanner {
  /// The decoded UTF-8 bytes of the string whose contents (without quotes)
  /// are at `range`. The contents must have been validated.
  public func decodeString(contents range: Range<Int>) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(range.count)
    appendDecodedString(contents: range, to: &out)
    return out
  }

  /// Appends the decoded UTF-8 bytes of validated string contents to `out`.
  public func appendDecodedString(contents range: Range<Int>, to out: inout [UInt8]) {
    var i = range.lowerBound
    let stop = range.upperBound
    while i < stop {
      let c = bytes[i]
      if c != UInt8(ascii: "\\") {
        out.append(c)
        i += 1
        continue
      }
      let e = bytes[i + 1]
      switch e {
      case UInt8(ascii: "b"): out.append(0x08); i += 2
      case UInt8(ascii: "f"): out.append(0x0C); i += 2
      case UInt8(ascii: "n"): out.append(0x0A); i += 2
      case UInt8(ascii: "r"): out.append(0x0D); i += 2
      case UInt8(ascii: "t"): out.append(0x09); i += 2
      case UInt8(ascii: "u"):
        var scalar = (try? hex4(at: i + 2)) ?? 0xFFFD
        i += 6
        if scalar >= 0xD800 && scalar < 0xDC00, i + 6 <= stop {
          let low = (try? hex4(at: i + 2)) ?? 0
          scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
          i += 6
        }
        appendUTF8(scalar, to: &out)
      default:
        out.append(e)  // \" \\ \/
        i += 2
      }
    }
  }

  /// The decoded text of the string value at `range` (quotes included).
  public func string(at range: Range<Int>) -> String? {
    guard kind(at: range.lowerBound) == .string else { return nil }
    return String(decoding: decodeString(contents: (range.lowerBound + 1)..<(range.upperBound - 1)), as: UTF8.self)
  }

  /// The integer value of the number at `range`, if it is an integer that fits.
  public func integer(at range: Range<Int>) -> Int? {
    guard kind(at: range.lowerBound) == .number else { return nil }
    var value = 0
    var i = range.lowerBound
    let negative = bytes[i] == UInt8(ascii: "-")
    if negative { i += 1 }
    while i < range.upperBound {
      let d = bytes[i] &- UInt8(ascii: "0")
      guard d < 10 else { return nil }
      // Accumulate with the final sign so that Int.min, whose magnitude is
      // not an Int, fits too.
      let (m, o1) = value.multipliedReportingOverflow(by: 10)
      let (a, o2) = negative ? m.subtractingReportingOverflow(Int(d)) : m.addingReportingOverflow(Int(d))
      if o1 || o2 { return nil }
      value = a
      i += 1
    }
    return value
  }
}

/// Appends the UTF-8 encoding of a Unicode scalar value.
@inline(__always)
func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
  switch scalar {
  case 0..<0x80:
    out.append(UInt8(scalar))
  case 0x80..<0x800:
    out.append(UInt8(0xC0 | (scalar >> 6)))
    out.append(UInt8(0x80 | (scalar & 0x3F)))
  case 0x800..<0x10000:
    out.append(UInt8(0xE0 | (scalar >> 12)))
    out.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
    out.append(UInt8(0x80 | (scalar & 0x3F)))
  default:
    out.append(UInt8(0xF0 | (scalar >> 18)))
    out.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
    out.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
    out.append(UInt8(0x80 | (scalar & 0x3F)))
  }
}
