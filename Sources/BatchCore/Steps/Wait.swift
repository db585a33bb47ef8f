import Foundation

/// What `batch-wait` is asked to do.
public struct WaitOptions: Sendable {
  public var run: RunDirectory
  /// The longest pause between polls, in seconds (`POLL`).
  public var poll: Double
  /// Poll once and exit 75 if batches are still running.
  public var once: Bool

  public init(run: RunDirectory, poll: Double = 60, once: Bool = false) {
    self.run = run
    self.poll = poll
    self.once = once
  }
}

/// Polls every unfinished batch until all are terminal, showing progress on
/// standard error and recording status, counts, errors, usage and the ids
/// of the result files.
///
/// The pause between polls starts at a second and grows by half each time
/// nothing changes, up to `poll`: a batch that is moving is watched closely,
/// one that sits in the queue for hours costs few requests.
///
/// - Throws: ``ToolError``: 66 when a file has no batch yet, 75 with
///   `once` while batches still run or for network trouble, 77 for a
///   refused key.
public func waitRun(_ options: WaitOptions, client: OpenAIClient? = nil) async throws {
  guard let remote = try RemoteRun.openUnlessSettled(options.run, client: client) else { return }
  let first = try remote.ledger()
  if let missing = first.files.first(where: { $0.batchId == nil }) {
    throw ToolError.noInput("in/\(missing.inputFilename.local) has no batch yet; run batch-create")
  }
  var progress = Progress(start: Date())
  progress.run = options.run
  progress.reusedAnswers = first.reusedAnswers
  var interval = 1.0
  while true {
    var changed = false
    let ledger = try remote.ledger()
    for file in ledger.files where !file.isTerminal {
      let batch = try await calling { try await remote.client.retrieveBatch(id: file.batchId!) }
      var updated = file
      updated.apply(batch)
      if updated != file {
        changed = true
        try remote.updateFile(file.inputFilename.local) { $0.apply(batch) }
      }
    }
    let now = try remote.ledger()
    progress.show(now.files)
    if now.files.allSatisfy(\.isTerminal) {
      progress.finish(now.files)
      for file in now.files where file.status != .completed {
        let reason = file.errors?.first.map { ": " + ($0.line.map { "line \($0): " } ?? "") + ($0.message ?? $0.code ?? "") } ?? ""
        Diagnostics.note("in/\(file.inputFilename.local): batch \(file.batchId!) \(file.status!)\(reason)")
      }
      return
    }
    if options.once {
      let running = now.files.filter { !$0.isTerminal }.count
      throw ToolError(.tryAgainLater, "\(running) batch\(running == 1 ? " is" : "es are") still running; run again later")
    }
    interval = changed ? 1 : min(options.poll, interval * 1.5)
    try await pause(max(0.05, min(interval, options.poll)))
  }
}

/// The progress display: on a terminal, one live line per batch and a total
/// line, redrawn in place; elsewhere, a timestamped line when a batch changes.
struct Progress {
  let start: Date
  let isLive = Diagnostics.isTerminal
  let color = Diagnostics.allowsColor
  private var drawnLines = 0
  private var lastPlain: [String: String] = [:]
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
        if lastPlain[file.inputFilename.local] != text {
          lastPlain[file.inputFilename.local] = text
          Diagnostics.note(Self.timestamp() + " " + text)
        }
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
