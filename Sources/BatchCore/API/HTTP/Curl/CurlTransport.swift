#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The real transport: libcurl's easy interface, one blocking transfer per
/// thread, with the answer read under ``ReadLimits``.
///
/// It calls libcurl directly rather than through `URLSession`, for what
/// FoundationNetworking on Linux cannot do (`reference/swift-on-linux.md`):
/// stop reading an answer at a limit before more of it arrives, bound a call
/// by a total deadline besides the idle timeout, send a file as a body with
/// one `Content-Length` without copying it, and write a download straight
/// into its file. Redirects are followed here, by ``RedirectGuard``; a request
/// that ``HTTPRequest/requiresFreshConnection`` goes out on a new connection,
/// because libcurl replays a request whose reused connection closes
/// unanswered. Proxies come from the usual environment variables, as for curl.
public final class CurlTransport: HTTPTransport, @unchecked Sendable {
  // @unchecked: the idle handles are only touched under `lock`.

  /// The transport shared by the whole process, so connections are reused.
  public static let shared = CurlTransport()

  /// How many redirects of a `GET` are followed.
  static let redirectLimit = 10

  private let limits: ReadLimits
  private let idleLimit: Int
  private let lock = NSLock()
  /// Handles between transfers: each keeps its connections open for the next.
  private var idle: [LibCurl.Handle] = []

  /// Creates a transport.
  ///
  /// - Parameter limits: How much of an answer is read (``ReadLimits``).
  /// - Parameter maximumIdleHandles: How many finished handles (and their
  ///   open connections) are kept for later requests.
  public init(limits: ReadLimits = .standard, maximumIdleHandles: Int = 8) {
    self.limits = limits
    idleLimit = maximumIdleHandles
  }

  deinit {
    if case .success(let curl) = LibCurl.shared {
      for handle in idle { curl.release(handle) }
    }
  }

  /// Sends a request with its in-memory body and returns the response, its
  /// body cut at the limits and marked ``HTTPResponse/isTruncated``.
  ///
  /// - Throws: ``TransportError``, or `CancellationError` when the task was cancelled.
  public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
    try await following(request) { request in
      try await self.run(CurlTransfer(request, source: .memory(request.body), sink: .memory, limits: self.limits))
    }.response
  }

  /// Streams `body` (head, file, tail) as the request body, with one
  /// `Content-Length`; the file is read as it goes out, never copied.
  ///
  /// - Throws: ``TransportError``, `CancellationError` when the task was
  ///   cancelled, or ``ToolError`` when the file cannot be read or has
  ///   become shorter than ``FileBody/fileLength``.
  public func upload(_ request: HTTPRequest, body: FileBody) async throws -> HTTPResponse {
    let fd = try APIFileIO.openForReading(body.path)
    defer { close(fd) }
    let source = CurlTransfer.Source.file(body, fd: fd)
    return try await run(CurlTransfer(request, source: source, sink: .memory, limits: limits)).response
  }

  /// Streams the response body into `path`, created anew (whatever was
  /// there, a symlink too, is removed first).
  ///
  /// - Returns: The response head and the number of bytes written.
  /// - Throws: ``TransportError``, or `CancellationError` when the task was cancelled.
  public func download(_ request: HTTPRequest, toFile path: String) async throws -> HTTPDownload {
    let fd = createReplacingStale(path)
    guard fd >= 0 else { throw TransportError(.other, "cannot write '\(path)': \(systemReason())") }
    defer { close(fd) }
    let answer = try await following(request) { request in
      try await self.run(
        CurlTransfer(request, source: .memory(nil), sink: .file(fd: fd, path: path), limits: self.limits))
    }
    return HTTPDownload(head: answer.head, bytesWritten: answer.bytesWritten)
  }

  /// Runs `transfer` for `request` and for each redirect ``RedirectGuard`` lets it follow.
  private func following(
    _ request: HTTPRequest, _ transfer: (HTTPRequest) async throws -> CurlTransfer.Answer
  ) async throws -> CurlTransfer.Answer {
    var request = request
    for _ in 0...Self.redirectLimit {
      let answer = try await transfer(request)
      guard let next = RedirectGuard.follow(request, answer.head) else { return answer }
      request = next
    }
    throw TransportError(.other, "more than \(Self.redirectLimit) redirects")
  }

  /// Runs `transfer` on a thread of its own with an idle handle, without
  /// blocking the caller's executor.
  ///
  /// - Throws: ``TransportError``, `CancellationError`, or ``ToolError``
  ///   `.configuration` (78, never retried) when the system has no libcurl.
  private func run(_ transfer: CurlTransfer) async throws -> CurlTransfer.Answer {
    let curl = try LibCurl.shared.get()
    return try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { [self] in
          Self.blockBrokenPipe()
          guard let handle = take(curl) else {
            continuation.resume(throwing: TransportError(.other, "libcurl could not start a transfer"))
            return
          }
          let result = Result { try transfer.perform(curl, on: handle) }
          giveBack(handle, curl)
          continuation.resume(with: result)
        }
        thread.start()
      }
    } onCancel: {
      transfer.cancel()
    }
  }

  /// Keeps a write to a connection the server closed from killing the tool.
  ///
  /// The tools die of `SIGPIPE`, as `cat` does, when their output pipe
  /// closes. libcurl sends with `MSG_NOSIGNAL`, but a TLS library may write
  /// to the socket with `write(2)`, and with `CURLOPT_NOSIGNAL` libcurl
  /// leaves the signal alone. Blocked on this thread, a socket's `SIGPIPE`
  /// stays pending here and the write fails with `EPIPE` instead.
  private static func blockBrokenPipe() {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGPIPE)
    pthread_sigmask(SIG_BLOCK, &set, nil)
  }

  private func take(_ curl: LibCurl) -> LibCurl.Handle? {
    if let handle = lock.withLock({ idle.popLast() }) {
      curl.reset(handle)
      return handle
    }
    return curl.makeHandle()
  }

  private func giveBack(_ handle: LibCurl.Handle, _ curl: LibCurl) {
    let kept = lock.withLock {
      guard idle.count < idleLimit else { return false }
      idle.append(handle)
      return true
    }
    if !kept { curl.release(handle) }
  }
}

extension CurlTransfer.Answer {
  /// The answer as an in-memory response.
  var response: HTTPResponse {
    var response = HTTPResponse(head: head, body: body)
    response.isTruncated = isTruncated
    return response
  }
}
