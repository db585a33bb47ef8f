import Dispatch
import Foundation

/// When and how long to wait before sending a failed request again.
///
/// Exponential backoff with full jitter: before attempt *n* + 1 the client
/// waits a random time between 0 and `min(maxDelay, baseDelay × 2^(n−1))`,
/// so that many clients hit by the same outage do not come back in step.
/// A `Retry-After` (or `retry-after-ms`) from the server replaces that wait.
/// Retries stop after ``maxAttempts`` attempts or when the next wait would
/// end past ``maxTotalTime`` from the first attempt. The sleep, the clock and
/// the random source are injected so that tests run without waiting.
public struct HTTPRetryPolicy: Sendable {
  /// The first backoff ceiling, in seconds.
  public var baseDelay: Double
  /// The largest backoff ceiling, in seconds.
  public var maxDelay: Double
  /// The most attempts, the first one included.
  public var maxAttempts: Int
  /// The longest time from the first attempt to the start of the last one, in seconds.
  public var maxTotalTime: Double
  /// Waits for the given number of seconds; throws `CancellationError` when cancelled.
  public var sleep: @Sendable (Double) async throws -> Void
  /// Returns a random number in the given range (the jitter).
  public var random: @Sendable (ClosedRange<Double>) -> Double
  /// The time in seconds on a monotonic clock.
  public var clock: @Sendable () -> Double

  /// Creates a policy.
  ///
  /// - Parameters:
  ///   - baseDelay: The first backoff ceiling in seconds (0.5).
  ///   - maxDelay: The largest backoff ceiling in seconds (30).
  ///   - maxAttempts: The most attempts, the first included (6).
  ///   - maxTotalTime: The time budget from the first attempt, in seconds (300).
  ///   - sleep: How to wait; `Task.sleep` by default.
  ///   - random: The jitter source; the system generator by default.
  ///   - clock: A monotonic clock in seconds.
  public init(
    baseDelay: Double = 0.5, maxDelay: Double = 30, maxAttempts: Int = 6, maxTotalTime: Double = 300,
    sleep: @escaping @Sendable (Double) async throws -> Void = HTTPRetryPolicy.taskSleep,
    random: @escaping @Sendable (ClosedRange<Double>) -> Double = { Double.random(in: $0) },
    clock: @escaping @Sendable () -> Double = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
  ) {
    self.baseDelay = max(0, baseDelay)
    self.maxDelay = max(0, maxDelay)
    self.maxAttempts = max(1, maxAttempts)
    self.maxTotalTime = max(0, maxTotalTime)
    self.sleep = sleep
    self.random = random
    self.clock = clock
  }

  /// The default sleep: `Task.sleep`, which ends early with `CancellationError` on Ctrl-C.
  public static let taskSleep: @Sendable (Double) async throws -> Void = { seconds in
    guard seconds > 0 else { return }
    try await Task.sleep(nanoseconds: UInt64(min(seconds, 86_400) * 1e9))
  }

  /// The default policy with `BATCHLINE_RETRY_BASE` (seconds) and
  /// `BATCHLINE_MAX_ATTEMPTS` applied, so that tests can make retries instant or rare.
  ///
  /// - Parameter env: The environment; the process's by default.
  /// - Returns: The policy.
  /// - Throws: ``ToolError`` `.configuration` when a value is not a valid number.
  public static func fromEnvironment(
    _ env: [String: String] = ProcessInfo.processInfo.environment
  ) throws -> HTTPRetryPolicy {
    var policy = HTTPRetryPolicy()
    if let text = env["BATCHLINE_RETRY_BASE"], !text.isEmpty {
      guard let seconds = Double(text), seconds.isFinite, seconds >= 0 else {
        throw ToolError(.configuration, "BATCHLINE_RETRY_BASE must be a number of seconds, not '\(text)'")
      }
      policy.baseDelay = seconds
    }
    if let text = env["BATCHLINE_MAX_ATTEMPTS"], !text.isEmpty {
      guard let attempts = Int(text), attempts >= 1 else {
        throw ToolError(.configuration, "BATCHLINE_MAX_ATTEMPTS must be a whole number of at least 1, not '\(text)'")
      }
      policy.maxAttempts = attempts
    }
    return policy
  }

  /// The wait before the attempt after `attempt`, or `nil` when no attempt is left.
  ///
  /// - Parameters:
  ///   - attempt: The attempt that just failed, from 1.
  ///   - retryAfter: The wait the server asked for, if any.
  ///   - elapsed: Seconds since the first attempt started.
  /// - Returns: The seconds to wait, or `nil` to give up.
  public func delay(afterAttempt attempt: Int, retryAfter: Double?, elapsed: Double) -> Double? {
    guard attempt < maxAttempts else { return nil }
    let wait: Double
    if let retryAfter {
      wait = max(0, retryAfter)
    } else {
      // 2^(attempt-1) overflows nothing: the exponent is capped long before.
      let ceiling = min(maxDelay, baseDelay * pow(2, Double(min(attempt - 1, 30))))
      wait = ceiling > 0 ? random(0...ceiling) : 0
    }
    guard elapsed + wait <= maxTotalTime else { return nil }
    return wait
  }

  /// The wait a response asks for, from `retry-after-ms` or `Retry-After`
  /// (seconds or an HTTP date), in seconds.
  ///
  /// - Parameters:
  ///   - head: The response head.
  ///   - now: The current time, for HTTP dates.
  /// - Returns: The wait in seconds, or `nil` when the response names none.
  public static func retryAfter(in head: HTTPResponseHead, now: Date = Date()) -> Double? {
    if let text = head.header("retry-after-ms")?.trimmingCharacters(in: .whitespaces),
      let milliseconds = Double(text), milliseconds.isFinite, milliseconds >= 0
    {
      return milliseconds / 1000
    }
    guard let text = head.header("retry-after")?.trimmingCharacters(in: .whitespaces), !text.isEmpty
    else { return nil }
    if let seconds = Double(text) {
      return seconds.isFinite ? max(0, seconds) : nil
    }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    // RFC 9110 IMF-fixdate, then the obsolete RFC 850 form.
    for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz"] {
      formatter.dateFormat = format
      if let date = formatter.date(from: text) {
        return max(0, date.timeIntervalSince(now))
      }
    }
    return nil
  }

  /// A wait as retry notes show it: `0.5s`, `2s`, `12s`.
  ///
  /// - Parameter seconds: The wait.
  /// - Returns: The text.
  public static func format(_ seconds: Double) -> String {
    if seconds >= 10 { return "\(Int(seconds.rounded()))s" }
    let tenths = (seconds * 10).rounded() / 10
    if tenths == tenths.rounded() { return "\(Int(tenths))s" }
    return String(format: "%.1fs", tenths)
  }
}
