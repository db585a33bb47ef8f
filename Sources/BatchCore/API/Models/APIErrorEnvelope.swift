import Foundation

/// The body of an HTTP error: `{"error": {"type", "code", "message", "param"}}`.
///
/// Also accepted: `{"error": "text"}` and a bare `{"message": ...}`, which
/// some compatible servers and proxies send.
public struct APIErrorEnvelope: Codable, Sendable, Equatable {
  /// The error, when the body had one.
  public var error: Detail?

  /// What went wrong, as the server says it.
  public struct Detail: Codable, Sendable, Equatable {
    /// The kind, such as `invalid_request_error`.
    public var type: String?
    /// The code, such as `rate_limit_exceeded`; numbers are kept as text.
    public var code: String?
    /// The server's explanation; may echo part of the key, so redact it before showing.
    public var message: String?
    /// The parameter at fault.
    public var param: String?

    /// Creates a detail.
    public init(type: String? = nil, code: String? = nil, message: String? = nil, param: String? = nil) {
      self.type = type
      self.code = code
      self.message = message
      self.param = param
    }

    /// Decodes a detail, tolerating nulls and numeric codes.
    public init(from decoder: any Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      type = decoder.serverText(c.apiString(.type), limit: 100)
      code = decoder.serverText(c.apiString(.code), limit: 100)
      message = decoder.serverText(c.apiString(.message))
      param = decoder.serverText(c.apiString(.param))
    }
  }

  enum CodingKeys: String, CodingKey {
    case error, type, code, message, param
  }

  /// Creates an envelope.
  public init(error: Detail?) { self.error = error }

  /// Decodes any of the accepted shapes.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    if let detail = try? c.decodeIfPresent(Detail.self, forKey: .error) {
      error = detail
    } else if let text = decoder.serverText(c.apiString(.error)) {
      error = Detail(message: text)
    } else if let message = decoder.serverText(c.apiString(.message)) {
      error = Detail(
        type: decoder.serverText(c.apiString(.type), limit: 100), code: decoder.serverText(c.apiString(.code), limit: 100),
        message: message, param: decoder.serverText(c.apiString(.param)))
    } else {
      error = nil
    }
  }

  /// Encodes `{"error": {...}}`.
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encodeIfPresent(error, forKey: .error)
  }
}
