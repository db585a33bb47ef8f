import Foundation

/// When each batch is read next.
///
/// A batch that runs for hours has its request counts change all the time,
/// so counts never shorten the pause: a batch is read once per `poll`
/// seconds while its status stays the same. Only the short phases that
/// follow a change of status (validating just after create, finalizing,
/// cancelling) are read sooner, from two seconds doubling up to `poll`, so
/// that a refusal or the end of a batch is seen at once. A day-long batch
/// thus costs about `day / poll` reads, plus a handful per status change.
struct PollSchedule {
  let poll: Double
  private var entries: [String: Entry] = [:]

  private struct Entry {
    var status: Batch.Status
    var pause: Double
    var due: Date
  }

  init(poll: Double) {
    self.poll = max(0.05, poll)
  }

  /// Whether the batch of the request file `local` should be read at `now`.
  func isDue(_ local: String, at now: Date) -> Bool {
    guard let entry = entries[local] else { return true }
    return entry.due <= now
  }

  /// When the batch of `local` is read next; now if it was never read.
  func due(_ local: String) -> Date {
    entries[local]?.due ?? .distantPast
  }

  /// Records that the batch of `local` was read at `now` with `status`.
  mutating func read(_ local: String, status: Batch.Status, at now: Date) {
    let previous = entries[local]
    let pause: Double
    switch status {
    case .validating, .finalizing, .cancelling:
      if let previous, previous.status == status {
        pause = min(poll, previous.pause * 2)
      } else {
        pause = min(poll, 2)
      }
    default:
      pause = poll
    }
    entries[local] = Entry(status: status, pause: pause, due: now.addingTimeInterval(pause))
  }

  /// Reads the batches of `files` that are due, then records what the
  /// server said in one ledger write: a round of polling rewrites
  /// `status.json` once, not once per batch.
  ///
  /// - Returns: The batches read, by request file.
  @discardableResult
  mutating func readDue(_ files: [RequestFileRecord], remote: RemoteRun) async throws -> [String: Batch] {
    var batches: [String: Batch] = [:]
    for file in files where file.batchId != nil && !file.isTerminal && isDue(file.inputFilename.local, at: Date()) {
      let batch = try await calling { try await remote.client.retrieveBatch(id: file.batchId!) }
      batches[file.inputFilename.local] = batch
      read(file.inputFilename.local, status: batch.status, at: Date())
    }
    try remote.record(batches)
    return batches
  }
}
