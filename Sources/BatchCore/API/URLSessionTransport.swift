#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real transport: one `URLSession` per process, over libcurl on Linux.
///
/// It works around what FoundationNetworking does on Linux
/// (`reference/swift-on-linux.md`): uploads stream from a file with
/// `upload(for:fromFile:)`, which sends a `Content-Length` (a body stream
/// would go out chunked, and an in-memory body costs twice the file in RAM);
/// downloads go to a file with `download(for:)` and are moved with
/// `rename(2)` (`FileManager.replaceItemAt` destroys files in 6.3.x);
/// timeouts are whole seconds; redirects of anything but `GET` are refused,
/// because a POST redirected with 307/308 loses its body; and a request that
/// ``HTTPRequest/requiresFreshConnection`` gets a session of its own, because
/// libcurl replays a request whose reused connection closes unanswered.
public final class URLSessionTransport: HTTPTransport, @unchecked Sendable {
  // @unchecked: URLSession is thread-safe and the delegate holds no state.

  /// The transport shared by the whole process, so connections are reused.
  public static let shared = URLSessionTransport()

  private let session: URLSession
  private let exchange: BoundedExchange
  private let limits: ReadLimits

  /// Creates a transport with its own session.
  ///
  /// - Parameter maximumConnectionsPerHost: How many transfers run at once
  ///   to one host. The default 8 lets several uploads or downloads overlap
  ///   while a poll still gets through (libcurl's default is 6).
  /// - Parameter limits: How much of an answer is read (``ReadLimits``).
  public init(maximumConnectionsPerHost: Int = 8, limits: ReadLimits = .standard) {
    exchange = BoundedExchange()
    self.limits = limits
    session = Self.makeSession(maximumConnectionsPerHost: maximumConnectionsPerHost, delegate: exchange)
  }

  /// A session with no cache, no cookies, the redirect guard and the bounded reads.
  private static func makeSession(maximumConnectionsPerHost: Int, delegate: BoundedExchange) -> URLSession {
    let configuration = URLSessionConfiguration.ephemeral
    configuration.httpMaximumConnectionsPerHost = maximumConnectionsPerHost
    configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
    configuration.urlCache = nil
    configuration.httpCookieStorage = nil
    configuration.httpShouldSetCookies = false
    configuration.timeoutIntervalForRequest = 60
    return URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
  }

  /// Runs `body` with the shared session, or with a one-off session (and so
  /// a new connection) when the request must not be replayed by libcurl.
  private func withSession<T>(for request: HTTPRequest, _ body: (URLSession) async throws -> T) async throws -> T {
    guard request.requiresFreshConnection else { return try await body(session) }
    // A session has its own libcurl connection cache: its first request
    // cannot go out on a reused connection. Paid requests are few, so the
    // extra handshake costs nothing that matters.
    let oneOff = Self.makeSession(maximumConnectionsPerHost: 1, delegate: exchange)
    defer { oneOff.finishTasksAndInvalidate() }
    return try await body(oneOff)
  }

  /// Sends a request with its in-memory body and returns the whole response.
  ///
  /// - Parameter request: The request.
  /// - Returns: The response.
  /// - Throws: ``TransportError``, or `CancellationError` when the task was cancelled.
  public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
    let urlRequest = makeURLRequest(request, body: request.body)
    do {
      return try await withDeadline(request.deadline) { [self] in
        try await withSession(for: request) { try await exchange.run($0.dataTask(with: urlRequest), limits: limits) }
      }
    } catch {
      throw Self.translate(error)
    }
  }

  /// Streams the file at `path` as the request body, with a `Content-Length`.
  ///
  /// - Parameters:
  ///   - request: The request; its in-memory body is ignored.
  ///   - path: The file that is the body.
  /// - Returns: The response.
  /// - Throws: ``TransportError``, or `CancellationError` when the task was cancelled.
  public func upload(_ request: HTTPRequest, fromFile path: String) async throws -> HTTPResponse {
    let urlRequest = makeURLRequest(request, body: nil)
    do {
      let file = URL(fileURLWithPath: path)
      return try await withDeadline(request.deadline) { [self] in
        try await withSession(for: request) {
          try await exchange.run($0.uploadTask(with: urlRequest, fromFile: file), limits: limits)
        }
      }
    } catch {
      throw Self.translate(error)
    }
  }

  /// Streams the response body to a temporary file, then renames it to `path`.
  ///
  /// - Parameters:
  ///   - request: The request.
  ///   - path: Where the body goes; it is created or replaced.
  /// - Returns: The response head and the number of bytes written.
  /// - Throws: ``TransportError``, or `CancellationError` when the task was cancelled.
  public func download(_ request: HTTPRequest, toFile path: String) async throws -> HTTPDownload {
    let urlRequest = makeURLRequest(request, body: nil)
    let temporary: URL
    let response: URLResponse
    do {
      (temporary, response) = try await withDeadline(request.deadline) { [self] in
        try await withSession(for: request) { try await $0.download(for: urlRequest) }
      }
    } catch {
      throw Self.translate(error)
    }
    defer { unlink(temporary.path) }
    let head = try Self.head(of: response)
    try Self.move(temporary.path, to: path)
    var info = stat()
    guard stat(path, &info) == 0 else {
      throw TransportError(.other, "cannot read '\(path)': \(systemReason())")
    }
    return HTTPDownload(head: head, bytesWritten: Int64(info.st_size))
  }

  /// Builds the `URLRequest` for `request`.
  private func makeURLRequest(_ request: HTTPRequest, body: Data?) -> URLRequest {
    var urlRequest = URLRequest(url: request.url)
    urlRequest.httpMethod = request.method
    // Whole seconds: FoundationNetworking truncates, and 0 fails at once.
    urlRequest.timeoutInterval = TimeInterval(max(1, request.timeout))
    for (name, value) in request.headers {
      urlRequest.setValue(value, forHTTPHeaderField: name)
    }
    if let body {
      urlRequest.httpBody = body
    } else if request.method == "POST" && request.header("Content-Length") == nil {
      // An explicit empty body makes libcurl send Content-Length: 0, which
      // some proxies insist on for a POST.
      urlRequest.httpBody = Data()
    }
    return urlRequest
  }

  /// The status and headers of `response`.
  static func head(of response: URLResponse) throws -> HTTPResponseHead {
    guard let http = response as? HTTPURLResponse else {
      throw TransportError(.other, "the answer is not an HTTP response")
    }
    var headers: [String: String] = [:]
    for (name, value) in http.allHeaderFields {
      headers[String(describing: name).lowercased()] = String(describing: value)
    }
    return HTTPResponseHead(status: http.statusCode, headers: headers)
  }

  /// Turns a `URLError` into a ``TransportError``, or `CancellationError`.
  static func translate(_ error: Error) -> Error {
    if error is CancellationError || error is TransportError { return error }
    guard let urlError = error as? URLError else {
      return TransportError(.other, "\(error)")
    }
    switch urlError.code {
    case .cancelled:
      return Task.isCancelled ? CancellationError() : TransportError(.other, "request cancelled")
    case .cannotConnectToHost:
      return TransportError(.cannotConnect, "connection refused")
    case .cannotFindHost, .dnsLookupFailed:
      return TransportError(.cannotConnect, "cannot find the host")
    case .notConnectedToInternet:
      return TransportError(.cannotConnect, "not connected to the network")
    case .timedOut:
      return TransportError(.timedOut, "timed out")
    case .networkConnectionLost:
      return TransportError(.connectionLost, "connection lost")
    case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
      .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot, .clientCertificateRejected:
      return TransportError(.other, "TLS connection failed")
    case .badServerResponse, .cannotParseResponse, .zeroByteResource:
      // What libcurl's "empty reply" becomes: the server closed the connection.
      return TransportError(.connectionLost, "connection closed without a valid response")
    case .unknown:
      // What a body cut off before its Content-Length becomes.
      return TransportError(.connectionLost, "transfer interrupted")
    default:
      return TransportError(.other, "network error \(urlError.code.rawValue)")
    }
  }

  /// Moves `source` to `destination` with `rename(2)`, copying when they are
  /// on different file systems (the download lands in `$TMPDIR`).
  private static func move(_ source: String, to destination: String) throws {
    if rename(source, destination) == 0 { return }
    let renameError = errno
    guard renameError == EXDEV else {
      throw TransportError(.other, "cannot write '\(destination)': \(systemReason(renameError))")
    }
    do {
      try APIFileIO.copy(from: source, to: destination)
    } catch let error as ToolError {
      throw TransportError(.other, error.message)
    }
  }
}

/// Refuses redirects that could lose a body or leak the key.
///
/// Only `GET` follows redirects, never from https down to http, and without
/// the credentials when the redirect leaves the original host.
/// (``BoundedExchange`` is the session's delegate and asks here.)
enum RedirectGuard {
  /// The request to follow, or `nil` to hand the 3xx response back to the caller.
  static func follow(original: URLRequest?, redirect: URLRequest) -> URLRequest? {
    guard let original, let from = original.url, let to = redirect.url,
      (original.httpMethod ?? "GET") == "GET"
    else { return nil }
    let fromScheme = from.scheme?.lowercased()
    let toScheme = to.scheme?.lowercased()
    if fromScheme == "https" && toScheme != "https" { return nil }
    var redirect = redirect
    if from.host?.lowercased() != to.host?.lowercased() || from.port != to.port || fromScheme != toScheme {
      for name in ["Authorization", "api-key", "OpenAI-Organization", "OpenAI-Project"] {
        redirect.setValue(nil, forHTTPHeaderField: name)
      }
    }
    return redirect
  }
}
