// Results/: result lines read and joined to items: one walk parses a
// line (ResultLine, BodySummary), cursors walk each round's files in step,
// failures are classified, and merge's chunks put the merged lines together.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The parts of one output or error line that the pipeline uses.
///
/// A line is `{"id", "custom_id", "response": {"status_code", "body"} | null,
/// "error": {"code", "message"} | null}`; HTTP failures put their error in
/// `response.body.error`, others in `error`.
///
/// One walk over the line validates every byte once and, on the way, picks
/// up what the answer and the cost need from the body (``BodySummary``).
/// Walking each object with ``JSONScanner/forEachMember(ofObjectAt:depth:_:)``
/// and then again into the values it had validated checked the body three
/// times; that was 60% of merge's time.
struct ResultLine {
  let scanner: JSONScanner
  /// The `custom_id` string's contents, still escaped.
  var customID: Range<Int>?
  var response: Range<Int>?
  var error: Range<Int>?
  /// The HTTP status of the request, when there is a response.
  private(set) var statusCode: Int?
  /// The response body, when there is one.
  private(set) var body: Range<Int>?
  /// What the walk found in the body.
  private(set) var summary = BodySummary()

  /// Parses a line: the whole line is validated.
  ///
  /// The values read are those of the last member with each name, as with
  /// ``JSONScanner/member(_:ofObjectAt:)``.
  ///
  /// - Throws: ``JSONSyntaxError`` if the line is not one JSON object.
  init(_ bytes: UnsafeBufferPointer<UInt8>) throws {
    scanner = JSONScanner(bytes)
    let s = scanner
    let start = s.skipWhitespace(0)
    guard s.kind(at: start) == .object else {
      throw JSONSyntaxError(offset: start, reason: "not a JSON object")
    }
    var id: Range<Int>?
    var response: Range<Int>?
    var error: Range<Int>?
    var status: Int?
    var body: Range<Int>?
    var summary = BodySummary()
    let objectEnd = try s.walkMembers(ofObjectAt: start) { key, value in
      if s.key(key, equals: "custom_id") {
        let valueEnd = try s.skipValue(at: value, depth: 1)
        if s.bytes[value] == UInt8(ascii: "\"") { id = (value + 1)..<(valueEnd - 1) }
        return valueEnd
      }
      if s.key(key, equals: "response") {
        // The last response counts: what an earlier one held is forgotten.
        status = nil
        body = nil
        summary = BodySummary()
        guard s.bytes[value] == UInt8(ascii: "{") else {
          let valueEnd = try s.skipValue(at: value, depth: 1)
          response = value..<valueEnd
          return valueEnd
        }
        let valueEnd = try s.walkMembers(ofObjectAt: value, depth: 1) { key, value in
          if s.key(key, equals: "status_code") {
            let valueEnd = try s.skipValue(at: value, depth: 2)
            status = s.integer(at: value..<valueEnd)
            return valueEnd
          }
          guard s.key(key, equals: "body") else { return nil }
          summary = BodySummary()
          let valueEnd: Int
          if s.bytes[value] == UInt8(ascii: "{") {
            valueEnd = try summary.walk(s, objectAt: value, depth: 2)
          } else {
            valueEnd = try s.skipValue(at: value, depth: 2)
          }
          body = value..<valueEnd
          return valueEnd
        }
        response = value..<valueEnd
        return valueEnd
      }
      if s.key(key, equals: "error") {
        let valueEnd = try s.skipValue(at: value, depth: 1)
        error = value..<valueEnd
        return valueEnd
      }
      return nil
    }
    // A second object on the line would be a second answer that no reader
    // agrees on: the line is refused.
    let trailing = s.skipWhitespace(objectEnd)
    guard trailing == s.end else {
      throw JSONSyntaxError(offset: trailing, reason: "unexpected text after the JSON object")
    }
    self.customID = id
    self.response = response
    self.error = error
    self.statusCode = status
    self.body = body
    self.summary = summary
  }

  /// Only the `custom_id`: the walk over the top level stops there, so the
  /// rest of the line is neither read nor checked. The pipeline's request
  /// lines start with it and are read without the walk.
  ///
  /// - Throws: ``JSONSyntaxError`` if the line is not JSON up to the id.
  static func customID(of bytes: UnsafeBufferPointer<UInt8>) throws -> Range<Int>? {
    let prefix: StaticString = #"{"custom_id":""#
    let n = prefix.utf8CodeUnitCount
    if bytes.count > n && memcmp(bytes.baseAddress!, prefix.utf8Start, n) == 0 {
      var i = n
      while i < bytes.count {
        let c = bytes[i]
        if c == UInt8(ascii: "\"") { return n..<i }
        i += c == UInt8(ascii: "\\") ? 2 : 1
      }
    }
    let scanner = JSONScanner(bytes)
    let start = scanner.skipWhitespace(0)
    guard scanner.kind(at: start) == .object else {
      throw JSONSyntaxError(offset: start, reason: "not a JSON object")
    }
    var id: Range<Int>?
    try scanner.forEachMember(ofObjectAt: start) { key, value in
      guard scanner.key(key, equals: "custom_id") else { return true }
      if scanner.kind(at: value.lowerBound) == .string { id = (value.lowerBound + 1)..<(value.upperBound - 1) }
      return false
    }
    return id
  }

  /// The decoded `custom_id`.
  var decodedCustomID: [UInt8]? {
    customID.map { scanner.decodeString(contents: $0) }
  }

  /// Whether the line is a success: status 200 and no error.
  var isSuccess: Bool {
    let noError = error.map { scanner.kind(at: $0.lowerBound) == .null } ?? true
    return noError && statusCode == 200
  }
}
