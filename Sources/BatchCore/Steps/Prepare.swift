// Steps/: one file per step (prepare, upload, create, wait, download,
// sort, merge, cleanup, retry, status), each the function its tool calls.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// What `batch-prepare` is asked to do.
public struct PrepareOptions: Sendable {
  /// The run directory.
  public var run: RunDirectory
  /// The items: a path, `-` for standard input, or nil for `items.jsonl`.
  public var items: String?
  /// The most the run may cost, in USD, by the high estimate.
  public var maxCost: Double?
  /// The file limits.
  public var limits = FileLimits()

  public init(run: RunDirectory, items: String? = nil, maxCost: Double? = nil) {
    self.run = run
    self.items = items
    self.maxCost = maxCost
  }
}

/// Turns the items and the template into request files and a new ledger.
///
/// Nothing is replaced unless every item renders: the request files are
/// written to temporary files and renamed into `in/` at the end, and the
/// ledger last. A run whose request files come out byte for byte the same
/// keeps its ledger, so rerunning prepare never starts a new paid run.
///
/// - Throws: ``ToolError``: 65 for bad items or template (`file:line:`),
///   66 for a missing file, 1 when the old run still has batches in flight.
public func prepareRun(_ options: PrepareOptions) throws {
  let run = options.run
  let template = try Template.load(path: run.promptPath)
  try run.makeSubdirectories()
  let lock = try run.lockRun()
  defer { lock.release() }
  run.removeLeftovers()

  let fromStdin = options.items == "-"
  let itemsPath = options.items.flatMap { $0 == "-" ? nil : $0 } ?? run.itemsPath
  let reader = try InputLines(path: fromStdin ? "-" : itemsPath)
  // Items from a pipe or from another file are kept as the run's
  // items.jsonl, since merge reads the items again from there.
  let keepsCopy = fromStdin || !isSameFile(itemsPath, run.itemsPath)
  let itemsCopy = keepsCopy ? try AtomicFile(path: run.itemsPath) : nil
  let itemsName = fromStdin ? "<stdin>" : itemsPath

  var writer = RequestFileWriter(run: run, limits: options.limits, endpoint: template.url)
  // Whatever is not committed by the end is removed, on every way out
  // (abandoning a committed file does nothing).
  defer {
    writer.abandon()
    itemsCopy?.abandon()
  }
  // The answers of the run being replaced are kept before its files go.
  if let old = try? run.loadLedger() { rememberAnswers(old, run: run) }
  let reuse = try ReusePlan(run: run, endpoint: template.url)
  defer { reuse?.abandon() }
  var duplicates = template.customIDTemplate == nil ? nil : DuplicateFinder()
  var requestsDigest = SHA256()
  var count = 0

  // This thread reads the items and writes the request files; the chunks,
  // rendered on the workers, come back in order.
  func readItem(into chunk: PrepareChunk) throws -> Bool {
    guard let item = try reader.nextLine() else { return false }
    if let itemsCopy {
      try itemsCopy.writer.write(item)
      try itemsCopy.writer.write([0x0A])
    }
    if reader.lineNumber == 1 && item.starts(with: [0xEF, 0xBB, 0xBF]) {
      throw ToolError.dataError(itemsName, line: 1, "byte-order mark at the start of the file (save it as UTF-8 without BOM)")
    }
    chunk.add(item, lineNumber: reader.lineNumber)
    return true
  }
  let compiled = template.compiled
  try runOrderedPipeline(work: { (chunk: PrepareChunk) in chunk.render(compiled) }, read: readItem) { chunk in
    count += try chunk.write(to: &writer, duplicates: &duplicates, reuse: reuse, digest: &requestsDigest, itemsName: itemsName)
    if let (number, error) = chunk.failure {
      if let error = error as? ItemError { throw ToolError.dataError(itemsName, line: number, error.message) }
      throw error
    }
    if let error = chunk.stopError { throw error }
  }
  guard count > 0 else { throw ToolError.dataError("\(itemsName): no items (the file is empty)") }
  if var finder = duplicates, let (first, second) = try finder.firstDuplicate(template: template, itemsPath: fromStdin ? nil : itemsPath, copy: itemsCopy) {
    let id = String(decoding: first.id, as: UTF8.self)
    throw ToolError.dataError(itemsName, line: second, "duplicate custom_id '\(id)' (first on line \(first.line))")
  }
  try writer.finish()

  let files = writer.records(maxOutputTokens: template.maxOutputTokens)
  let estimate = CostEstimate(files: files, prices: try PriceTable.load(run: run))

  // A rerun that produces the same files keeps the run as it is.
  let reused = reuse?.reused ?? 0
  let requestsSha256 = requestsDigest.finalizeHex()
  // The same requests as the recorded run, whichever of them were sent or
  // reused (ledgers older than the digest compare the files).
  func rendersTheSame(_ old: Ledger) -> Bool {
    if let recorded = old.requestsSha256 { return recorded == requestsSha256 }
    return old.reusedAnswers == reused && writer.matches(old.files.filter { $0.round == 1 })
  }
  if let old = try? run.loadLedger(), old.endpoint == template.url, old.outputField == template.outputField,
    old.items.count == count, rendersTheSame(old)
  {
    if let itemsCopy { try itemsCopy.commit() }
    Diagnostics.note("\(run.path): the request files are unchanged; the run goes on as recorded")
    return
  }
  if run.hasLedger {
    let old = try run.loadLedger()
    let busy = old.files.filter { $0.isInFlight || ($0.isTerminal && !$0.isDownloaded) }
    if !busy.isEmpty {
      throw ToolError(
        .failure,
        "'\(run.ledgerPath)' has \(busy.count) batch\(busy.count == 1 ? "" : "es") not finished or not downloaded; "
          + "to finish it as recorded, run make sorted -o \(run.path)/.stamps/prepared (then make merged reuses its answers)")
    }
  }
  try checkBudget(estimate, limit: options.maxCost)

  // The old run's files on the server stay findable by make cleaned.
  if let old = try? run.loadLedger(), try run.keepForCleanup(old) > 0 {
    Diagnostics.note("the earlier run's \(old.remoteFileCount) remote files stay on the server; make cleaned deletes them")
  }
  try writer.commit()
  if let itemsCopy { try itemsCopy.commit() }
  removeStaleFiles(run: run, keeping: Set(files.map(\.inputFilename.local)))
  var ledger = Ledger(
    runId: newRunID(), createdAt: Int(Date().timeIntervalSince1970), endpoint: template.url,
    outputField: template.outputField,
    items: ItemsRecord(path: "items.jsonl", count: count, bytes: reader.offset),
    files: files)
  ledger.requestsSha256 = requestsSha256
  if let reuse, reused > 0 {
    try reuse.commit()
    ledger.reused = ReusedRecord(path: ReusePlan.fileName, answers: reused)
    // The answers came from this server: the run belongs to it.
    ledger.baseUrl = reuse.baseURL
  } else {
    unlink(run.resultPath(ReusePlan.fileName))
  }
  try run.replaceLedger(ledger)
  for model in estimate.unpriced.sorted() { Diagnostics.note(estimate.prices.noPriceMessage(for: model)) }
  Diagnostics.note(estimate.summary(requests: count, reused: reuse == nil ? nil : reused, files: files))
}

/// Removes request files of an earlier run and every result file.
private func removeStaleFiles(run: RunDirectory, keeping: Set<String>) {
  let fm = FileManager.default
  for name in (try? fm.contentsOfDirectory(atPath: run.inDirectory)) ?? []
  where RunDirectory.isRunFileName(name) && !keeping.contains(name) {
    unlink(run.requestPath(name))
  }
  for name in (try? fm.contentsOfDirectory(atPath: run.outDirectory)) ?? [] where RunDirectory.isRunFileName(name) {
    unlink(run.resultPath(name))
  }
}
