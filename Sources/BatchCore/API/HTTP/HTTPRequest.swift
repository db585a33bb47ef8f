import Foundation

/// One HTTP request, as the client builds it.
public struct HTTPRequest: Sendable, Equatable {
  /// The method: `GET`, `POST` or `DELETE`.
  public var method: String
  /// The full URL.
  public var url: URL
  /// The headers, by name as sent.
  public var headers: [String: String]
  /// The body of a ``HTTPTransport/send(_:)`` request, or `nil`.
  public var body: Data?
  /// The idle timeout in whole seconds: the call fails after this long with less than a byte a second.
  public var timeout: Int
  /// The total time the call may take, in seconds, however steadily the
  /// answer trickles in: twice the idle timeout unless set.
  public var deadline: Int
  /// Whether the request must go out on a connection of its own.
  ///
  /// libcurl silently sends a request again on a new connection when the
  /// reused keep-alive connection it went out on closes before any answer.
  /// The server may have acted on the first copy, so a request that creates
  /// something paid must never travel on a reused connection.
  public var requiresFreshConnection: Bool

  /// Creates a request.
  ///
  /// - Parameters:
  ///   - method: The method.
  ///   - url: The full URL.
  ///   - headers: The headers.
  ///   - body: The in-memory body, if any.
  ///   - timeout: The idle timeout in whole seconds, at least 1.
  ///   - requiresFreshConnection: Whether the request must not reuse a connection.
  public init(
    method: String, url: URL, headers: [String: String] = [:], body: Data? = nil, timeout: Int = 60,
    requiresFreshConnection: Bool = false
  ) {
    self.method = method
    self.url = url
    self.headers = headers
    self.body = body
    self.timeout = max(1, timeout)
    self.deadline = 2 * max(1, timeout)
    self.requiresFreshConnection = requiresFreshConnection
  }

  /// The value of header `name`, compared without case.
  public func header(_ name: String) -> String? {
    headers.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value
  }
}
