// JSON/: a validating scanner over byte buffers and a writer; the
// per-line paths use these, never Foundation's JSON.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A validating scanner over the bytes of one JSON text (one JSONL line).
///
/// It never builds a tree: it checks the grammar (RFC 8259, UTF-8 included)
/// and hands out byte ranges, so that the per-line paths can copy values
/// through untouched. Offsets are indices into the scanned buffer.
public struct JSONScanner {
  /// The scanned bytes; valid for as long as the scanner is used.
  public let bytes: UnsafeBufferPointer<UInt8>
  /// The deepest nesting accepted; deeper input is an error, not a crash.
  public static let maximumDepth = 512

  public init(_ bytes: UnsafeBufferPointer<UInt8>) {
    self.bytes = bytes
  }

  @inline(__always) var end: Int { bytes.count }

  @inline(__always) func byte(_ i: Int) -> UInt8 { bytes[i] }

  /// Validates the value at `i` as ``skipValue(at:depth:)`` does, and
  /// puts its range in `range`.
  @inline(__always)
  func skipValue(at i: Int, depth: Int, recording range: inout Range<Int>?) throws -> Int {
    let valueEnd = try skipValue(at: i, depth: depth)
    range = i..<valueEnd
    return valueEnd
  }

  /// The index of the first byte at or after `i` that is not JSON whitespace.
  @inline(__always)
  public func skipWhitespace(_ i: Int) -> Int {
    var i = i
    while i < end {
      let c = bytes[i]
      if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 } else { break }
    }
    return i
  }

  /// The kind of the value that starts at `i`, or nil if no value starts there.
  public func kind(at i: Int) -> JSONKind? {
    guard i < end else { return nil }
    switch bytes[i] {
    case UInt8(ascii: "{"): return .object
    case UInt8(ascii: "["): return .array
    case UInt8(ascii: "\""): return .string
    case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
    case UInt8(ascii: "n"): return .null
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
    default: return nil
    }
  }

  /// Checks that the whole text is one JSON value, with only whitespace around it.
  ///
  /// - Returns: The range of the value, without the surrounding whitespace.
  /// - Throws: ``JSONSyntaxError`` at the first byte that is not JSON.
  public func validateDocument() throws -> Range<Int> {
    let start = skipWhitespace(0)
    guard start < end else { throw JSONSyntaxError(offset: start, reason: "no JSON value") }
    let valueEnd = try skipValue(at: start)
    let trailing = skipWhitespace(valueEnd)
    guard trailing == end else {
      throw JSONSyntaxError(offset: trailing, reason: "unexpected text after the JSON value")
    }
    return start..<valueEnd
  }

  /// Validates the value that starts at `i` and returns the index just after it.
  ///
  /// - Throws: ``JSONSyntaxError`` if the value is not valid JSON.
  public func skipValue(at i: Int, depth: Int = 0) throws -> Int {
    guard i < end else { throw JSONSyntaxError(offset: i, reason: "unexpected end of text") }
    switch bytes[i] {
    case UInt8(ascii: "\""):
      return try skipString(at: i)
    case UInt8(ascii: "{"):
      guard depth < Self.maximumDepth else {
        throw JSONSyntaxError(offset: i, reason: "nesting deeper than \(Self.maximumDepth)")
      }
      var j = skipWhitespace(i + 1)
      if j < end && bytes[j] == UInt8(ascii: "}") { return j + 1 }
      while true {
        guard j < end, bytes[j] == UInt8(ascii: "\"") else {
          throw JSONSyntaxError(offset: j, reason: "expected a string key")
        }
        j = skipWhitespace(try skipString(at: j))
        guard j < end, bytes[j] == UInt8(ascii: ":") else {
          throw JSONSyntaxError(offset: j, reason: "expected ':'")
        }
        j = skipWhitespace(j + 1)
        j = skipWhitespace(try skipValue(at: j, depth: depth + 1))
        guard j < end else { throw JSONSyntaxError(offset: j, reason: "unexpected end of text") }
        if bytes[j] == UInt8(ascii: ",") {
          j = skipWhitespace(j + 1)
        } else if bytes[j] == UInt8(ascii: "}") {
          return j + 1
        } else {
          throw JSONSyntaxError(offset: j, reason: "expected ',' or '}'")
        }
      }
    case UInt8(ascii: "["):
      guard depth < Self.maximumDepth else {
        throw JSONSyntaxError(offset: i, reason: "nesting deeper than \(Self.maximumDepth)")
      }
      var j = skipWhitespace(i + 1)
      if j < end && bytes[j] == UInt8(ascii: "]") { return j + 1 }
      while true {
        j = skipWhitespace(try skipValue(at: j, depth: depth + 1))
        guard j < end else { throw JSONSyntaxError(offset: j, reason: "unexpected end of text") }
        if bytes[j] == UInt8(ascii: ",") {
          j = skipWhitespace(j + 1)
        } else if bytes[j] == UInt8(ascii: "]") {
          return j + 1
        } else {
          throw JSONSyntaxError(offset: j, reason: "expected ',' or ']'")
        }
      }
    case UInt8(ascii: "t"):
      return try skipLiteral("true", at: i)
    case UInt8(ascii: "f"):
      return try skipLiteral("false", at: i)
    case UInt8(ascii: "n"):
      return try skipLiteral("null", at: i)
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      return try skipNumber(at: i)
    default:
      throw JSONSyntaxError(offset: i, reason: "expected a JSON value")
    }
  }

  private func skipLiteral(_ literal: StaticString, at i: Int) throws -> Int {
    let n = literal.utf8CodeUnitCount
    guard i + n <= end else { throw JSONSyntaxError(offset: i, reason: "expected a JSON value") }
    let p = literal.utf8Start
    for k in 0..<n where bytes[i + k] != p[k] {
      throw JSONSyntaxError(offset: i + k, reason: "expected a JSON value")
    }
    return i + n
  }

  private func skipNumber(at start: Int) throws -> Int {
    var i = start
    if bytes[i] == UInt8(ascii: "-") { i += 1 }
    guard i < end, isDigit(bytes[i]) else {
      throw JSONSyntaxError(offset: i, reason: "invalid number")
    }
    if bytes[i] == UInt8(ascii: "0") {
      i += 1
    } else {
      while i < end && isDigit(bytes[i]) { i += 1 }
    }
    if i < end && bytes[i] == UInt8(ascii: ".") {
      i += 1
      guard i < end, isDigit(bytes[i]) else {
        throw JSONSyntaxError(offset: i, reason: "invalid number")
      }
      while i < end && isDigit(bytes[i]) { i += 1 }
    }
    if i < end && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
      i += 1
      if i < end && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) { i += 1 }
      guard i < end, isDigit(bytes[i]) else {
        throw JSONSyntaxError(offset: i, reason: "invalid number")
      }
      while i < end && isDigit(bytes[i]) { i += 1 }
    }
    return i
  }

  @inline(__always) private func isDigit(_ c: UInt8) -> Bool {
    c &- UInt8(ascii: "0") < 10
  }

  /// Validates the string that starts at `i` (its opening quote) and returns
  /// the index just after its closing quote.
  ///
  /// Checks escapes, `\u` surrogate pairs, raw control characters and UTF-8.
  public func skipString(at start: Int) throws -> Int {
    var escaped = false
    return try skipString(at: start, escaped: &escaped)
  }

  /// ``skipString(at:)`` that also tells whether the string has an escape.
  func skipString(at start: Int, escaped: inout Bool) throws -> Int {
    var i = start + 1
    let base = bytes.baseAddress!
    while i < end {
      // Eight bytes at a time while none is a quote, a backslash, a control
      // character or part of a multi-byte sequence: most text is plain ASCII.
      while i + 8 <= end {
        let v = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
        let high = v & 0x8080_8080_8080_8080
        let control = (v &- 0x2020_2020_2020_2020) & ~v & 0x8080_8080_8080_8080
        let q = v ^ 0x2222_2222_2222_2222
        let quote = (q &- 0x0101_0101_0101_0101) & ~q & 0x8080_8080_8080_8080
        let b = v ^ 0x5C5C_5C5C_5C5C_5C5C
        let backslash = (b &- 0x0101_0101_0101_0101) & ~b & 0x8080_8080_8080_8080
        let special = high | control | quote | backslash
        if special != 0 {
          // The lowest flagged byte is a true hit (the subtractions only
          // borrow upward from one): go straight to it. Stepping byte by
          // byte to the closing quote of each short key instead made
          // merge's validation twice as slow.
          i += special.trailingZeroBitCount >> 3
          break
        }
        i += 8
      }
      guard i < end else { break }
      let c = bytes[i]
      if c == UInt8(ascii: "\"") { return i + 1 }
      if c == UInt8(ascii: "\\") {
        escaped = true
        i = try skipEscape(at: i)
      } else if c < 0x20 {
        throw JSONSyntaxError(offset: i, reason: "control character in string")
      } else if c < 0x80 {
        i += 1
      } else {
        i = try skipUTF8Sequence(at: i)
      }
    }
    throw JSONSyntaxError(offset: start, reason: "unterminated string")
  }

  private func skipEscape(at i: Int) throws -> Int {
    guard i + 1 < end else { throw JSONSyntaxError(offset: i, reason: "unterminated string") }
    switch bytes[i + 1] {
    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
      UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
      return i + 2
    case UInt8(ascii: "u"):
      let unit = try hex4(at: i + 2)
      if unit >= 0xD800 && unit < 0xDC00 {
        // A high surrogate must be followed by an escaped low surrogate.
        guard i + 7 < end, bytes[i + 6] == UInt8(ascii: "\\"), bytes[i + 7] == UInt8(ascii: "u")
        else { throw JSONSyntaxError(offset: i, reason: "unpaired surrogate in \\u escape") }
        let low = try hex4(at: i + 8)
        guard low >= 0xDC00 && low < 0xE000 else {
          throw JSONSyntaxError(offset: i, reason: "unpaired surrogate in \\u escape")
        }
        return i + 12
      }
      if unit >= 0xDC00 && unit < 0xE000 {
        throw JSONSyntaxError(offset: i, reason: "unpaired surrogate in \\u escape")
      }
      return i + 6
    default:
      throw JSONSyntaxError(offset: i, reason: "invalid escape in string")
    }
  }

  /// The value of the 4 hex digits at `i`.
  func hex4(at i: Int) throws -> UInt32 {
    guard i + 4 <= end else { throw JSONSyntaxError(offset: i, reason: "invalid \\u escape") }
    var value: UInt32 = 0
    for k in 0..<4 {
      let c = bytes[i + k]
      let digit: UInt8
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
      default: throw JSONSyntaxError(offset: i + k, reason: "invalid \\u escape")
      }
      value = value << 4 | UInt32(digit)
    }
    return value
  }

  /// Validates one multi-byte UTF-8 sequence at `i` and returns the index after it.
  private func skipUTF8Sequence(at i: Int) throws -> Int {
    let c = bytes[i]
    let invalid = JSONSyntaxError(offset: i, reason: "invalid UTF-8")
    @inline(__always) func cont(_ k: Int) throws {
      guard k < end, bytes[k] & 0xC0 == 0x80 else { throw invalid }
    }
    switch c {
    case 0xC2...0xDF:
      try cont(i + 1)
      return i + 2
    case 0xE0...0xEF:
      try cont(i + 1)
      try cont(i + 2)
      let c1 = bytes[i + 1]
      if c == 0xE0 && c1 < 0xA0 { throw invalid }  // overlong
      if c == 0xED && c1 >= 0xA0 { throw invalid }  // surrogate code point
      return i + 3
    case 0xF0...0xF4:
      try cont(i + 1)
      try cont(i + 2)
      try cont(i + 3)
      let c1 = bytes[i + 1]
      if c == 0xF0 && c1 < 0x90 { throw invalid }  // overlong
      if c == 0xF4 && c1 >= 0x90 { throw invalid }  // beyond U+10FFFF
      return i + 4
    default:
      throw invalid
    }
  }

  // MARK: - Walking containers

  /// Calls `body` with each member of the object at `i`, in order.
  ///
  /// The key range excludes the quotes and is still escaped; the value range
  /// is exact, and the value has been validated. `body` returns false to
  /// stop early. The same walk as ``walkMembers(ofObjectAt:depth:_:)``,
  /// for callers that want whole values.
  ///
  /// - Returns: The index just after the object (or where the walk stopped).
  @discardableResult
  public func forEachMember(
    ofObjectAt i: Int, depth: Int = 0,
    _ body: (_ key: Range<Int>, _ value: Range<Int>) throws -> Bool
  ) throws -> Int {
    try walkObject(at: i, depth: depth) { key, start in
      let valueEnd = try skipValue(at: start, depth: depth + 1)
      return try body(key.range, start..<valueEnd) ? .walked(to: valueEnd) : .stop(at: valueEnd)
    }
  }

  /// Calls `body` with the range of each element of the array at `i`, in
  /// order; see ``forEachMember(ofObjectAt:depth:_:)``.
  ///
  /// - Returns: The index just after the array (or where the walk stopped).
  @discardableResult
  public func forEachElement(
    ofArrayAt i: Int, depth: Int = 0, _ body: (_ value: Range<Int>) throws -> Bool
  ) throws -> Int {
    try walkArray(at: i, depth: depth) { _, start in
      let valueEnd = try skipValue(at: start, depth: depth + 1)
      return try body(start..<valueEnd) ? .walked(to: valueEnd) : .stop(at: valueEnd)
    }
  }

  // MARK: - Walking once

  /// Walks the object at `i`, checking every byte once: for each member,
  /// `body` gets the key (its contents, still escaped, and whether they have
  /// an escape) and the index where the value starts, and either walks the
  /// value itself (validating it, at `depth + 1`) and returns the index just
  /// after it, or returns nil to have it validated and skipped.
  ///
  /// ``forEachMember(ofObjectAt:depth:_:)`` validates each value before the
  /// body sees it, so a body that walks into the value checks it again: a
  /// result line read that way was checked about three times over.
  ///
  /// Errors are those of ``skipValue(at:depth:)`` on the same object: this
  /// walk accepts and rejects the same texts, at the same bytes.
  ///
  /// - Returns: The index just after the object.
  @discardableResult
  public func walkMembers(
    ofObjectAt i: Int, depth: Int = 0, _ body: (_ key: JSONKey, _ value: Int) throws -> Int?
  ) throws -> Int {
    try walkObject(at: i, depth: depth) { key, start in try body(key, start).map { .walked(to: $0) } ?? .skip }
  }

  /// Walks the array at `i`, checking every byte once: `body` gets each
  /// element's index and start, and either walks the element itself (at
  /// `depth + 1`) and returns the index just after it, or returns nil to
  /// have it validated and skipped. See ``walkMembers(ofObjectAt:depth:_:)``.
  ///
  /// - Returns: The index just after the array.
  @discardableResult
  public func walkElements(
    ofArrayAt i: Int, depth: Int = 0, _ body: (_ index: Int, _ value: Int) throws -> Int?
  ) throws -> Int {
    try walkArray(at: i, depth: depth) { n, start in try body(n, start).map { .walked(to: $0) } ?? .skip }
  }

  /// What a walk's body did with a value.
  private enum WalkStep {
    /// Nothing: the walk validates and skips the value.
    case skip
    /// Walked it, up to the index just after it.
    case walked(to: Int)
    /// Walked it, and the walk ends there.
    case stop(at: Int)
  }

  /// The one object walker under ``walkMembers(ofObjectAt:depth:_:)`` and
  /// ``forEachMember(ofObjectAt:depth:_:)``.
  @inline(__always)
  private func walkObject(at i: Int, depth: Int, _ body: (_ key: JSONKey, _ value: Int) throws -> WalkStep) throws
    -> Int
  {
    guard i < end, bytes[i] == UInt8(ascii: "{") else {
      throw JSONSyntaxError(offset: i, reason: "expected an object")
    }
    guard depth < Self.maximumDepth else {
      throw JSONSyntaxError(offset: i, reason: "nesting deeper than \(Self.maximumDepth)")
    }
    var j = skipWhitespace(i + 1)
    if j < end && bytes[j] == UInt8(ascii: "}") { return j + 1 }
    while true {
      guard j < end, bytes[j] == UInt8(ascii: "\"") else {
        throw JSONSyntaxError(offset: j, reason: "expected a string key")
      }
      var escaped = false
      let keyEnd = try skipString(at: j, escaped: &escaped)
      let key = JSONKey(range: (j + 1)..<(keyEnd - 1), hasEscape: escaped)
      j = skipWhitespace(keyEnd)
      guard j < end, bytes[j] == UInt8(ascii: ":") else {
        throw JSONSyntaxError(offset: j, reason: "expected ':'")
      }
      j = skipWhitespace(j + 1)
      guard j < end else { throw JSONSyntaxError(offset: j, reason: "unexpected end of text") }
      let valueEnd: Int
      switch try body(key, j) {
      case .skip: valueEnd = try skipValue(at: j, depth: depth + 1)
      case .walked(let end): valueEnd = end
      case .stop(let end): return end
      }
      j = skipWhitespace(valueEnd)
      guard j < end else { throw JSONSyntaxError(offset: j, reason: "unexpected end of text") }
      if bytes[j] == UInt8(ascii: ",") {
        j = skipWhitespace(j + 1)
      } else if bytes[j] == UInt8(ascii: "}") {
        return j + 1
      } else {
        throw JSONSyntaxError(offset: j, reason: "expected ',' or '}'")
      }
    }
  }

  /// The one array walker under ``walkElements(ofArrayAt:depth:_:)`` and
  /// ``forEachElement(ofArrayAt:depth:_:)``.
  @inline(__always)
  private func walkArray(at i: Int, depth: Int, _ body: (_ index: Int, _ value: Int) throws -> WalkStep) throws
    -> Int
  {
    guard i < end, bytes[i] == UInt8(ascii: "[") else {
      throw JSONSyntaxError(offset: i, reason: "expected an array")
    }
    guard depth < Self.maximumDepth else {
      throw JSONSyntaxError(offset: i, reason: "nesting deeper than \(Self.maximumDepth)")
    }
    var j = skipWhitespace(i + 1)
    if j < end && bytes[j] == UInt8(ascii: "]") { return j + 1 }
    var n = 0
    while true {
      guard j < end else { throw JSONSyntaxError(offset: j, reason: "unexpected end of text") }
      let valueEnd: Int
      switch try body(n, j) {
      case .skip: valueEnd = try skipValue(at: j, depth: depth + 1)
      case .walked(let end): valueEnd = end
      case .stop(let end): return end
      }
      n += 1
      j = skipWhitespace(valueEnd)
      guard j < end else { throw JSONSyntaxError(offset: j, reason: "unexpected end of text") }
      if bytes[j] == UInt8(ascii: ",") {
        j = skipWhitespace(j + 1)
      } else if bytes[j] == UInt8(ascii: "]") {
        return j + 1
      } else {
        throw JSONSyntaxError(offset: j, reason: "expected ',' or ']'")
      }
    }
  }
}
