#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The limits a request file must keep, as the server counts them.
public struct FileLimits: Sendable {
  /// Requests per file.
  public var requests = 50_000
  /// Bytes per file, exactly as uploaded. 200 MB is 200,000,000 or
  /// 209,715,200 bytes depending on whom one asks: the smaller is safe.
  public var bytes = 200_000_000
  /// Embedding inputs per file, summed over the requests.
  public var embeddingInputs = 50_000

  public init() {}

  /// The limits, lowered to the provider's (Groq takes 100 MB files; see
  /// ``APIProvider/fromEnvironment(_:)``), and by `BATCHLINE_MAX_REQUESTS`
  /// and `BATCHLINE_MAX_BYTES` where set (smaller files finish sooner).
  ///
  /// - Throws: ``ToolError`` 64 for a value that is not a positive number,
  ///   78 for an unknown `BATCHLINE_PROVIDER`.
  public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws
    -> FileLimits
  {
    var limits = FileLimits()
    let profile = ProviderProfile.standard(for: try APIProvider.fromEnvironment(env))
    limits.requests = min(limits.requests, profile.maxRequestsPerFile)
    limits.bytes = Int(min(Int64(limits.bytes), profile.maxBytesPerFile))
    for (name, keyPath) in [("BATCHLINE_MAX_REQUESTS", \FileLimits.requests), ("BATCHLINE_MAX_BYTES", \FileLimits.bytes)] {
      guard let text = env[name], !text.isEmpty else { continue }
      guard let value = Int(text), value > 0 else { throw ToolError.usage("\(name) must be a positive whole number, not '\(text)'") }
      limits[keyPath: keyPath] = min(limits[keyPath: keyPath], value)
    }
    return limits
  }
}

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
  var duplicates = template.customIDTemplate == nil ? nil : DuplicateFinder()
  var count = 0

  // This thread reads the items and writes the request files; the workers
  // render chunks of items (most of the time), which come back in order.
  let compiled = template.compiled
  let workers = OrderedWorkers<PrepareChunk>(workers: Concurrency.threads - 1, depth: Concurrency.pipelineDepth) {
    $0.render(compiled)
  }
  defer { workers.stop() }
  var spare: [PrepareChunk] = []
  func takeBack() throws {
    guard let chunk = workers.takeOldest() else { return }
    count += try chunk.write(to: &writer, duplicates: &duplicates, itemsName: itemsName)
    if let (number, error) = chunk.failure {
      if let error = error as? ItemError { throw ToolError.dataError("\(itemsName):\(number): \(error.message)") }
      throw error
    }
    if let error = chunk.stopError { throw error }
    spare.append(chunk)
  }
  func submit(_ chunk: PrepareChunk) throws {
    if !workers.hasRoom { try takeBack() }
    workers.submit(chunk)
  }

  do {
    var chunk = PrepareChunk()
    while true {
      let item: UnsafeBufferPointer<UInt8>
      do {
        guard let next = try reader.nextLine() else { break }
        item = next
        if let itemsCopy {
          try itemsCopy.writer.write(item)
          try itemsCopy.writer.write([0x0A])
        }
        if reader.lineNumber == 1 && item.starts(with: [0xEF, 0xBB, 0xBF]) {
          throw ToolError.dataError("\(itemsName):1: byte-order mark at the start of the file (save it as UTF-8 without BOM)")
        }
      } catch {
        // Reported once the items before it are written: a bad item
        // earlier comes first, as it would one by one.
        chunk.stop(with: error)
        break
      }
      chunk.add(item, lineNumber: reader.lineNumber)
      if chunk.isFull {
        try submit(chunk)
        chunk = spare.popLast() ?? PrepareChunk()
        chunk.reset()
      }
    }
    try submit(chunk)
    while workers.pending > 0 { try takeBack() }
    guard count > 0 else { throw ToolError.dataError("\(itemsName): no items (the file is empty)") }
    if var finder = duplicates, let (first, second) = try finder.firstDuplicate(template: template, itemsPath: fromStdin ? nil : itemsPath, copy: itemsCopy) {
      let id = String(decoding: first.id, as: UTF8.self)
      throw ToolError.dataError("\(itemsName):\(second): duplicate custom_id '\(id)' (first on line \(first.line))")
    }
    try writer.finish()
  } catch {
    writer.abandon()
    itemsCopy?.abandon()
    throw error
  }

  let files = writer.records(maxOutputTokens: template.maxOutputTokens)
  let estimate = CostEstimate(files: files, prices: try PriceTable.load(run: run))

  // A rerun that produces the same files keeps the run as it is.
  if let old = try? run.loadLedger(), old.endpoint == template.url, old.outputField == template.outputField,
    old.items.count == count, writer.matches(old.files.filter { $0.round == 1 })
  {
    writer.abandon()
    if let itemsCopy { try itemsCopy.commit() }
    Diagnostics.note("\(run.path): the request files are unchanged; the run goes on as recorded")
    return
  }
  if run.hasLedger {
    let old: Ledger
    do {
      old = try run.loadLedger()
    } catch {
      writer.abandon()
      itemsCopy?.abandon()
      throw error
    }
    let busy = old.files.filter { $0.isInFlight || ($0.isTerminal && !$0.isDownloaded) }
    if !busy.isEmpty {
      writer.abandon()
      itemsCopy?.abandon()
      throw ToolError(
        .failure,
        "'\(run.ledgerPath)' has \(busy.count) batch\(busy.count == 1 ? "" : "es") not finished or not downloaded; "
          + "finish the run with make merged, or remove the file to abandon it")
    }
  }
  if let maxCost = options.maxCost, estimate.high > maxCost {
    writer.abandon()
    itemsCopy?.abandon()
    throw ToolError(
      .dataError,
      "the estimated cost, up to \(formatUSD(estimate.high)) USD, is over the limit of \(formatUSD(maxCost)) USD (--max-cost)")
  }

  try writer.commit()
  if let itemsCopy { try itemsCopy.commit() }
  removeStaleFiles(run: run, keeping: Set(files.map(\.inputFilename.local)))
  let ledger = Ledger(
    runId: newRunID(), createdAt: Int(Date().timeIntervalSince1970), endpoint: template.url,
    outputField: template.outputField,
    items: ItemsRecord(path: "items.jsonl", count: count, bytes: reader.offset),
    files: files)
  try run.replaceLedger(ledger)
  Diagnostics.note(estimate.summary(requests: count, files: files))
}

/// Removes request files of an earlier run and every result file.
private func removeStaleFiles(run: RunDirectory, keeping: Set<String>) {
  let fm = FileManager.default
  for name in (try? fm.contentsOfDirectory(atPath: run.inDirectory)) ?? []
  where name.hasPrefix("batch_") && name.hasSuffix(".jsonl") && !keeping.contains(name) {
    unlink(run.requestPath(name))
  }
  for name in (try? fm.contentsOfDirectory(atPath: run.outDirectory)) ?? []
  where name.hasPrefix("batch_") && name.hasSuffix(".jsonl") {
    unlink(run.resultPath(name))
  }
}

/// Whether two paths name the same file (the same device and inode).
func isSameFile(_ a: String, _ b: String) -> Bool {
  var x = stat()
  var y = stat()
  guard stat(a, &x) == 0, stat(b, &y) == 0 else { return false }
  return x.st_dev == y.st_dev && x.st_ino == y.st_ino
}

/// A random run id: `run-` and 16 hex digits.
func newRunID() -> String {
  var generator = SystemRandomNumberGenerator()
  return "run-" + String(generator.next() as UInt64, radix: 16).leftPadded(to: 16)
}

extension String {
  func leftPadded(to width: Int, with pad: Character = "0") -> String {
    count >= width ? self : String(repeating: pad, count: width - count) + self
  }
}

/// Writes request lines into numbered files, starting a new file at each limit.
struct RequestFileWriter {
  let run: RunDirectory
  let limits: FileLimits
  let endpoint: String
  var firstNumber = 1
  var round = 1
  private(set) var files: [(record: InputFile, model: String, tokens: Int, file: AtomicFile)] = []
  private var current: AtomicFile?
  private var requests = 0
  private var bytes = 0
  private var inputs = 0
  private var tokens = 0
  private var model = ""
  /// Lines added for the current file and not written yet: one span of the
  /// caller's buffer, written in one call rather than copied line by line.
  private var pending: UnsafeBufferPointer<UInt8>?

  init(run: RunDirectory, limits: FileLimits, endpoint: String) {
    self.run = run
    self.limits = limits
    self.endpoint = endpoint
  }

  /// Adds one request line, starting a new file when the line would pass a
  /// limit or asks for another model.
  mutating func add(_ line: [UInt8], _ request: RenderedRequest, itemLine: Int, itemsName: String) throws {
    try admit(
      length: line.count, model: request.model ?? "", estimatedTokens: request.estimatedTokens,
      embeddingInputs: request.embeddingInputs, itemLine: itemLine, itemsName: itemsName)
    // The array does not outlive the call: it goes through the file's buffer.
    try flushPending()
    try current!.writer.write(line)
  }

  /// Adds one request line (with its newline) that stays where it is until
  /// ``flushPending()``: lines added one after the other in one buffer are
  /// written together.
  mutating func add(
    _ line: UnsafeBufferPointer<UInt8>, model requestModel: String, estimatedTokens: Int, embeddingInputs: Int,
    itemLine: Int, itemsName: String
  ) throws {
    try admit(
      length: line.count, model: requestModel, estimatedTokens: estimatedTokens, embeddingInputs: embeddingInputs,
      itemLine: itemLine, itemsName: itemsName)
    if let span = pending, span.baseAddress! + span.count == line.baseAddress {
      pending = UnsafeBufferPointer(start: span.baseAddress, count: span.count + line.count)
    } else {
      try flushPending()
      pending = line
    }
  }

  /// Checks a line against the limits, starts a new file when it must, and
  /// counts the line in the current file.
  private mutating func admit(
    length: Int, model requestModel: String, estimatedTokens: Int, embeddingInputs: Int, itemLine: Int,
    itemsName: String
  ) throws {
    guard length <= limits.bytes else {
      throw ToolError.dataError("\(itemsName):\(itemLine): the request is \(length) bytes, over the \(limits.bytes)-byte file limit")
    }
    if embeddingInputs > limits.embeddingInputs {
      throw ToolError.dataError("\(itemsName):\(itemLine): \(embeddingInputs) embedding inputs, over the limit of \(limits.embeddingInputs) per file")
    }
    if current == nil || requests + 1 > limits.requests || bytes + length > limits.bytes
      || (endpoint == "/v1/embeddings" && inputs + embeddingInputs > limits.embeddingInputs)
      || requestModel != model
    {
      try startFile(model: requestModel)
    }
    requests += 1
    bytes += length
    inputs += embeddingInputs
    tokens += estimatedTokens
  }

  /// Writes the lines added and not written yet; call it before their
  /// buffer changes.
  mutating func flushPending() throws {
    guard let span = pending else { return }
    pending = nil
    try current!.writer.writeDirectly(span)
  }

  private mutating func startFile(model newModel: String) throws {
    try flushPending()
    try closeCurrent()
    let name = "batch_" + String(firstNumber + files.count).leftPadded(to: 3) + ".jsonl"
    current = try AtomicFile(path: run.requestPath(name))
    files.append((InputFile(local: name, requests: 0, bytes: 0), newModel, 0, current!))
    requests = 0
    bytes = 0
    inputs = 0
    tokens = 0
    model = newModel
  }

  private mutating func closeCurrent() throws {
    guard let current, !files.isEmpty else { return }
    files[files.count - 1].record.requests = requests
    files[files.count - 1].record.bytes = bytes
    files[files.count - 1].tokens = tokens
    try current.writer.releaseBuffer()
  }

  /// Records the counts of the last file.
  mutating func finish() throws {
    try flushPending()
    try closeCurrent()
    for file in files { try file.file.writer.flush() }
  }

  /// Whether the files written equal `old` (names, counts and bytes on disk).
  func matches(_ old: [RequestFileRecord]) -> Bool {
    guard old.count == files.count else { return false }
    for (file, record) in zip(files, old) {
      guard file.record.local == record.inputFilename.local, file.record.requests == record.inputFilename.requests,
        file.record.bytes == record.inputFilename.bytes, file.model == record.model,
        filesEqual(file.file.temporaryPath, run.requestPath(record.inputFilename.local))
      else { return false }
    }
    return true
  }

  /// Renames every file into place.
  func commit() throws {
    for file in files { try file.file.commit() }
  }

  /// Deletes every temporary file.
  func abandon() {
    for file in files { file.file.abandon() }
  }

  /// The ledger entries of the files written.
  func records(maxOutputTokens: Int?) -> [RequestFileRecord] {
    files.map {
      RequestFileRecord(
        inputFilename: $0.record, round: round, model: $0.model, estimatedInputTokens: $0.tokens,
        maxOutputTokens: maxOutputTokens)
    }
  }
}

/// A chunk of items, rendered into request lines on a worker thread.
final class PrepareChunk {
  /// What rendering one item found: plain values, so that handing them
  /// over involves no reference counting.
  struct Rendered {
    /// Where the line ends in the output.
    var end: Int
    /// The fingerprint of the decoded `custom_id`, when the template makes one.
    var fingerprint: UInt64?
    /// Which of `models`.
    var model: Int
    var estimatedTokens: Int
    var embeddingInputs: Int
  }

  // The properties are unchecked for exclusive access: one thread at a time
  // uses a chunk (the hand-over goes through a lock), and the checks at run
  // time cost more than the work on short lines.

  /// The items, back to back, and where each ends.
  @exclusivity(unchecked) private var input: [UInt8] = []
  @exclusivity(unchecked) private var itemEnds: [Int] = []
  @exclusivity(unchecked) private var firstLine = 0
  @exclusivity(unchecked) private var output: [UInt8] = []
  @exclusivity(unchecked) private var rendered: [Rendered] = []
  /// The models of the lines, each once per run of lines that share it.
  @exclusivity(unchecked) private var models: [String] = []
  private var scratch = RenderScratch()
  private var idScratch: [UInt8] = []
  /// The item that could not be rendered (its line), and why.
  private(set) var failure: (line: Int, error: Error)?
  /// An error of the reading, after the chunk's items.
  private(set) var stopError: Error?

  /// About how many bytes of items make a chunk: large enough that handing
  /// it over costs nothing, small enough that the chunks in flight (with
  /// their request lines, four times larger) take little memory.
  private static let targetBytes = 512 << 10

  init() {
    input.reserveCapacity(Self.targetBytes + (1 << 16))
    output.reserveCapacity(4 * Self.targetBytes)
  }

  var isFull: Bool { input.count >= Self.targetBytes }

  func reset() {
    input.removeAll(keepingCapacity: true)
    itemEnds.removeAll(keepingCapacity: true)
    output.removeAll(keepingCapacity: true)
    rendered.removeAll(keepingCapacity: true)
    models.removeAll(keepingCapacity: true)
    failure = nil
    stopError = nil
  }

  func add(_ item: UnsafeBufferPointer<UInt8>, lineNumber: Int) {
    if itemEnds.isEmpty { firstLine = lineNumber }
    input.append(contentsOf: item)
    itemEnds.append(input.count)
  }

  /// Ends the chunk with an error of the reading.
  func stop(with error: Error) { stopError = error }

  /// Renders the items, up to the first that fails (on a worker thread).
  func render(_ template: CompiledTemplate) {
    // Locals in the loop: a class's properties are checked for exclusive
    // access at run time, at every use.
    var output = self.output
    var rendered = self.rendered
    var models = self.models
    var scratch = self.scratch
    var idScratch = self.idScratch
    self.output = []
    input.withUnsafeBufferPointer { input in
      var start = 0
      for (n, end) in itemEnds.enumerated() {
        let item = UnsafeBufferPointer(rebasing: input[start..<end])
        start = end
        do {
          let line = try template.render(item: item, lineNumber: firstLine + n, into: &output, scratch: &scratch)
          var fingerprint: UInt64?
          if template.customID != nil {
            fingerprint = output.withUnsafeBufferPointer { out in
              let raw = UnsafeBufferPointer(rebasing: out[line.customID])
              guard raw.contains(UInt8(ascii: "\\")) else { return ByteHash.hash(raw) }
              idScratch.removeAll(keepingCapacity: true)
              JSONScanner(out).appendDecodedString(contents: line.customID, to: &idScratch)
              return idScratch.withUnsafeBufferPointer { ByteHash.hash($0) }
            }
          }
          let model = line.model ?? ""
          if models.isEmpty || models[models.count - 1] != model { models.append(model) }
          rendered.append(
            Rendered(
              end: output.count, fingerprint: fingerprint, model: models.count - 1,
              estimatedTokens: line.estimatedTokens, embeddingInputs: line.embeddingInputs))
        } catch {
          failure = (firstLine + n, error)
          break
        }
      }
    }
    self.output = output
    self.rendered = rendered
    self.models = models
    self.scratch = scratch
    self.idScratch = idScratch
  }

  /// Adds the rendered lines, in order, to the request files and their
  /// ids to the duplicate finder.
  ///
  /// - Returns: The number of lines added.
  func write(to writer: inout RequestFileWriter, duplicates: inout DuplicateFinder?, itemsName: String) throws -> Int {
    try output.withUnsafeBufferPointer { out in
      var start = 0
      for (n, line) in rendered.enumerated() {
        if let fingerprint = line.fingerprint { duplicates?.add(fingerprint: fingerprint, line: firstLine + n) }
        try writer.add(
          UnsafeBufferPointer(rebasing: out[start..<line.end]), model: models[line.model],
          estimatedTokens: line.estimatedTokens, embeddingInputs: line.embeddingInputs, itemLine: firstLine + n,
          itemsName: itemsName)
        start = line.end
      }
      // The lines are written before their buffer is reused.
      try writer.flushPending()
      return rendered.count
    }
  }
}

/// Whether two files have the same bytes.
func filesEqual(_ a: String, _ b: String) -> Bool {
  let x = open(a, O_RDONLY | O_CLOEXEC)
  let y = open(b, O_RDONLY | O_CLOEXEC)
  defer {
    if x >= 0 { close(x) }
    if y >= 0 { close(y) }
  }
  guard x >= 0, y >= 0 else { return false }
  let size = 1 << 16
  var left = [UInt8](repeating: 0, count: size)
  var right = [UInt8](repeating: 0, count: size)
  while true {
    let n = readFully(x, &left)
    let m = readFully(y, &right)
    guard n == m, n >= 0 else { return false }
    if n == 0 { return true }
    if memcmp(left, right, n) != 0 { return false }
  }
}

/// Reads until `buffer` is full or the file ends; -1 on an error.
func readFully(_ fd: Int32, _ buffer: inout [UInt8]) -> Int {
  var filled = 0
  let count = buffer.count
  while filled < count {
    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, count - filled) }
    if n < 0 {
      if errno == EINTR { continue }
      return -1
    }
    if n == 0 { break }
    filled += n
  }
  return filled
}
