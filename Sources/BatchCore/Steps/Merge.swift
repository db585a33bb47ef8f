import Foundation

/// What `batch-merge` is asked to do.
public struct MergeOptions: Sendable {
  /// The run directory.
  public var run: RunDirectory
  /// Where to write: nil for `items_classified.jsonl`, `-` for standard output.
  public var output: String?

  public init(run: RunDirectory, output: String? = nil) {
    self.run = run
    self.output = output
  }
}

/// The outcome of merging a run.
public struct MergeReport: Sendable {
  /// Items written.
  public var items = 0
  /// Items with an answer.
  public var answered = 0
  /// Failed items by error code, and how many of them can be retried.
  public var failures: [String: Int] = [:]
  public var retryable = 0
  /// Answers whose text stopped at the token limit (they count as answers).
  public var cut = 0
  /// Tokens by model (the model the server reports).
  public var tokens: [String: TokenTally] = [:]
}

/// Adds each answer to its item, in input order, and writes the result.
///
/// Streams `items.jsonl` beside the request and result files of every
/// round; an item takes its successful answer from whichever round has it,
/// and otherwise carries the latest error. The item's bytes are kept as they
/// are; the answer goes in as one more field.
///
/// - Throws: ``ToolError`` 66 if a batch's results are not downloaded and
///   sorted yet, 65 if the files do not match.
@discardableResult
public func mergeRun(_ options: MergeOptions) throws -> MergeReport {
  let run = options.run
  let ledger = try run.loadLedger()
  // Not while another step rewrites the files merge reads (a download, a
  // sort, prepare --retry), and not two merges onto one output.
  let lock = try run.lockRun()
  defer { lock.release() }
  let prices = try PriceTable.load(run: run)
  let rounds = try RoundCursor.rounds(of: ledger, in: run)
  // With answers reused, reused.jsonl names every item; the rounds only some.
  let reused = try ledger.reused.map { _ in try ReusedCursor(run: run) }
  if reused != nil { rounds.forEach { $0.peeks = true } }

  let items = try InputLines(path: run.file(ledger.items.path))
  // Chunks read mapped items in place: the pages they use stay mapped.
  items.keepBehind = MergeChunk.bytesInFlight
  let itemsInPlace = items.file != nil
  let toStdout = options.output == "-"
  let target = toStdout ? nil : try AtomicFile(path: options.output ?? run.classifiedPath)
  let writer = target?.writer ?? BufferedWriter(fd: 1, name: "<stdout>")
  var report = MergeReport()
  let format = MergedLineFormat(
    outputField: ledger.outputField, answer: try AnswerFormat(endpoint: ledger.endpoint, promptPath: run.promptPath),
    itemsPath: run.itemsPath)
  rounds.first?.checksInputArray = format.answer.kind == .embeddings || format.answer.kind == .moderations

  // This thread reads the items, the request ids and the result lines in
  // step and matches them by id; the chunks, validated, parsed and merged
  // on the workers, come back in order and are written here.
  var id: [UInt8] = []
  /// Reads the next item and its results into the chunk; false at the end.
  func readItem(into chunk: MergeChunk) throws -> Bool {
    guard let item = try items.nextLine() else {
      if let reused, try reused.hasMore() {
        throw ToolError.dataError("\(run.itemsPath): fewer items than the requests prepared; the items changed since prepare")
      }
      for cursor in rounds where try cursor.nextRequestID() != nil {
        throw ToolError.dataError(
          "\(run.itemsPath): fewer items than the requests of round \(cursor.round); the items changed since prepare")
      }
      return false
    }
    chunk.beginItem(item, lineNumber: items.lineNumber, inPlace: itemsInPlace)
    guard try reused?.nextID(into: &id) ?? rounds[0].nextRequestID(into: &id) else {
      throw ToolError.dataError(run.itemsPath, line: items.lineNumber, "more items than requests; run batch-prepare again")
    }
    reused?.add(into: chunk)
    if rounds.first?.lastInputIsArray == true { chunk.markInputArray() }
    for cursor in rounds { try cursor.match(id, into: chunk) }
    chunk.endItem()
    return true
  }
  do {
    try runOrderedPipeline(work: { (chunk: MergeChunk) in chunk.merge(format) }, read: readItem) { chunk in
      try chunk.withWritten { try writer.writeDirectly($0) }
      report.add(chunk)
      if let error = chunk.error { throw error }
    }
    try writer.flush()
    try target?.commit()
  } catch {
    target?.abandon()
    throw error
  }
  let requested = Array(Set(ledger.files.map(\.model))).sorted()
  printCounter(report, prices: prices, requested: requested, toStdout: toStdout)
  // A model the server does not know is most often a slip in its name.
  if report.failures["model_not_found"] != nil {
    for model in requested where prices.price(for: model) == nil { Diagnostics.note(prices.noPriceMessage(for: model)) }
  }
  // Answers paid for are kept, so that a later run does not pay for them again.
  rememberAnswers(ledger, run: run)
  return report
}

extension MergeReport {
  /// Adds what a chunk counted.
  mutating func add(_ chunk: MergeChunk) {
    items += chunk.itemCount
    answered += chunk.answered
    retryable += chunk.retryable
    cut += chunk.cut
    for (code, n) in chunk.failures { failures[code, default: 0] += n }
    chunk.tallies.forEach { tokens[$0, default: TokenTally()] += $1 }
  }
}
