import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// How much of an answer a JSON call reads, and for how long.
///
/// `data(for:)` reads a whole body into memory whatever its size, and its
/// timeout is an idle timeout only: a 1 GB error body took 6.3 GB of memory,
/// and a server that sends a byte every half second held a tool for ever.
/// So JSON calls (and the answers to uploads) are read through the session's
/// delegate, which stops the transfer past ``answerLimit`` bytes and keeps
/// at most that of a success and ``errorPrefixLimit`` of an error, and every
/// call has a total deadline besides the idle timeout.
public struct ReadLimits: Sendable, Equatable {
  /// The largest answer read: a page of 10,000 files is about 3 MB.
  public var answerLimit: Int
  /// How much of an error body is kept: its message is near the start.
  public var errorPrefixLimit: Int

  public static let standard = ReadLimits(answerLimit: 4 << 20, errorPrefixLimit: 64 << 10)

  public init(answerLimit: Int, errorPrefixLimit: Int) {
    self.answerLimit = answerLimit
    self.errorPrefixLimit = errorPrefixLimit
  }
}

/// The session delegate of ``URLSessionTransport``: it guards redirects
/// (``RedirectGuard``) and collects the answers of tasks started with
/// ``run(_:limits:)`` within their limits.
final class BoundedExchange: NSObject, URLSessionDataDelegate, @unchecked Sendable {
  // @unchecked: `collectors` is only touched under `lock`.

  /// One task's answer as it arrives.
  private final class Collector {
    let continuation: CheckedContinuation<HTTPResponse, Error>
    let limits: ReadLimits
    var response: HTTPURLResponse?
    var body = Data()

    init(_ continuation: CheckedContinuation<HTTPResponse, Error>, limits: ReadLimits) {
      self.continuation = continuation
      self.limits = limits
    }
  }

  private let lock = NSLock()
  // By task object: task identifiers repeat across sessions.
  private var collectors: [ObjectIdentifier: Collector] = [:]
  /// Tasks stopped for passing their limit.
  private var stopped: Set<ObjectIdentifier> = []

  /// Starts `task`, a data or upload task, and returns its answer: the
  /// whole body, or a prefix marked ``HTTPResponse/isTruncated`` once a
  /// limit is passed.
  ///
  /// Memory stays bounded, not small: libcurl's thread hands each chunk to
  /// the delegate queue without waiting, so while the delegate counts its
  /// way to the limit (or stops the task) a fast server queues more chunks
  /// behind it. A 1 GiB answer over loopback peaked at 40 to 740 MB here,
  /// depending on the machine's load, against 6.3 GB before. A download
  /// task is no better: FoundationNetworking keeps each chunk alive until
  /// the delegate hears of it, and a timer watching the task's byte count
  /// did not stop it sooner.
  ///
  /// - Throws: ``TransportError``, or `CancellationError` when the calling
  ///   task was cancelled.
  func run(_ task: URLSessionTask, limits: ReadLimits) async throws -> HTTPResponse {
    let id = ObjectIdentifier(task)
    return try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { continuation in
        lock.withLock { collectors[id] = Collector(continuation, limits: limits) }
        task.resume()
      }
    } onCancel: {
      task.cancel()
    }
  }

  /// Removes and returns the collector of task `id`, if it is still waiting.
  private func take(_ id: ObjectIdentifier) -> Collector? {
    lock.withLock { collectors.removeValue(forKey: id) }
  }

  private func collector(_ id: ObjectIdentifier) -> Collector? {
    lock.withLock { collectors[id] }
  }

  /// The most bytes kept of an answer with `status`.
  private static func limit(_ limits: ReadLimits, status: Int?) -> Int {
    (200..<300).contains(status ?? 200) ? limits.answerLimit : limits.errorPrefixLimit
  }

  /// Cancels `task` (once) for passing its limit.
  private func stop(_ task: URLSessionTask) {
    let first = lock.withLock { stopped.insert(ObjectIdentifier(task)).inserted }
    if first { task.cancel() }
  }

  func urlSession(
    _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
  ) {
    guard let collector = collector(ObjectIdentifier(dataTask)) else { return completionHandler(.allow) }
    let http = response as? HTTPURLResponse
    collector.response = http
    completionHandler(.allow)
    // A length announced past the limit is stopped before any of it comes.
    if response.expectedContentLength > Int64(Self.limit(collector.limits, status: http?.statusCode)) {
      stop(dataTask)
    }
  }

  func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
    let id = ObjectIdentifier(dataTask)
    guard let collector = collector(id), !lock.withLock({ stopped.contains(id) }) else { return }
    if collector.response == nil { collector.response = dataTask.response as? HTTPURLResponse }
    let room = Self.limit(collector.limits, status: collector.response?.statusCode) - collector.body.count
    guard data.count > room else {
      collector.body.append(data)
      return
    }
    // Past the limit: keep one byte more than fits (the mark of a cut), stop the transfer.
    collector.body.append(data.prefix(room + 1))
    stop(dataTask)
  }

  func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
    let id = ObjectIdentifier(task)
    guard let collector = take(id) else { return }
    let overLimit = lock.withLock { stopped.remove(id) != nil }
    if let error, !overLimit {
      collector.continuation.resume(throwing: URLSessionTransport.translate(error))
      return
    }
    if collector.response == nil { collector.response = task.response as? HTTPURLResponse }
    let limit = Self.limit(collector.limits, status: collector.response?.statusCode)
    let truncated = overLimit || collector.body.count > limit
    if collector.body.count > limit { collector.body = collector.body.prefix(limit) }
    finish(collector, truncated: truncated)
  }

  private func finish(_ collector: Collector, truncated: Bool) {
    guard let http = collector.response else {
      collector.continuation.resume(throwing: TransportError(.other, "the answer is not an HTTP response"))
      return
    }
    let head = (try? URLSessionTransport.head(of: http)) ?? HTTPResponseHead(status: http.statusCode)
    var response = HTTPResponse(head: head, body: collector.body)
    response.isTruncated = truncated
    collector.continuation.resume(returning: response)
  }

  func urlSession(
    _ session: URLSession, task: URLSessionTask,
    willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest,
    completionHandler: @escaping (URLRequest?) -> Void
  ) {
    completionHandler(RedirectGuard.follow(original: task.originalRequest, redirect: request))
  }
}

/// Runs `operation`, or throws ``TransportError`` `.timedOut` once `seconds`
/// have passed, cancelling it: the idle timeout alone lets a server that
/// sends a byte now and then hold a call for ever.
func withDeadline<T: Sendable>(
  _ seconds: Int, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
  try await withThrowingTaskGroup(of: T.self) { group in
    group.addTask { try await operation() }
    group.addTask {
      try await Task.sleep(nanoseconds: UInt64(seconds) * 1_000_000_000)
      throw TransportError(.timedOut, "no complete answer within \(seconds) s")
    }
    defer { group.cancelAll() }
    return try await group.next()!
  }
}
