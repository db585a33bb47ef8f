import Foundation

/// A failed request: what `<field>_error` holds.
struct FailureRecord: Sendable {
  var status: Int?
  var code: String?
  /// The message as escaped JSON string contents.
  var message: [UInt8]
  var tally: TokenTally?
  var model: String?

  init(status: Int?, code: String?, message: [UInt8], tally: TokenTally? = nil, model: String? = nil) {
    self.status = status
    self.code = code
    self.message = message
    self.tally = tally
    self.model = model
  }

  /// For a request that has neither an answer nor an error line.
  static func missing(code: String, message: String? = nil) -> FailureRecord {
    var escaped: [UInt8] = []
    JSONWriter.appendEscaped(
      (message ?? "the batch ended without an answer or an error for this request").utf8, to: &escaped)
    return FailureRecord(status: nil, code: code, message: escaped)
  }

  /// The failure a result line reports: its status, and the code and
  /// message of `error` or, for an HTTP failure, of `response.body.error`.
  init(from line: ResultLine) {
    let s = line.scanner
    self.init(status: line.statusCode, code: nil, message: [])
    var errorObject: Range<Int>?
    if let error = line.error, s.kind(at: error.lowerBound) == .object {
      errorObject = error
    } else if let body = line.body, s.kind(at: body.lowerBound) == .object,
      let error = try? s.member(Array("error".utf8), ofObjectAt: body.lowerBound),
      s.kind(at: error.lowerBound) == .object
    {
      errorObject = error
    }
    if let errorObject {
      if let code = try? s.member(Array("code".utf8), ofObjectAt: errorObject.lowerBound) {
        self.code = s.string(at: code)
      }
      if let message = try? s.member(Array("message".utf8), ofObjectAt: errorObject.lowerBound),
        s.kind(at: message.lowerBound) == .string
      {
        self.message = Array(s.bytes[(message.lowerBound + 1)..<(message.upperBound - 1)])
      }
    }
    if self.message.isEmpty {
      JSONWriter.appendEscaped("request failed with HTTP \(status.map(String.init) ?? "error")".utf8, to: &self.message)
    }
    let summary = line.summary
    if line.body != nil, summary.tally.input + summary.tally.output > 0 {
      tally = summary.tally
      model = summary.model.map { String(decoding: s.decodeString(contents: $0), as: UTF8.self) }
    }
  }

  /// Whether resubmitting may succeed: 429 and 5xx, requests that never ran
  /// (expired, cancelled, timed out, not run), and batches refused for the
  /// enqueued-token or -request limit; any other 4xx is final.
  var isRetryable: Bool {
    if let status { return status == 429 || status >= 500 }
    return Self.retryableCodes.contains(code ?? "")
  }

  static let retryableCodes: Set<String> = [
    "batch_expired", "batch_cancelled", "request_timeout", "request_not_run", "token_limit_exceeded",
    "rate_limit_exceeded", "server_error", "request_limit_exceeded",
  ]

  func appendJSON(to out: inout [UInt8]) {
    out.append(contentsOf: Array("{\"status\":".utf8))
    if let status { JSONWriter.appendInteger(status, to: &out) } else { out.append(contentsOf: Array("null".utf8)) }
    out.append(contentsOf: Array(",\"code\":".utf8))
    if let code { JSONWriter.appendString(code, to: &out) } else { out.append(contentsOf: Array("null".utf8)) }
    out.append(contentsOf: Array(",\"message\":\"".utf8))
    out.append(contentsOf: message)
    out.append(contentsOf: Array("\"}".utf8))
  }
}
