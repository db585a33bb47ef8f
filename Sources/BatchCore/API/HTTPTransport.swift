import Foundation

/// Moves HTTP requests and responses; the client's only door to the network.
///
/// ``CurlTransport`` is the real one; tests inject a fake. A transport
/// reports HTTP error statuses as responses, not errors: it throws only when
/// no response arrived (``TransportError``), `CancellationError` when the
/// task was cancelled, or ``ToolError`` when the machine cannot make a
/// request at all (no libcurl), which no retry would mend.
public protocol HTTPTransport: Sendable {
  /// Sends a request with a small in-memory body (or none) and returns the whole response.
  ///
  /// - Parameter request: The request; its ``HTTPRequest/body`` is sent as is.
  /// - Returns: The status, headers and body.
  /// - Throws: ``TransportError`` when no response arrived.
  func send(_ request: HTTPRequest) async throws -> HTTPResponse

  /// Sends a request whose body is the file at `path`, streamed with a `Content-Length`.
  ///
  /// - Parameters:
  ///   - request: The request; its ``HTTPRequest/body`` is ignored.
  ///   - path: The file that is the whole body.
  /// - Returns: The status, headers and body of the response.
  /// - Throws: ``TransportError`` when no response arrived.
  func upload(_ request: HTTPRequest, fromFile path: String) async throws -> HTTPResponse

  /// Sends a request and streams the response body into the file at `path`.
  ///
  /// The file is replaced whatever the status, so that an error body can be read from it.
  ///
  /// - Parameters:
  ///   - request: The request.
  ///   - path: Where the body goes; it is created or replaced.
  /// - Returns: The status and headers, and how many bytes were written.
  /// - Throws: ``TransportError`` when no response arrived or the body was cut off.
  func download(_ request: HTTPRequest, toFile path: String) async throws -> HTTPDownload
}

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

/// The status line and headers of a response.
public struct HTTPResponseHead: Sendable, Equatable {
  /// The HTTP status code.
  public var status: Int
  /// The headers, names in lowercase.
  public var headers: [String: String]

  /// Creates a response head; header names are lowercased.
  public init(status: Int, headers: [String: String] = [:]) {
    self.status = status
    self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
  }

  /// The value of header `name`, compared without case.
  public func header(_ name: String) -> String? { headers[name.lowercased()] }

  /// Whether the status is 2xx.
  public var isSuccess: Bool { (200..<300).contains(status) }
}

/// A whole response held in memory (small JSON answers only).
public struct HTTPResponse: Sendable, Equatable {
  /// The status and headers.
  public var head: HTTPResponseHead
  /// The body.
  public var body: Data
  /// Whether the body is only a prefix: the answer passed ``ReadLimits``.
  public var isTruncated = false

  /// Creates a response.
  public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
    self.head = HTTPResponseHead(status: status, headers: headers)
    self.body = body
  }

  /// Creates a response from its head and body.
  public init(head: HTTPResponseHead, body: Data) {
    self.head = head
    self.body = body
  }

  /// The HTTP status code.
  public var status: Int { head.status }
}

/// The result of a download: the response head and the size of the body written to disk.
public struct HTTPDownload: Sendable, Equatable {
  /// The status and headers.
  public var head: HTTPResponseHead
  /// How many bytes of body are in the file.
  public var bytesWritten: Int64

  /// Creates a download result.
  public init(head: HTTPResponseHead, bytesWritten: Int64) {
    self.head = head
    self.bytesWritten = bytesWritten
  }
}

/// A request that got no complete response.
public struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
  /// Why no response arrived.
  public enum Kind: Sendable, Equatable {
    /// The server could not be reached: refused, unknown host, no network.
    /// Nothing was sent, so the server certainly did not act.
    case cannotConnect
    /// The idle timeout expired.
    case timedOut
    /// The connection dropped after it was established.
    case connectionLost
    /// Anything else (TLS failure, bad response, a local file error).
    case other
  }

  /// Why no response arrived.
  public var kind: Kind
  /// A short, lowercase reason for messages, such as `connection refused`.
  public var reason: String

  /// Creates a transport error.
  public init(_ kind: Kind, _ reason: String) {
    self.kind = kind
    self.reason = reason
  }

  /// Whether the request may have reached the server, so that it may have acted on it.
  public var mayHaveReachedServer: Bool { kind != .cannotConnect }

  /// The ``reason``.
  public var description: String { reason }
}
