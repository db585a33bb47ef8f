import Foundation

/// When to try a model again whose enqueued limit refused a batch.
///
/// Other jobs of the organisation may hold the limit for hours, and each
/// refused try can leave a failed batch in the user's account, so a refused
/// model is tried again by the clock: after `firstPause` seconds (a minute),
/// doubling up to ten times that (ten minutes), for up to `giveUpAfter`
/// seconds (the 24 h window) of refusals in a row. One of the run's own
/// batches of the model ending frees capacity, so it allows a try at once.
struct CapacityWait {
  let firstPause: Double
  let giveUpAfter: Double
  private var models: [String: Refusals] = [:]

  private struct Refusals {
    var count: Int
    var since: Date
    var next: Date
  }

  /// The pauses from `BATCHLINE_CAPACITY_PAUSE` (first pause, seconds;
  /// default 60) and `BATCHLINE_CAPACITY_WAIT` (give up after, seconds;
  /// default 86,400).
  init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
    firstPause = try Self.seconds("BATCHLINE_CAPACITY_PAUSE", environment) ?? 60
    giveUpAfter = try Self.seconds("BATCHLINE_CAPACITY_WAIT", environment) ?? 86_400
  }

  private static func seconds(_ name: String, _ environment: [String: String]) throws -> Double? {
    guard let text = environment[name], !text.isEmpty else { return nil }
    guard let value = Double(text), value >= 0, value.isFinite else {
      throw ToolError(.configuration, "\(name) must be a number of seconds, not '\(text)'")
    }
    return value
  }

  /// Whether a batch of `model` may be created at `now`.
  func mayTry(_ model: String, at now: Date) -> Bool {
    guard let refusals = models[model] else { return true }
    return refusals.next <= now
  }

  /// When `model` may be tried again; nil if it is not waiting.
  func nextTry(_ model: String) -> Date? {
    models[model]?.next
  }

  /// Records a refusal of `model` at `now`.
  ///
  /// - Returns: The pause before the next try, in seconds, or nil when the
  ///   model has been refused for longer than `giveUpAfter`.
  mutating func refused(_ model: String, at now: Date) -> Double? {
    var refusals = models[model] ?? Refusals(count: 0, since: now, next: now)
    refusals.count += 1
    if now.timeIntervalSince(refusals.since) >= giveUpAfter { return nil }
    let pause = min(firstPause * 10, firstPause * pow(2, Double(refusals.count - 1)))
    refusals.next = now.addingTimeInterval(pause)
    models[model] = refusals
    return pause
  }

  /// A batch of `model` of the run ended: its capacity is free now.
  mutating func freed(_ model: String, at now: Date) {
    models[model]?.next = now
  }

  /// A batch of `model` passed validation: it is not waiting any more.
  mutating func admitted(_ model: String) {
    models[model] = nil
  }

  /// How long `model` has been refused, in seconds.
  func waited(_ model: String, at now: Date) -> Double {
    models[model].map { now.timeIntervalSince($0.since) } ?? 0
  }
}
