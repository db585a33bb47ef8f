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
  let prices = try PriceTable.load(run: run)
  let rounds = try RoundCursor.rounds(of: ledger, in: run)
  let first = rounds[0]

  let items = try InputLines(path: run.file(ledger.items.path))
  // Chunks read mapped items in place: the pages they use stay mapped.
  items.keepBehind = MergeChunk.bytesInFlight
  let itemsInPlace = items.file != nil
  let toStdout = options.output == "-"
  let target = toStdout ? nil : try AtomicFile(path: options.output ?? run.classifiedPath)
  let writer = target?.writer ?? BufferedWriter(fd: 1, name: "<stdout>")
  var report = MergeReport()
  let format = MergedLineFormat(outputField: ledger.outputField, endpoint: ledger.endpoint, itemsPath: run.itemsPath)

  // This thread reads the items, the request ids and the result lines in
  // step and matches them by id; the jobs, one chunk of items each, validate
  // and parse the result lines and put the merged lines together (most of
  // the time), on a worker and on this thread while it waits; the chunks
  // come back in order and are written here.
  let workers = OrderedWorkers<MergeChunk>(workers: Concurrency.threads - 1, depth: Concurrency.pipelineDepth) {
    $0.merge(format)
  }
  defer { workers.stop() }
  var spare: [MergeChunk] = []
  func takeBack() throws {
    guard let chunk = workers.takeOldest() else { return }
    try chunk.withWritten { try writer.writeDirectly($0) }
    report.add(chunk)
    if let error = chunk.error { throw error }
    spare.append(chunk)
  }
  func submit(_ chunk: MergeChunk) throws {
    if !workers.hasRoom { try takeBack() }
    workers.submit(chunk)
  }

  do {
    var chunk = MergeChunk()
    var id: [UInt8] = []
    /// Reads the next item and its results into the chunk; false at the end.
    func readItem() throws -> Bool {
      guard let item = try items.nextLine() else {
        for cursor in rounds where try cursor.nextRequestID() != nil {
          throw ToolError.dataError(
            "\(run.itemsPath): fewer items than the requests of round \(cursor.round); the items changed since prepare")
        }
        return false
      }
      chunk.beginItem(item, lineNumber: items.lineNumber, inPlace: itemsInPlace)
      guard try first.nextRequestID(into: &id) else {
        throw ToolError.dataError("\(run.itemsPath):\(items.lineNumber): more items than requests; run batch-prepare again")
      }
      for cursor in rounds { try cursor.match(id, into: chunk) }
      chunk.endItem()
      return true
    }
    while true {
      do {
        guard try readItem() else { break }
      } catch {
        // Reported once the items before it are merged: an error a worker
        // finds in an earlier line comes first, as it would one by one.
        chunk.stop(with: error)
        break
      }
      if chunk.isFull {
        try submit(chunk)
        chunk = spare.popLast() ?? MergeChunk()
        chunk.reset()
      }
    }
    try submit(chunk)
    while workers.pending > 0 { try takeBack() }
    try writer.flush()
    try target?.commit()
  } catch {
    target?.abandon()
    throw error
  }
  printCounter(report, prices: prices, toStdout: toStdout)
  return report
}

/// How merged lines are spelled: the output field, the endpoint's answer.
struct MergedLineFormat: Sendable {
  /// `"<field>":`
  let fieldPrefix: [UInt8]
  /// `null,"<field>_error":`
  let errorPrefix: [UInt8]
  let answerKind: AnswerKind
  /// For messages about the items.
  let itemsPath: String

  init(outputField: String, endpoint: String, itemsPath: String) {
    fieldPrefix = Array("\"\(outputField)\":".utf8)
    errorPrefix = Array("null,\"\(outputField)_error\":".utf8)
    answerKind = AnswerKind(endpoint: endpoint)
    self.itemsPath = itemsPath
  }
}

/// What a request file's results contribute besides their lines: the
/// model of its requests, the failure of those without a line, and the
/// names of its result files for messages.
final class ResultFileContext: Sendable {
  /// The model the request file asked for (when a body names none).
  let model: String
  /// The failure of a request with neither an answer nor an error line.
  let missing: FailureRecord
  let answersName: String
  let errorsName: String
  /// The result files, when mapped: chunks that read lines in place keep
  /// them mapped until they are merged.
  let mappedFiles: [MappedFile]

  init(
    model: String, missing: FailureRecord, answersName: String = "", errorsName: String = "", mappedFiles: [MappedFile] = []
  ) {
    self.model = model
    self.missing = missing
    self.answersName = answersName
    self.errorsName = errorsName
    self.mappedFiles = mappedFiles
  }
}

/// A chunk of items with the result lines that match them, merged on a
/// worker thread.
final class MergeChunk {
  /// Where some of the chunk's bytes are: in a mapped file, which the chunk
  /// reads in place (copying the gigabyte of items and result lines was 5%
  /// of merge), or copied into `arena` (from a file read through a buffer).
  fileprivate struct Bytes {
    /// The bytes in a mapped file, or nil for `arena[start...]`.
    var mapped: UnsafePointer<UInt8>?
    var start: Int
    var count: Int
  }

  private struct Item {
    var bytes: Bytes
    var lineNumber: Int
    var firstMatch: Int
    var matchCount: Int
  }

  /// One round's result for an item: plain values, so that adding and
  /// reading them involves no reference counting.
  struct Match {
    enum Kind { case answer, error, missing }
    var kind: Kind
    fileprivate var bytes: Bytes
    /// The line's number, for messages.
    var lineNumber: Int
    /// Which of `contexts`.
    var context: Int
  }

  // The properties are unchecked for exclusive access: one thread at a time
  // uses a chunk (the hand-over goes through a lock), and the checks at run
  // time cost more than the work on short lines.

  /// Items and result lines copied out of the readers' buffers.
  @exclusivity(unchecked) private var arena: [UInt8] = []
  /// Bytes of the chunk, copied or not.
  @exclusivity(unchecked) private var size = 0
  @exclusivity(unchecked) private var items: [Item] = []
  @exclusivity(unchecked) private var matches: [Match] = []
  @exclusivity(unchecked) private var contexts: [ResultFileContext] = []
  /// Whether the last item lacks some of its rounds (an error stopped the reading).
  @exclusivity(unchecked) private var lastIsPartial = false
  /// An error of the reading, after the chunk's items.
  private var stopError: Error?

  /// The merged lines.
  private var output: [UInt8] = []
  /// How much of `output` precedes the first error.
  private var writtenCount = 0
  /// The first error, in the order of the items.
  private(set) var error: Error?
  /// What the chunk counted.
  private(set) var itemCount = 0
  private(set) var answered = 0
  private(set) var retryable = 0
  private(set) var failures: [String: Int] = [:]
  private(set) var tallies = ModelTallies()

  /// Roughly how many bytes of input make a chunk: big enough that the
  /// hand-offs cost nothing, small enough that a few in flight stay small.
  private static let targetBytes = 1 << 20

  /// More than the bytes of the chunks in flight and the one being read:
  /// how far behind its position a mapped reader keeps its pages.
  static var bytesInFlight: Int { (Concurrency.pipelineDepth + 1) * targetBytes + (1 << 20) }

  init() {
    arena.reserveCapacity(Self.targetBytes + (1 << 16))
    output.reserveCapacity(Self.targetBytes / 2)
  }

  var isFull: Bool { size >= Self.targetBytes || items.count >= 8192 }

  /// Calls `body` with the merged lines before the first error.
  func withWritten(_ body: (UnsafeBufferPointer<UInt8>) throws -> Void) rethrows {
    try output.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[..<writtenCount])) }
  }

  func reset() {
    arena.removeAll(keepingCapacity: true)
    size = 0
    items.removeAll(keepingCapacity: true)
    matches.removeAll(keepingCapacity: true)
    contexts.removeAll(keepingCapacity: true)
    output.removeAll(keepingCapacity: true)
    lastIsPartial = false
    stopError = nil
    writtenCount = 0
    error = nil
    itemCount = 0
    answered = 0
    retryable = 0
    failures = [:]
    tallies = ModelTallies()
  }

  /// Keeps `bytes`: where they are, if they stay there (a mapped file that
  /// outlives the chunk), else a copy.
  private func keep(_ bytes: UnsafeBufferPointer<UInt8>, inPlace: Bool) -> Bytes {
    size += bytes.count
    if inPlace { return Bytes(mapped: bytes.baseAddress, start: 0, count: bytes.count) }
    let start = arena.count
    arena.append(contentsOf: bytes)
    return Bytes(mapped: nil, start: start, count: bytes.count)
  }

  /// Starts an item.
  ///
  /// - Parameter inPlace: Whether the bytes stay where they are until the
  ///   chunk is merged.
  func beginItem(_ item: UnsafeBufferPointer<UInt8>, lineNumber: Int, inPlace: Bool) {
    items.append(Item(bytes: keep(item, inPlace: inPlace), lineNumber: lineNumber, firstMatch: matches.count, matchCount: 0))
    lastIsPartial = true
  }

  /// Adds one round's result for the item being read: a line, or nil when
  /// the round has no line for it.
  func add(
    _ kind: Match.Kind, line: UnsafeBufferPointer<UInt8>?, inPlace: Bool, lineNumber: Int, context: ResultFileContext
  ) {
    let bytes = line.map { keep($0, inPlace: inPlace) } ?? Bytes(mapped: nil, start: 0, count: 0)
    if contexts.isEmpty || contexts[contexts.count - 1] !== context { contexts.append(context) }
    matches.append(Match(kind: kind, bytes: bytes, lineNumber: lineNumber, context: contexts.count - 1))
    items[items.count - 1].matchCount += 1
  }

  func endItem() { lastIsPartial = false }

  @inline(__always)
  private static func bytes(_ bytes: Bytes, _ arena: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
    if let mapped = bytes.mapped { return UnsafeBufferPointer(start: mapped, count: bytes.count) }
    return UnsafeBufferPointer(rebasing: arena[bytes.start..<(bytes.start + bytes.count)])
  }

  /// Ends the chunk with an error of the reading.
  func stop(with error: Error) { stopError = error }

  /// Merges the chunk's items (on a worker thread).
  func merge(_ format: MergedLineFormat) {
    // Locals, not properties, in the loop: every access to a class's
    // property is checked for exclusivity at run time.
    var output = self.output
    self.output = []
    var counts = Counts()
    arena.withUnsafeBufferPointer { arena in
      do {
        for (n, item) in items.enumerated() {
          let partial = lastIsPartial && n == items.count - 1
          try merge(item, arena, format, partial: partial, to: &output, &counts)
          if !partial { writtenCount = output.count }
        }
        if let stopError { throw stopError }
      } catch {
        self.error = error
      }
    }
    self.output = output
    itemCount = counts.items
    answered = counts.answered
    retryable = counts.retryable
    failures = counts.failures
    tallies = counts.tallies
  }

  private struct Counts {
    var items = 0
    var answered = 0
    var retryable = 0
    var failures: [String: Int] = [:]
    var tallies = ModelTallies()
  }

  private func merge(
    _ item: Item, _ arena: UnsafeBufferPointer<UInt8>, _ format: MergedLineFormat, partial: Bool,
    to output: inout [UInt8], _ counts: inout Counts
  ) throws {
    // An answer from any round wins; otherwise the latest round's failure.
    var answer: ResultLine?
    var answerContext = 0
    var failure: FailureRecord?
    for n in item.firstMatch..<(item.firstMatch + item.matchCount) {
      let m = matches[n]
      let result: ResultLine
      switch m.kind {
      case .missing:
        if answer == nil { failure = contexts[m.context].missing }
        continue
      case .answer, .error:
        do {
          result = try ResultLine(Self.bytes(m.bytes, arena))
        } catch let error as JSONSyntaxError {
          let context = contexts[m.context]
          let name = m.kind == .answer ? context.answersName : context.errorsName
          throw ToolError.dataError("\(name):\(m.lineNumber): not valid JSON: \(error.reason)")
        }
      }
      guard answer == nil else { continue }
      if m.kind == .answer, result.isSuccess, result.body != nil {
        answer = result
        answerContext = m.context
      } else {
        failure = FailureRecord(from: result)
      }
    }
    if partial { return }

    let bytes = Self.bytes(item.bytes, arena)
    guard let end = objectEnd(bytes) else {
      throw ToolError.dataError("\(format.itemsPath):\(item.lineNumber): not a JSON object; items changed since prepare")
    }
    output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[..<end.close]))
    if !end.isEmpty { output.append(UInt8(ascii: ",")) }
    output.append(contentsOf: format.fieldPrefix)
    if let line = answer {
      let summary = line.summary
      summary.appendAnswer(format.answerKind, line.scanner, body: line.body!, to: &output)
      counts.answered += 1
      if let model = summary.model {
        counts.tallies.add(summary.tally, escapedModel: UnsafeBufferPointer(rebasing: line.scanner.bytes[model]))
      } else {
        counts.tallies.add(summary.tally, model: contexts[answerContext].model)
      }
    } else {
      let failure = failure ?? .missing(code: "request_not_run")
      output.append(contentsOf: format.errorPrefix)
      failure.appendJSON(to: &output)
      counts.failures[failure.code ?? "http_\(failure.status ?? 0)", default: 0] += 1
      if failure.isRetryable { counts.retryable += 1 }
      if let tally = failure.tally { counts.tallies.add(tally, model: failure.model ?? "") }
    }
    output.append(UInt8(ascii: "}"))
    output.append(0x0A)
    counts.items += 1
  }
}

extension MergeReport {
  /// Adds what a chunk counted.
  mutating func add(_ chunk: MergeChunk) {
    items += chunk.itemCount
    answered += chunk.answered
    retryable += chunk.retryable
    for (code, n) in chunk.failures { failures[code, default: 0] += n }
    chunk.tallies.forEach { tokens[$0, default: TokenTally()] += $1 }
  }
}

/// Token tallies by model, keyed by the model's bytes so that the name is
/// decoded once per model, not once per line.
struct ModelTallies {
  private var keys: [[UInt8]] = []
  private var names: [String] = []
  private var tallies: [TokenTally] = []
  private var scratch: [UInt8] = []

  /// Adds a tally for the model whose name is the escaped string contents `escaped`.
  mutating func add(_ tally: TokenTally, escapedModel escaped: UnsafeBufferPointer<UInt8>) {
    if !escaped.contains(UInt8(ascii: "\\")) {
      add(tally, key: escaped)
      return
    }
    scratch.removeAll(keepingCapacity: true)
    JSONScanner(escaped).appendDecodedString(contents: 0..<escaped.count, to: &scratch)
    let decoded = scratch
    decoded.withUnsafeBufferPointer { add(tally, key: $0) }
  }

  /// Adds a tally for the model `name`.
  mutating func add(_ tally: TokenTally, model name: String) {
    var name = name
    name.withUTF8 { add(tally, key: $0) }
  }

  private mutating func add(_ tally: TokenTally, key: UnsafeBufferPointer<UInt8>) {
    for n in keys.indices.reversed() where keys[n].count == key.count {
      let same = keys[n].withUnsafeBufferPointer { key.count == 0 || memcmp($0.baseAddress!, key.baseAddress!, key.count) == 0 }
      if same {
        tallies[n] += tally
        return
      }
    }
    keys.append(Array(key))
    names.append(String(decoding: key, as: UTF8.self))
    tallies.append(tally)
  }

  func forEach(_ body: (String, TokenTally) -> Void) {
    for n in names.indices { body(names[n], tallies[n]) }
  }
}

/// Where an item's object closes, and whether it has no members.
private func objectEnd(_ item: UnsafeBufferPointer<UInt8>) -> (close: Int, isEmpty: Bool)? {
  var end = item.count
  while end > 0, [0x20, 0x09, 0x0D].contains(item[end - 1]) { end -= 1 }
  guard end > 0, item[end - 1] == UInt8(ascii: "}") else { return nil }
  let close = end - 1
  var start = 0
  while start < close, [0x20, 0x09].contains(item[start]) { start += 1 }
  guard item[start] == UInt8(ascii: "{") else { return nil }
  var inner = start + 1
  while inner < close, [0x20, 0x09, 0x0A, 0x0D].contains(item[inner]) { inner += 1 }
  return (close, inner == close)
}

/// Prints the article's Counter line, then the cost in detail and the failures.
private func printCounter(_ report: MergeReport, prices: PriceTable, toStdout: Bool) {
  var total = TokenTally()
  var cost = 0.0
  var unpriced: [String] = []
  for (model, tally) in report.tokens.sorted(by: { $0.key < $1.key }) {
    total += tally
    if let price = prices.price(for: model) {
      cost += tally.cost(at: price)
    } else if tally.input + tally.output > 0 {
      unpriced.append(model)
    }
  }
  let counter = String(
    format: "price: %.2f USD; items: %d; tokens (llm in: %d, llm out: %d)", cost, report.answered, total.input,
    total.output)
  // The Counter line is the result when the items go elsewhere.
  if toStdout { Diagnostics.write(counter + "\n") } else { print(counter) }
  var detail = "tokens: \(grouped(total.input)) in (\(grouped(total.cachedInput)) cached), "
  detail += "\(grouped(total.output)) out (\(grouped(total.reasoning)) reasoning); prices of \(prices.date)"
  if !unpriced.isEmpty { detail += "; no price for \(unpriced.joined(separator: ", ")) (add it to prices.json)" }
  Diagnostics.note(detail)
  let failed = report.items - report.answered
  if failed > 0 {
    let codes = report.failures.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    var text = "\(failed) of \(report.items) items failed (\(codes))"
    text += report.retryable > 0 ? "; \(report.retryable) can be retried with make retry" : "; none can be retried"
    Diagnostics.note(text)
  }
}

/// An item's result in one round.
enum Outcome {
  /// The answer as compact JSON, the model that gave it, and its tokens.
  case answer([UInt8], model: String, TokenTally)
  case failure(FailureRecord)

  /// The result of request `id` over every round: an answer from any round
  /// wins; otherwise the latest round's error.
  static func resolve(_ id: [UInt8], in rounds: [RoundCursor]) throws -> Outcome? {
    var outcome: Outcome?
    for cursor in rounds {
      guard let result = try cursor.outcome(for: id) else { continue }
      if case .answer = outcome {} else { outcome = result }
    }
    return outcome
  }
}

/// A failed request: what `<field>_error` holds.
struct FailureRecord: Sendable {
  var status: Int?
  var code: String?
  /// The message as escaped JSON string contents.
  var message: [UInt8]
  var tally: TokenTally?
  var model: String?

  init(status: Int?, code: String?, message: [UInt8], tally: TokenTally? = nil, model: String? = nil) {
    self.status = status
    self.code = code
    self.message = message
    self.tally = tally
    self.model = model
  }

  /// For a request that has neither an answer nor an error line.
  static func missing(code: String, message: String? = nil) -> FailureRecord {
    var escaped: [UInt8] = []
    JSONWriter.appendEscaped(
      (message ?? "the batch ended without an answer or an error for this request").utf8, to: &escaped)
    return FailureRecord(status: nil, code: code, message: escaped)
  }

  /// The failure a result line reports: its status, and the code and
  /// message of `error` or, for an HTTP failure, of `response.body.error`.
  init(from line: ResultLine) {
    let s = line.scanner
    self.init(status: line.statusCode, code: nil, message: [])
    var errorObject: Range<Int>?
    if let error = line.error, s.kind(at: error.lowerBound) == .object {
      errorObject = error
    } else if let body = line.body, s.kind(at: body.lowerBound) == .object,
      let error = try? s.member(Array("error".utf8), ofObjectAt: body.lowerBound),
      s.kind(at: error.lowerBound) == .object
    {
      errorObject = error
    }
    if let errorObject {
      if let code = try? s.member(Array("code".utf8), ofObjectAt: errorObject.lowerBound) {
        self.code = s.string(at: code)
      }
      if let message = try? s.member(Array("message".utf8), ofObjectAt: errorObject.lowerBound),
        s.kind(at: message.lowerBound) == .string
      {
        self.message = Array(s.bytes[(message.lowerBound + 1)..<(message.upperBound - 1)])
      }
    }
    if self.message.isEmpty {
      JSONWriter.appendEscaped("request failed with HTTP \(status.map(String.init) ?? "error")".utf8, to: &self.message)
    }
    let summary = line.summary
    if line.body != nil, summary.tally.input + summary.tally.output > 0 {
      tally = summary.tally
      model = summary.model.map { String(decoding: s.decodeString(contents: $0), as: UTF8.self) }
    }
  }

  /// Whether resubmitting may succeed: 429 and 5xx, requests that never ran
  /// (expired, cancelled, timed out, not run), and batches refused for the
  /// enqueued-token limit; any other 4xx is final.
  var isRetryable: Bool {
    if let status { return status == 429 || status >= 500 }
    return Self.retryableCodes.contains(code ?? "")
  }

  static let retryableCodes: Set<String> = [
    "batch_expired", "batch_cancelled", "request_timeout", "request_not_run", "token_limit_exceeded",
    "rate_limit_exceeded", "server_error",
  ]

  func appendJSON(to out: inout [UInt8]) {
    out.append(contentsOf: Array("{\"status\":".utf8))
    if let status { JSONWriter.appendInteger(status, to: &out) } else { out.append(contentsOf: Array("null".utf8)) }
    out.append(contentsOf: Array(",\"code\":".utf8))
    if let code { JSONWriter.appendString(code, to: &out) } else { out.append(contentsOf: Array("null".utf8)) }
    out.append(contentsOf: Array(",\"message\":\"".utf8))
    out.append(contentsOf: message)
    out.append(contentsOf: Array("\"}".utf8))
  }
}

/// Walks one round's request files and their sorted results in step with
/// the items.
final class RoundCursor {
  let round: Int
  private let run: RunDirectory
  private var files: [RequestFileRecord]
  // Unchecked for exclusive access: used by one thread, one call at a
  // time; the checks at run time were 7% of the reading thread's time.
  @exclusivity(unchecked) private var fileIndex = -1
  @exclusivity(unchecked) private var requests: InputLines?
  @exclusivity(unchecked) private var answers: PeekingReader?
  @exclusivity(unchecked) private var errors: PeekingReader?
  @exclusivity(unchecked) private var pendingID: [UInt8]?
  private let answerKind: AnswerKind
  /// The current file's model and missing-result failure.
  @exclusivity(unchecked) private var context = ResultFileContext(model: "", missing: .missing(code: "request_not_run"))
  /// Whether ``lastRequestLine`` keeps each request line (for retry).
  var keepsLines = false
  /// The request line last read, when ``keepsLines`` is set.
  private(set) var lastRequestLine: [UInt8] = []
  /// The request file being read.
  var currentFile: RequestFileRecord? { fileIndex >= 0 && fileIndex < files.count ? files[fileIndex] : nil }

  /// One cursor per round, first round first, once every round's results
  /// are downloaded and sorted.
  ///
  /// - Throws: ``ToolError`` 66 when some are not.
  static func rounds(of ledger: Ledger, in run: RunDirectory) throws -> [RoundCursor] {
    for file in ledger.files {
      guard file.isDownloaded else {
        throw ToolError.noInput("the results of in/\(file.inputFilename.local) are not downloaded yet; run make merged")
      }
      guard file.sorted == true else {
        throw ToolError.noInput("the results of in/\(file.inputFilename.local) are not sorted yet; run batch-sort")
      }
    }
    let rounds = Dictionary(grouping: ledger.files, by: \.round).sorted { $0.key < $1.key }
      .map { RoundCursor(run: run, files: $0.value, endpoint: ledger.endpoint) }
    guard let first = rounds.first, first.round == 1 else {
      throw ToolError.dataError("'\(run.ledgerPath)' has no first-round request files")
    }
    return rounds
  }

  init(run: RunDirectory, files: [RequestFileRecord], endpoint: String) {
    self.run = run
    self.files = files
    self.round = files.first?.round ?? 0
    self.answerKind = AnswerKind(endpoint: endpoint)
  }

  /// The id of the next request of the round, or nil after the last.
  func nextRequestID() throws -> [UInt8]? {
    var id: [UInt8] = []
    return try nextRequestID(into: &id) ? id : nil
  }

  /// Puts the id of the next request of the round in `id` (decoded); false
  /// after the last. Reusing `id` saves an allocation per item.
  func nextRequestID(into id: inout [UInt8]) throws -> Bool {
    if let pending = pendingID {
      pendingID = nil
      id = pending
      return true
    }
    while true {
      if let requests, let line = try requests.nextLine() {
        guard let range = try ResultLine.customID(of: line) else {
          throw ToolError.dataError("\(requests.name):\(requests.lineNumber): no custom_id")
        }
        if keepsLines { lastRequestLine = Array(line) }
        id.removeAll(keepingCapacity: true)
        JSONScanner(line).appendDecodedString(contents: range, to: &id)
        return true
      }
      guard try openNextFile() else { return false }
    }
  }

  /// Whether request `id` is this round's next request (always, in the
  /// first round, which has every item); moves past it if so.
  private func isNext(_ id: [UInt8]) throws -> Bool {
    guard round != 1 else { return true }
    if pendingID == nil { pendingID = try nextRequestID() }
    guard pendingID == id else { return false }
    pendingID = nil
    return true
  }

  /// Adds this round's result line for request `id` to `chunk`, unparsed:
  /// its answer line, else its error line, else that it has neither. Adds
  /// nothing when the round did not have the request.
  func match(_ id: [UInt8], into chunk: MergeChunk) throws {
    guard try isNext(id) else { return }
    if let answers, let line = try answers.takeLine(id) {
      chunk.add(.answer, line: line, inPlace: answers.isMapped, lineNumber: answers.lineNumber, context: context)
    } else if let errors, let line = try errors.takeLine(id) {
      chunk.add(.error, line: line, inPlace: errors.isMapped, lineNumber: errors.lineNumber, context: context)
    } else {
      chunk.add(.missing, line: nil, inPlace: false, lineNumber: 0, context: context)
    }
  }

  /// The outcome of request `id` if it is this round's next request, else nil.
  func outcome(for id: [UInt8]) throws -> Outcome? {
    guard try isNext(id) else { return nil }
    if let line = try answers?.take(id) {
      if line.isSuccess, let body = line.body {
        var json: [UInt8] = []
        line.summary.appendAnswer(answerKind, line.scanner, body: body, to: &json)
        let model = line.summary.model.map { String(decoding: line.scanner.decodeString(contents: $0), as: UTF8.self) }
        return .answer(json, model: model ?? context.model, line.summary.tally)
      }
      return .failure(FailureRecord(from: line))
    }
    if let line = try errors?.take(id) {
      return .failure(FailureRecord(from: line))
    }
    return .failure(context.missing)
  }

  /// Checks that the current file's results were all taken: a line left
  /// over means the file is not in input order (or names another request).
  private func checkResultsTaken() throws {
    for reader in [answers, errors] {
      if let reader, let line = try reader.leftover() {
        throw ToolError.dataError(
          "\(line.name):\(line.number): a result out of input order or for another request; run batch-sort again")
      }
    }
  }

  private func openNextFile() throws -> Bool {
    if fileIndex >= 0 { try checkResultsTaken() }
    fileIndex += 1
    guard fileIndex < files.count else {
      requests = nil
      return false
    }
    let file = files[fileIndex]
    requests = try InputLines(path: run.requestPath(file.inputFilename.local))
    answers = try file.outputFilenames?.ok.local.map { try PeekingReader(path: run.resultPath($0)) }
    errors = try file.outputFilenames?.failed.local.map { try PeekingReader(path: run.resultPath($0)) }
    // Chunks read mapped result lines in place (see `MergeChunk`).
    answers?.keepBehind = MergeChunk.bytesInFlight
    errors?.keepBehind = MergeChunk.bytesInFlight
    let missing: FailureRecord
    switch file.status {
    case "expired": missing = .missing(code: "batch_expired", message: "the batch expired before this request ran")
    case "cancelled": missing = .missing(code: "batch_cancelled", message: "the batch was cancelled before this request ran")
    case "failed":
      let first = file.errors?.first
      missing = .missing(code: first?.code ?? "batch_failed", message: "the batch failed: " + (first?.message ?? "no reason given"))
    default: missing = .missing(code: "request_not_run")
    }
    context = ResultFileContext(
      model: file.model, missing: missing, answersName: answers?.name ?? "", errorsName: errors?.name ?? "",
      mappedFiles: [answers?.mappedFile, errors?.mappedFile].compactMap { $0 })
    return true
  }
}

/// A line reader that can look at its next line before taking it.
///
/// The line stays in the reader's buffer until it is taken: nothing is
/// copied, since each reader has a buffer of its own.
final class PeekingReader {
  private let reader: InputLines
  // Unchecked: read and written only here, one call at a time; the checks
  // at run time were 7% of the thread that reads the files.
  @exclusivity(unchecked) private var current: UnsafeBufferPointer<UInt8>?
  @exclusivity(unchecked) private var currentID: Range<Int>?

  init(path: String) throws {
    reader = try InputLines(path: path)
  }

  /// The file's name, for messages.
  var name: String { reader.name }
  /// The file, when it is mapped (its lines then stay where they are).
  var mappedFile: MappedFile? { reader.file }
  var isMapped: Bool { reader.file != nil }
  /// How far behind its position the reader keeps the file's pages mapped.
  var keepBehind: Int {
    get { reader.keepBehind }
    set { reader.keepBehind = newValue }
  }
  /// The number of the line last taken or looked at.
  var lineNumber: Int { reader.lineNumber }

  /// The next line if its `custom_id` is `id`, parsed; else nil.
  func take(_ id: [UInt8]) throws -> ResultLine? {
    guard let line = try takeLine(id) else { return nil }
    do {
      return try ResultLine(line)
    } catch let error as JSONSyntaxError {
      throw ToolError.dataError("\(reader.name):\(reader.lineNumber): not valid JSON: \(error.reason)")
    }
  }

  /// The next line if its `custom_id` is `id`, as it is (valid until the
  /// reader moves on); else nil. Only the line's top level up to the id is
  /// checked.
  func takeLine(_ id: [UInt8]) throws -> UnsafeBufferPointer<UInt8>? {
    if current == nil {
      guard let line = try reader.nextLine() else { return nil }
      current = line
      do {
        currentID = try ResultLine.customID(of: line)
      } catch let error as JSONSyntaxError {
        throw ToolError.dataError("\(reader.name):\(reader.lineNumber): not valid JSON: \(error.reason)")
      }
    }
    guard let line = current, let range = currentID, sameID(line, range, id) else { return nil }
    current = nil
    return line
  }

  /// The file and line of a line not taken yet, if any.
  func leftover() throws -> (name: String, number: Int)? {
    if current != nil { return (reader.name, reader.lineNumber) }
    while let line = try reader.nextLine() {
      if !line.isEmpty { return (reader.name, reader.lineNumber) }
    }
    return nil
  }

  /// Whether the escaped id at `range` of `line` spells `id`.
  private func sameID(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ id: [UInt8]) -> Bool {
    let raw = UnsafeBufferPointer(rebasing: line[range])
    if raw.count == id.count
      && id.withUnsafeBufferPointer({ raw.count == 0 || memcmp(raw.baseAddress!, $0.baseAddress!, raw.count) == 0 })
    {
      return true
    }
    guard raw.contains(UInt8(ascii: "\\")) else { return false }
    return JSONScanner(line).decodeString(contents: range) == id
  }
}
