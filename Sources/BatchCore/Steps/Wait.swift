import Foundation

/// What `batch-wait` is asked to do.
public struct WaitOptions: Sendable {
  public var run: RunDirectory
  /// The pause between reads of a batch whose status stays the same, in
  /// seconds (`POLL`).
  public var poll: Double
  /// Poll once and exit 75 if batches are still running.
  public var once: Bool
  /// Cancel every batch of the run that has not ended, then wait for them.
  public var cancel: Bool

  public init(run: RunDirectory, poll: Double = 60, once: Bool = false, cancel: Bool = false) {
    self.run = run
    self.poll = poll
    self.once = once
    self.cancel = cancel
  }
}

/// Polls every unfinished batch until all are terminal, showing progress on
/// standard error and recording status, counts, errors, usage and the ids
/// of the result files.
///
/// Each batch is read once per `poll` seconds while its status stays the
/// same, sooner only around a change of status (``PollSchedule``), and each
/// round of reads is one ledger write.
///
/// With `cancel`, every batch that has not ended is cancelled first. That
/// mode takes no run lock: it must work while `make merged` waits in
/// another terminal holding it (the ledger's own lock orders the writes),
/// and that wait then sees the batches end by itself.
///
/// - Throws: ``ToolError``: 66 when a file has no batch yet, 75 with
///   `once` while batches still run or for network trouble, 77 for a
///   refused key.
public func waitRun(_ options: WaitOptions, client: OpenAIClient? = nil) async throws {
  guard
    let remote = try RemoteRun.openUnlessSettled(
      options.run, client: client, locking: options.cancel ? .none : .failIfHeld)
  else { return }
  let first = try remote.ledger()
  var cancelled: Set<String> = []
  if options.cancel {
    try await cancelBatches(first.files, remote: remote, asked: &cancelled)
  } else if let missing = first.files.first(where: { $0.batchId == nil && $0.status == nil }) {
    throw ToolError.noInput("in/\(missing.inputFilename.local) has no batch yet; run batch-create")
  }
  var progress = Progress(start: Date())
  var schedule = PollSchedule(poll: options.poll)
  progress.run = options.run
  progress.reusedAnswers = first.reusedAnswers
  while true {
    try await schedule.readDue(try remote.ledger().files, remote: remote)
    // A create in another process may have made a batch meanwhile.
    if options.cancel { try await cancelBatches(try remote.ledger().files, remote: remote, asked: &cancelled) }
    let now = try remote.ledger()
    // Cancel waits for the batches there are, and for a create under way
    // in another process (its batch is cancelled once recorded); an intent
    // older than a create can take is one a killed create left.
    let watched = now.files.filter {
      !options.cancel || $0.batchId != nil || $0.status != nil || RemoteRun.now - ($0.createStartedAt ?? 0) < 300
    }
    progress.show(watched)
    let running = watched.filter { !$0.isTerminal }
    if running.isEmpty {
      progress.finish(watched)
      for file in watched where file.status != .completed {
        let reason = file.errors?.first.map { ": " + ($0.line.map { "line \($0): " } ?? "") + ($0.message ?? $0.code ?? "") } ?? ""
        Diagnostics.note("in/\(file.inputFilename.local): \(file.batchId.map { "batch \($0)" } ?? "no batch") \(file.status!)\(reason)")
      }
      return
    }
    if options.once {
      throw ToolError(.tryAgainLater, "\(running.count) batch\(running.count == 1 ? " is" : "es are") still running; run again later")
    }
    let next = running.map { $0.batchId == nil ? Date().addingTimeInterval(1) : schedule.due($0.inputFilename.local) }.min() ?? Date()
    try await pause(max(0.05, next.timeIntervalSinceNow))
  }
}

/// Cancels each batch of `files` that has not ended (`POST
/// /v1/batches/{id}/cancel`), recording what the server answers, and ends
/// the files that have no batch and no create under way as cancelled, so
/// that a batch-create waiting for capacity in another process makes no
/// more batches.
///
/// - Parameter asked: The batches asked already, each asked once.
private func cancelBatches(_ files: [RequestFileRecord], remote: RemoteRun, asked: inout Set<String>) async throws {
  var answers: [String: Batch] = [:]
  for file in files where file.batchId != nil && !file.isTerminal && file.status != .cancelling {
    guard asked.insert(file.batchId!).inserted else { continue }
    // What the ledger says may be stale: a batch that failed validation
    // meanwhile is not cancelled but ended below.
    let local = file.inputFilename.local
    do {
      answers[local] = try await remote.client.cancelBatch(id: file.batchId!)
      Diagnostics.note("in/\(local): cancelling batch \(file.batchId!)")
    } catch let error as APIError where error.status == 400 || error.status == 409 {
      // It ended meanwhile: the server will not cancel a finished batch.
      Diagnostics.note("in/\(local): batch \(file.batchId!) was not cancelled: \(error.summary)")
    } catch let error as APIError {
      throw error.asToolError
    }
  }
  try remote.record(answers)
  try remote.run.updateLedger { ledger in
    for n in ledger.files.indices {
      let file = ledger.files[n]
      // A batch refused for capacity waits to be made again: it is not either.
      if file.status == .failed, let reason = file.resubmittableFailure {
        ledger.files[n].resetForResubmission(reason: reason)
      } else {
        guard file.batchId == nil, file.status == nil, file.createStartedAt == nil else { continue }
      }
      ledger.files[n].cancelUnsubmitted()
      Diagnostics.note("in/\(file.inputFilename.local): no batch yet; it will not be submitted")
    }
  }
}

/// The progress display: on a terminal, one live line per batch and a total
/// line, redrawn in place; elsewhere (a log), a timestamped line when a
/// batch's status changes and a total line at most every `logEvery` seconds,
/// since counts that creep for hours would otherwise fill the log.
struct Progress {
  let start: Date
  let isLive = Diagnostics.isTerminal
  let color = Diagnostics.allowsColor
  /// Seconds between progress lines in a log.
  static let logEvery = 300.0
  private var drawnLines = 0
  private var lastStatus: [String: Batch.Status?] = [:]
  private var lastLogged = Date()
  private var firstSeen: [String: (Date, Int)] = [:]
  /// For the total line's answered, failed and retryable items.
  var run: RunDirectory?
  var reusedAnswers = 0

  init(start: Date) {
    self.start = start
  }

  mutating func show(_ files: [RequestFileRecord]) {
    if isLive {
      var lines = files.map { line(for: $0) }
      lines.append(totalLine(files))
      var text = drawnLines > 0 ? "\u{1B}[\(drawnLines)F" : ""
      for line in lines { text += "\u{1B}[2K" + line + "\n" }
      Diagnostics.write(text)
      drawnLines = lines.count
    } else {
      for file in files {
        let text = line(for: file)
        if lastStatus[file.inputFilename.local] != .some(file.status) {
          lastStatus[file.inputFilename.local] = .some(file.status)
          Diagnostics.note(Self.timestamp() + " " + text)
        }
      }
      if Date().timeIntervalSince(lastLogged) >= Self.logEvery && !files.allSatisfy(\.isTerminal) {
        lastLogged = Date()
        Diagnostics.note(Self.timestamp() + " " + totalLine(files))
      }
    }
  }

  mutating func finish(_ files: [RequestFileRecord]) {
    if !isLive { Diagnostics.note(Self.timestamp() + " " + totalLine(files)) }
  }

  private mutating func line(for file: RequestFileRecord) -> String {
    let counts = file.requestCounts ?? Counts(total: file.inputFilename.requests, completed: 0, failed: 0)
    let total = max(counts.total, file.inputFilename.requests)
    var text = "\(file.stem) \(file.batchId ?? "-") \(paint(file.status))"
    text += " \(counts.completed + counts.failed)/\(total)"
    if counts.failed > 0 { text += " (\(counts.failed) failed)" }
    if let timings = file.timings {
      if let v = timings.validating { text += " validating \(Self.duration(v))" }
      if let f = timings.finalizing { text += " finalizing \(Self.duration(f))" }
    }
    if file.status == .inProgress {
      let done = counts.completed + counts.failed
      let key = file.inputFilename.local
      if let (seenAt, seenDone) = firstSeen[key] {
        let elapsed = Date().timeIntervalSince(seenAt)
        if done > seenDone && elapsed > 0 {
          let rate = Double(done - seenDone) / elapsed
          text += " eta \(Self.duration(Int(Double(total - done) / rate)))"
        }
      } else {
        firstSeen[key] = (Date(), done)
      }
    }
    return text
  }

  private func totalLine(_ files: [RequestFileRecord]) -> String {
    let total = files.reduce(0) { $0 + max($1.requestCounts?.total ?? 0, $1.inputFilename.requests) }
    let done = files.reduce(0) { $0 + ($1.requestCounts.map { $0.completed + $0.failed } ?? 0) }
    let failed = files.reduce(0) { $0 + ($1.requestCounts?.failed ?? 0) }
    let finished = files.filter(\.isTerminal).count
    let items = OutcomeCounts(files: files, reusedAnswers: reusedAnswers, run: run)
    return "total: \(finished)/\(files.count) batches done, \(done)/\(total) requests, \(failed) failed; items: \(items.text); "
      + Self.duration(Int(Date().timeIntervalSince(start))) + " waited"
  }

  /// The status (`waiting` before the batch has one), colored on a terminal.
  private func paint(_ status: Batch.Status?) -> String {
    let text = status?.rawValue ?? "waiting"
    guard color else { return text }
    let code: String
    switch status {
    case .completed: code = "32"
    case .failed, .expired, .cancelled: code = "31"
    case .inProgress, .finalizing: code = "33"
    default: code = "36"
    }
    return "\u{1B}[\(code)m\(text)\u{1B}[0m"
  }

  static func duration(_ seconds: Int) -> String {
    if seconds < 60 { return "\(seconds)s" }
    if seconds < 3600 { return "\(seconds / 60)m\(String(seconds % 60).leftPadded(to: 2))s" }
    return "\(seconds / 3600)h\(String(seconds % 3600 / 60).leftPadded(to: 2))m"
  }

  static func timestamp() -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: Date())
  }
}
