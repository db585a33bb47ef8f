import Foundation

/// What `batch-create` is asked to do.
public struct CreateOptions: Sendable {
  public var run: RunDirectory
  /// The enqueued-token limit per model, when the user knows it.
  public var tokenLimit: Int?
  /// The longest pause between polls while waiting for capacity, in seconds.
  public var poll: Double
  /// The window and result lifetime of the batches; by default from the environment.
  public var terms: BatchTerms?
  /// The most that the batches still to be made may cost, in USD (MAX_COST).
  public var maxCost: Double?

  public init(run: RunDirectory, tokenLimit: Int? = nil, poll: Double = 60) {
    self.run = run
    self.tokenLimit = tokenLimit
    self.poll = poll
  }
}

/// Creates one batch per uploaded request file, as the enqueued-token limit
/// allows, and sees each through validation.
///
/// Before each create call an intent goes into the ledger, and every batch
/// carries the run id, the file name and the file's digest in `metadata`.
/// After a crash or a lost answer, the batch list is searched (every page
/// back to the run's start) and a batch found there is adopted, so a file
/// never gets a second paid batch. A file refused for the enqueued-token
/// (or -request) limit, at create or in validation, waits and is submitted
/// again by the clock (``CapacityWait``), or as soon as one of the run's own
/// batches of the model ends; the limit is learned from the refusal's text.
///
/// - Throws: ``ToolError``: 65 when the batches still to be made may cost
///   more than `maxCost`, 66 when files are not uploaded yet, 75 for
///   network trouble or after waiting `BATCHLINE_CAPACITY_WAIT` seconds for
///   capacity (the files left unsubmitted, so that a rerun goes on), 77 for
///   a refused key, 78 for a model without a price under `maxCost`.
public func createRun(_ options: CreateOptions, client: OpenAIClient? = nil) async throws {
  guard let remote = try RemoteRun.openUnlessSettled(options.run, client: client) else { return }
  try checkBudget(unpaidOf: remote.ledger(), run: options.run, limit: options.maxCost)
  var options = options
  options.terms = try options.terms ?? BatchTerms.fromEnvironment(profile: remote.client.profile)
  var scheduler = try CreateScheduler(remote: remote, options: options)
  try await scheduler.run()
}

/// The create loop: reconcile, refresh, submit what fits, wait, repeat.
struct CreateScheduler {
  let remote: RemoteRun
  let options: CreateOptions
  var schedule: PollSchedule
  var capacity: CapacityWait
  /// Refusals per file of a just-uploaded file the server did not see yet,
  /// to give up on a file that never shows.
  var notFound: [String: Int] = [:]
  /// Files whose wait for processing was announced.
  var announced: Set<String> = []

  init(remote: RemoteRun, options: CreateOptions) throws {
    self.remote = remote
    self.options = options
    schedule = PollSchedule(poll: options.poll)
    capacity = try CapacityWait()
  }

  var run: RunDirectory { remote.run }
  var client: OpenAIClient { remote.client }

  mutating func run() async throws {
    let first = try remote.ledger()
    if let missing = first.files.first(where: { $0.inputFilename.remote == nil }) {
      throw ToolError.noInput("in/\(missing.inputFilename.local) is not uploaded yet; run batch-upload")
    }
    if let limit = options.tokenLimit {
      try run.updateLedger { ledger in
        for model in Set(ledger.files.map(\.model)) where ledger.tokenLimits?[model] == nil {
          ledger.tokenLimits = (ledger.tokenLimits ?? [:]).merging([model: limit]) { $1 }
        }
      }
    }
    while true {
      try await reconcileIntents()
      try await refreshOpenBatches()
      try await submitWhatFits()
      let ledger = try remote.ledger()
      // A file cancelled before it had a batch has a status and no batch.
      let waiting = ledger.files.filter { $0.batchId == nil && $0.status == nil }
      let open = ledger.files.filter { $0.batchId != nil && !$0.isTerminal }
      let validating = open.filter { $0.status == nil || $0.status == .validating }
      if waiting.isEmpty && validating.isEmpty { return }
      // Wake for the next read of a batch, or the next try of a refused model.
      var wake = open.map { schedule.due($0.inputFilename.local) }
      wake += Set(waiting.map(\.model)).compactMap { capacity.nextTry($0) }
      let next = wake.min() ?? Date().addingTimeInterval(options.poll)
      try await pause(max(0.05, next.timeIntervalSinceNow))
    }
  }

  /// Adopts the batch an interrupted create left behind, or clears the intent.
  private func reconcileIntents() async throws {
    let ledger = try remote.ledger()
    for file in ledger.files where file.createStartedAt != nil && file.batchId == nil {
      if let found = try await findBatch(for: file, ledger: ledger, wait: RemoteRun.visibilityWait()) {
        try record(found, for: file.inputFilename.local)
        Diagnostics.note("in/\(file.inputFilename.local): adopted \(found.id), created before an interruption")
      } else {
        try remote.updateFile(file.inputFilename.local) { $0.createStartedAt = nil }
      }
    }
  }

  /// Looks for this run's batch of `file` in the batch list, waiting up to
  /// `wait` seconds for a just-made batch to be listed.
  private func findBatch(for file: RequestFileRecord, ledger: Ledger, wait: Double) async throws -> Batch? {
    let since = (file.createStartedAt ?? ledger.createdAt) - RemoteRun.clockSlack
    let replaced = Set((file.previousBatches ?? []).map(\.batchId))
    let deadline = Date().addingTimeInterval(wait)
    while true {
      let batches = try await calling { try await client.allBatches { ($0.createdAt ?? Int.max) < since } }
      let matches = batches.filter {
        $0.metadata?["batchline_run"] == ledger.runId && $0.metadata?["batchline_file"] == file.inputFilename.local
          && !replaced.contains($0.id)
      }
      // A batch that did not fail is the one to keep; then the oldest.
      if let keep = matches.min(by: { ($0.status == .failed ? 1 : 0, $0.createdAt ?? 0) < ($1.status == .failed ? 1 : 0, $1.createdAt ?? 0) }) {
        return keep
      }
      if Date() >= deadline { return nil }
      try await pause(min(2, max(0.2, wait / 10)))
    }
  }

  private func record(_ batch: Batch, for local: String) throws {
    try OpenAIClient.validateID(batch.id, kind: "batch")
    try remote.updateFile(local) { file in
      file.batchId = batch.id
      file.apply(batch)
    }
  }

  /// Reads this run's unfinished batches that are due, learning limits from
  /// refusals and putting refused files back in the queue.
  private mutating func refreshOpenBatches() async throws {
    let before = try remote.ledger()
    let read = try await schedule.readDue(before.files, remote: remote)
    let now = Date()
    for file in before.files {
      guard let batch = read[file.inputFilename.local] else { continue }
      let wasValidating = file.status == nil || file.status == .validating
      if wasValidating && batch.status != .validating && batch.status != .failed {
        capacity.admitted(file.model)
      }
      if batch.status.isTerminal && batch.status != .failed {
        capacity.freed(file.model, at: now)
      }
    }
    var refused: [String: [RequestFileRecord]] = [:]
    for file in try remote.ledger().files where file.status == .failed {
      guard let reason = file.resubmittableFailure else { continue }
      let local = file.inputFilename.local
      if reason == "input file not found yet" {
        guard notFound[local, default: 0] < 5 else { continue }
        notFound[local, default: 0] += 1
        if notFound[local]! == 5 {
          Diagnostics.note("in/\(local): refused 5 times (\(reason)); leaving it failed")
          continue
        }
      } else {
        refused[file.model, default: []].append(file)
      }
      // Under the lock, and only if a cancel (in another process) has not ended the file meanwhile.
      let reset = try run.updateLedger { ledger -> Bool in
        guard let n = ledger.files.firstIndex(where: { $0.inputFilename.local == local }),
          ledger.files[n].batchId == file.batchId, ledger.files[n].status == .failed
        else { return false }
        ledger.files[n].resetForResubmission(reason: reason)
        return true
      }
      guard reset else { continue }
      Diagnostics.note("in/\(local): batch \(file.batchId!) was refused (\(reason)); it will be made again")
    }
    // One refusal per model and round: files refused together are one try.
    for (_, files) in refused.sorted(by: { $0.key < $1.key }) {
      try await waitForCapacity(files[0], message: files.first { $0.errors?.first?.message != nil }?.errors?.first?.message)
    }
  }

  /// Records a refusal of `file` for the enqueued limit of its model:
  /// learns the limit from `message`, and says what it waits for.
  ///
  /// - Throws: ``ToolError`` 75 once the model has been refused for longer
  ///   than `BATCHLINE_CAPACITY_WAIT`: the files stay unsubmitted, and a
  ///   rerun goes on.
  private mutating func waitForCapacity(_ file: RequestFileRecord, message: String?) async throws {
    let model = file.model
    let requests = (message ?? "").lowercased().contains("enqueued request")
    if let limit = enqueuedLimit(in: message) { try learn(limit: limit, model: model, requests: requests) }
    let ledger = try remote.ledger()
    let now = Date()
    guard let pause = capacity.refused(model, at: now) else {
      throw ToolError(
        .tryAgainLater,
        "in/\(file.inputFilename.local): no enqueued capacity for \(model) in "
          + "\(Progress.duration(Int(capacity.waited(model, at: now)))); not submitted; run again to go on")
    }
    var limit = ""
    if requests, let value = ledger.requestLimits?[model] {
      limit = ", limit \(grouped(value)) requests"
    } else if !requests, let value = ledger.tokenLimits?[model] {
      limit = ", limit \(grouped(value)) tokens"
    }
    let next = pause < 90 ? "\(Int(pause.rounded())) s" : "\(Int((pause / 60).rounded())) min"
    Diagnostics.note("in/\(file.inputFilename.local): waiting for enqueued capacity of \(model)\(limit); next try in \(next)")
  }

  private func learn(limit: Int, model: String, requests: Bool) throws {
    try run.updateLedger { ledger in
      var limits = (requests ? ledger.requestLimits : ledger.tokenLimits) ?? [:]
      if limits[model] != limit {
        limits[model] = limit
        let kind = requests ? "request" : "token"
        Diagnostics.note("learned the enqueued-\(kind) limit of \(model): \(grouped(limit)) \(kind)s")
      }
      if requests { ledger.requestLimits = limits } else { ledger.tokenLimits = limits }
    }
  }

  /// Creates batches for waiting files, in order, while they fit: within
  /// 90% of the model's known limits counting the run's open batches (the
  /// margin covers our estimate), and not while the model waits for
  /// capacity held by others.
  private mutating func submitWhatFits() async throws {
    var blocked: Set<String> = []
    while true {
      let ledger = try remote.ledger()
      let now = Date()
      guard
        let file = ledger.files.first(where: {
          $0.batchId == nil && $0.status == nil && $0.createStartedAt == nil && !blocked.contains($0.model)
            && capacity.mayTry($0.model, at: now)
        })
      else { return }
      let open = ledger.files.filter { $0.batchId != nil && !$0.isTerminal && $0.model == file.model }
      let tokens = open.reduce(0) { $0 + $1.estimatedInputTokens }
      let requests = open.reduce(0) { $0 + $1.inputFilename.requests }
      if !open.isEmpty {
        if let limit = ledger.tokenLimits?[file.model], tokens + file.estimatedInputTokens > limit * 9 / 10 {
          blocked.insert(file.model)  // wait for running batches to free capacity
          continue
        }
        if let limit = ledger.requestLimits?[file.model], requests + file.inputFilename.requests > limit * 9 / 10 {
          blocked.insert(file.model)
          continue
        }
      }
      // Files go in order: one still being processed holds back its model's next ones.
      guard try await isProcessed(file) else {
        blocked.insert(file.model)
        continue
      }
      if try await !create(file, ledger: ledger) { blocked.insert(file.model) }
    }
  }

  /// Creates the batch of one file, writing the intent first.
  ///
  /// - Returns: False when the server refused for the enqueued limit.
  private mutating func create(_ file: RequestFileRecord, ledger: Ledger) async throws -> Bool {
    let local = file.inputFilename.local
    // The intent goes in only if a cancel (in another process) has not ended the file meanwhile.
    let wanted = try run.updateLedger { ledger -> Bool in
      guard let n = ledger.files.firstIndex(where: { $0.inputFilename.local == local }),
        ledger.files[n].batchId == nil, ledger.files[n].status == nil
      else { return false }
      ledger.files[n].createStartedAt = RemoteRun.now
      return true
    }
    guard wanted else { return true }
    let metadata = [
      "batchline_run": ledger.runId, "batchline_file": local,
      "batchline_sha256": file.inputFilename.sha256 ?? "", "batchline_round": String(file.round),
    ]
    var notFoundTries = 0
    var lostAnswers = 0
    while true {
      do {
        let batch = try await client.createBatch(
          inputFileID: file.inputFilename.remote!, endpoint: ledger.endpoint, completionWindow: terms.completionWindow,
          metadata: metadata, outputExpiresAfter: terms.outputExpiry)
        try record(batch, for: local)
        return true
      } catch let error as APIError where error.outcomeUnknown {
        Diagnostics.note("POST /v1/batches for in/\(local): \(error.summary); looking for the batch before trying again")
        if let found = try await findBatch(for: file, ledger: ledger, wait: RemoteRun.visibilityWait()) {
          try record(found, for: local)
          return true
        }
        // Not listed after the wait: the call did not act; send it again, as a rerun would.
        lostAnswers += 1
        guard lostAnswers < 3 else {
          throw ToolError(
            .tryAgainLater,
            "POST /v1/batches for in/\(local): \(error.summary), and the batch is not listed; run again to check")
        }
        try remote.updateFile(local) { $0.createStartedAt = RemoteRun.now }
      } catch let error as APIError where error.isTokenLimit {
        // The synchronous form of the refusal: nothing was made.
        try remote.updateFile(local) { $0.createStartedAt = nil }
        try await waitForCapacity(file, message: error.detail?.message)
        return false
      } catch let error as APIError where error.status == 400 && (error.detail?.message ?? "").hasPrefix("Cannot find file") {
        // A just-uploaded file may take a moment to be usable.
        notFoundTries += 1
        guard Double(notFoundTries) * 2 <= max(2, RemoteRun.visibilityWait()) else {
          try remote.updateFile(local) { $0.createStartedAt = nil }
          throw error.asToolError
        }
        try await pause(2)
      } catch let error as APIError {
        if !error.outcomeUnknown { try remote.updateFile(local) { $0.createStartedAt = nil } }
        throw error.asToolError
      }
    }
  }
}

/// The limit stated in an enqueued-token refusal: "… Limit: 2,000,000 enqueued tokens …".
public func enqueuedLimit(in message: String?) -> Int? {
  guard let message, let range = message.range(of: "Limit: ") else { return nil }
  let digits = message[range.upperBound...].prefix { $0.isNumber || $0 == "," || $0 == "_" }
  return Int(digits.filter(\.isNumber))
}
