import Foundation

/// What `batch-create` is asked to do.
public struct CreateOptions: Sendable {
  public var run: RunDirectory
  /// The enqueued-token limit per model, when the user knows it.
  public var tokenLimit: Int?
  /// The longest pause between polls while waiting for capacity, in seconds.
  public var poll: Double
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
/// never gets a second paid batch. Batches refused for the enqueued-token
/// limit are made again when running batches free capacity; the limit is
/// learned from the refusal's text.
///
/// - Throws: ``ToolError``: 65 when the batches still to be made may cost
///   more than `maxCost` (or a model has no price under it), 66 when files
///   are not uploaded yet, 75 for network trouble, 77 for a refused key.
public func createRun(_ options: CreateOptions, client: OpenAIClient? = nil) async throws {
  guard let remote = try RemoteRun.openUnlessSettled(options.run, client: client) else { return }
  try checkBudget(unpaidOf: remote.ledger(), run: options.run, limit: options.maxCost)
  var scheduler = CreateScheduler(remote: remote, options: options)
  try await scheduler.run()
}

/// The create loop: reconcile, refresh, submit what fits, wait, repeat.
struct CreateScheduler {
  let remote: RemoteRun
  let options: CreateOptions
  /// Refusals per file, to give up on a file that never fits.
  var refusals: [String: Int] = [:]
  var interval = 1.0

  init(remote: RemoteRun, options: CreateOptions) {
    self.remote = remote
    self.options = options
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
      let submitted = try await submitWhatFits()
      let ledger = try remote.ledger()
      let waiting = ledger.files.filter { $0.batchId == nil && !isGivenUp($0) }
      let validating = ledger.files.filter { $0.batchId != nil && ($0.status == nil || $0.status == .validating) }
      if waiting.isEmpty && validating.isEmpty { return }
      if submitted > 0 { interval = 1 }
      try await pause(min(interval, options.poll))
      interval = min(options.poll, max(1, interval * 1.5))
    }
  }

  private func isGivenUp(_ file: RequestFileRecord) -> Bool {
    (refusals[file.inputFilename.local] ?? 0) >= 5
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

  /// Polls this run's unfinished batches, learning limits from refusals and
  /// putting refused files back in the queue.
  private mutating func refreshOpenBatches() async throws {
    let ledger = try remote.ledger()
    for file in ledger.files where file.batchId != nil && !file.isTerminal {
      let batch = try await calling { try await client.retrieveBatch(id: file.batchId!) }
      try remote.updateFile(file.inputFilename.local) { $0.apply(batch) }
    }
    for file in try remote.ledger().files where file.status == .failed {
      guard let reason = file.resubmittableFailure else { continue }
      let local = file.inputFilename.local
      refusals[local, default: 0] += 1
      if isGivenUp(file) {
        Diagnostics.note("in/\(local): refused \(refusals[local]!) times (\(reason)); leaving it failed")
        continue
      }
      if reason == "token_limit_exceeded", let limit = enqueuedLimit(in: file.errors?.first?.message) {
        try learn(limit: limit, model: file.model)
      }
      Diagnostics.note("in/\(local): batch \(file.batchId!) was refused (\(reason)); it will be made again")
      try remote.updateFile(local) { $0.resetForResubmission(reason: reason) }
    }
  }

  private func learn(limit: Int, model: String) throws {
    try run.updateLedger { ledger in
      var limits = ledger.tokenLimits ?? [:]
      if limits[model] != limit {
        limits[model] = limit
        Diagnostics.note("learned the enqueued-token limit of \(model): \(grouped(limit)) tokens")
      }
      ledger.tokenLimits = limits
    }
  }

  /// Creates batches for waiting files, in order, while they fit.
  ///
  /// - Returns: How many were created.
  private mutating func submitWhatFits() async throws -> Int {
    var created = 0
    while true {
      let ledger = try remote.ledger()
      guard let file = ledger.files.first(where: { $0.batchId == nil && $0.createStartedAt == nil && !isGivenUp($0) })
      else { return created }
      let open = ledger.files.filter { $0.batchId != nil && !$0.isTerminal && $0.model == file.model }
      let enqueued = open.reduce(0) { $0 + $1.estimatedInputTokens }
      if let limit = ledger.tokenLimits?[file.model], !open.isEmpty,
        enqueued + file.estimatedInputTokens > limit * 9 / 10
      {
        return created  // wait for running batches to free capacity
      }
      guard try await create(file, ledger: ledger) else { return created }
      created += 1
    }
  }

  /// Creates the batch of one file, writing the intent first.
  ///
  /// - Returns: False when the server refused for the enqueued-token limit.
  private mutating func create(_ file: RequestFileRecord, ledger: Ledger) async throws -> Bool {
    let local = file.inputFilename.local
    try remote.updateFile(local) { $0.createStartedAt = RemoteRun.now }
    let metadata = [
      "batchline_run": ledger.runId, "batchline_file": local,
      "batchline_sha256": file.inputFilename.sha256 ?? "", "batchline_round": String(file.round),
    ]
    var notFoundTries = 0
    var lostAnswers = 0
    while true {
      do {
        let batch = try await client.createBatch(
          inputFileID: file.inputFilename.remote!, endpoint: ledger.endpoint, metadata: metadata)
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
        if let limit = enqueuedLimit(in: error.detail?.message) { try learn(limit: limit, model: file.model) }
        refusals[local, default: 0] += 1
        Diagnostics.note("in/\(local): the enqueued-token limit is reached; waiting for running batches")
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
