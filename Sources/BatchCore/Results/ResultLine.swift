/// The parts of one output or error line that the pipeline uses.
///
/// A line is `{"id", "custom_id", "response": {"status_code", "body"} | null,
/// "error": {"code", "message"} | null}`; HTTP failures put their error in
/// `response.body.error`, others in `error`.
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

  private static let customIDKey = Array("custom_id".utf8)
  private static let responseKey = Array("response".utf8)
  private static let errorKey = Array("error".utf8)
  private static let statusCodeKey = Array("status_code".utf8)
  private static let bodyKey = Array("body".utf8)

  /// Parses the top level of a line.
  ///
  /// - Throws: ``JSONSyntaxError`` if the line is not a JSON object.
  init(_ bytes: UnsafeBufferPointer<UInt8>) throws {
    scanner = JSONScanner(bytes)
    let start = scanner.skipWhitespace(0)
    guard scanner.kind(at: start) == .object else {
      throw JSONSyntaxError(offset: start, reason: "not a JSON object")
    }
    var id: Range<Int>?
    var response: Range<Int>?
    var error: Range<Int>?
    let scanner = self.scanner
    try scanner.forEachMember(ofObjectAt: start) { key, value in
      if scanner.key(key, equals: Self.customIDKey) {
        if scanner.kind(at: value.lowerBound) == .string { id = (value.lowerBound + 1)..<(value.upperBound - 1) }
      } else if scanner.key(key, equals: Self.responseKey) {
        response = value
      } else if scanner.key(key, equals: Self.errorKey) {
        error = value
      }
      return true
    }
    self.customID = id
    self.response = response
    self.error = error
    // One walk over the response finds the status and the body.
    if let response, scanner.kind(at: response.lowerBound) == .object {
      var status: Int?
      var body: Range<Int>?
      try scanner.forEachMember(ofObjectAt: response.lowerBound) { key, value in
        if scanner.key(key, equals: Self.statusCodeKey) {
          status = scanner.integer(at: value)
        } else if scanner.key(key, equals: Self.bodyKey) {
          body = value
        }
        return true
      }
      self.statusCode = status
      self.body = body
    }
  }

  /// Only the `custom_id`: the walk over the top level stops there, so the
  /// rest of the line is neither read nor checked. The pipeline's request
  /// lines start with it and are read without the walk.
  ///
  /// - Throws: ``JSONSyntaxError`` if the line is not JSON up to the id.
  static func customID(of bytes: UnsafeBufferPointer<UInt8>) throws -> Range<Int>? {
    let prefix = #"{"custom_id":""#.utf8
    if bytes.count > prefix.count && bytes.starts(with: prefix) {
      var i = prefix.count
      while i < bytes.count {
        let c = bytes[i]
        if c == UInt8(ascii: "\"") { return prefix.count..<i }
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
      guard scanner.key(key, equals: customIDKey) else { return true }
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
