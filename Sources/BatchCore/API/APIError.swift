import Foundation

/// What repeating a request would do, which decides when it may be retried.
public enum RequestKind: Sendable, Equatable {
  /// A `GET`: repeating it changes nothing.
  case read
  /// A `DELETE`: repeating it changes nothing more (a 404 after a retry means done).
  case delete
  /// `POST /v1/batches/{id}/cancel`: repeating it is harmless, and a 409 is a final answer.
  case cancel
  /// A `POST` that creates something paid (an upload, a batch): repeated
  /// only when the server certainly did not act on it.
  case create
}

/// A request to the API that failed, with everything needed to decide what to do next.
///
/// ``isRetryable`` says whether the client may send it again by itself;
/// ``outcomeUnknown`` says that a paid request may or may not have taken
/// effect, so the caller must look (list files or batches) before sending it
/// again. ``toolError(for:)`` turns it into the one-line message and exit
/// status of a tool.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
  /// How the request failed.
  public enum Failure: Sendable, Equatable {
    /// The server answered with an error status.
    /// - Parameters:
    ///   - status: The HTTP status.
    ///   - detail: The decoded error body, its message already redacted.
    ///   - retryAfter: The wait the server asked for, in seconds.
    case http(status: Int, detail: APIErrorEnvelope.Detail?, retryAfter: Double?)
    /// No complete response arrived.
    case transport(TransportError)
    /// A download ended with a different number of bytes than `Content-Length` announced.
    case truncated(expected: Int64, received: Int64)
    /// A success status whose body is not what the API sends.
    case invalidResponse(status: Int, reason: String)
  }

  /// How the request failed.
  public var failure: Failure
  /// The method, `GET`, `POST` or `DELETE`.
  public var method: String
  /// The URL path, such as `/v1/files/file-abc/content`.
  public var path: String
  /// What repeating the request would do.
  public var kind: RequestKind

  /// Creates an error.
  public init(_ failure: Failure, method: String, path: String, kind: RequestKind) {
    self.failure = failure
    self.method = method
    self.path = path
    self.kind = kind
  }

  /// The request as messages name it: `GET /v1/batches/batch_abc`.
  public var operation: String { "\(method) \(path)" }

  /// The HTTP status, when the server answered.
  public var status: Int? {
    switch failure {
    case .http(let status, _, _), .invalidResponse(let status, _): return status
    case .transport, .truncated: return nil
    }
  }

  /// The error body of an HTTP error.
  public var detail: APIErrorEnvelope.Detail? {
    if case .http(_, let detail, _) = failure { return detail }
    return nil
  }

  /// The error code the server gave, such as `rate_limit_exceeded` or `token_limit_exceeded`.
  public var code: String? { detail?.code }

  /// The wait the server asked for with `Retry-After` or `retry-after-ms`, in seconds.
  public var retryAfter: Double? {
    if case .http(_, _, let retryAfter) = failure { return retryAfter }
    return nil
  }

  /// Whether the server refused for the model's enqueued-token limit, which
  /// frees only when running batches finish, so retrying soon is useless.
  public var isTokenLimit: Bool {
    let message = detail?.message?.lowercased() ?? ""
    return code == "token_limit_exceeded" || message.contains("enqueued token limit")
      || message.contains("enqueued request limit")
  }

  /// Whether the client may send the request again by itself.
  ///
  /// Reads and deletes are retried on 408, 409, 429, 5xx, any transport
  /// error and a truncated download; a cancel likewise except 409. A request
  /// that creates something is retried only on 429 or when the connection
  /// was never made, the two cases where the server certainly did not act.
  /// A 429 for the enqueued-token limit or an exhausted quota is never
  /// retried: it lasts far longer than any backoff.
  public var isRetryable: Bool {
    switch failure {
    case .http(let status, _, _):
      if status == 429 { return !isTokenLimit && code != "insufficient_quota" }
      switch kind {
      case .read, .delete: return status == 408 || status == 409 || status >= 500
      case .cancel: return status == 408 || status >= 500
      case .create: return false
      }
    case .transport(let error):
      return kind != .create || !error.mayHaveReachedServer
    case .truncated:
      return kind == .read
    case .invalidResponse:
      return false
    }
  }

  /// Whether a request that creates something may have done so although it
  /// failed: a 5xx or 408, a timeout, a connection lost after sending, or an
  /// unreadable success. The caller must reconcile before trying again.
  public var outcomeUnknown: Bool {
    guard kind == .create else { return false }
    switch failure {
    case .http(let status, _, _): return status == 408 || status >= 500
    case .transport(let error): return error.mayHaveReachedServer
    case .truncated: return false
    case .invalidResponse(let status, _): return (200..<300).contains(status)
    }
  }

  /// A few words on what happened, for retry notes: `HTTP 503`, `connection refused`.
  public var summary: String {
    switch failure {
    case .http(let status, _, _): return "HTTP \(status)"
    case .transport(let error): return error.reason
    case .truncated(let expected, let received):
      return received < expected
        ? "download cut short (got \(received) of \(expected) bytes)"
        : "download size mismatch (got \(received) bytes, expected \(expected))"
    case .invalidResponse(let status, _): return "unexpected response (HTTP \(status))"
    }
  }

  /// The tool error for this failure: its exit status and one-line message.
  ///
  /// 401 and 403 exit 77 with `the API key was refused (HTTP 401)` and never
  /// the server's text, which echoes part of the key. 429, 408, 5xx,
  /// transport errors, truncated downloads and unknown outcomes exit 75 and
  /// end in `; try again later`. Other statuses exit 1 with the server's
  /// message, redacted.
  ///
  /// - Parameter operation: The name of the request in the message; by
  ///   default ``operation`` (`GET /v1/files/file-xyz/content`).
  /// - Returns: The tool error.
  public func toolError(for operation: String? = nil) -> ToolError {
    let subject = operation ?? self.operation
    switch failure {
    case .http(let status, let detail, _):
      if status == 401 || status == 403 {
        return ToolError(.keyRefused, "\(subject): the API key was refused (HTTP \(status))")
      }
      let text = Self.oneLine(detail?.message).map { ": \($0)" } ?? ""
      if status == 429 || status == 408 || status >= 500 {
        return ToolError(.tryAgainLater, "\(subject): HTTP \(status)\(text); try again later")
      }
      return ToolError(.failure, "\(subject): HTTP \(status)\(text)")
    case .transport, .truncated:
      return ToolError(.tryAgainLater, "\(subject): \(summary); try again later")
    case .invalidResponse(let status, let reason):
      let message = "\(subject): unexpected response (HTTP \(status)): \(Self.oneLine(reason) ?? "")"
      return outcomeUnknown
        ? ToolError(.tryAgainLater, message + "; try again later")
        : ToolError(.failure, message)
    }
  }

  /// The message of ``toolError(for:)``.
  public var description: String { toolError().message }

  /// `text` on one line, at most 300 characters, without a final full stop.
  static func oneLine(_ text: String?) -> String? {
    guard let text else { return nil }
    var line = text.split(whereSeparator: { $0.isNewline || $0 == "\t" }).joined(separator: " ")
      .trimmingCharacters(in: .whitespaces)
    if line.count > 300 { line = String(line.prefix(297)) + "..." }
    if line.hasSuffix(".") && !line.hasSuffix("..") { line.removeLast() }
    return line.isEmpty ? nil : line
  }
}
