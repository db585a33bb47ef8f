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

  /// Sends a request whose body is streamed from disk, with a `Content-Length`.
  ///
  /// - Parameters:
  ///   - request: The request; its ``HTTPRequest/body`` is ignored.
  ///   - body: The head, file and tail that make the body.
  /// - Returns: The status, headers and body of the response.
  /// - Throws: ``TransportError`` when no response arrived; ``ToolError``
  ///   when the file cannot be read or is shorter than ``FileBody/fileLength``.
  func upload(_ request: HTTPRequest, body: FileBody) async throws -> HTTPResponse

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
