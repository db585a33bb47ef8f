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

  let items = try LineReader(path: run.file(ledger.items.path))
  let toStdout = options.output == "-"
  let target = toStdout ? nil : try AtomicFile(path: options.output ?? run.classifiedPath)
  let writer = target?.writer ?? BufferedWriter(fd: 1, name: "<stdout>")
  var report = MergeReport()
  var line: [UInt8] = []
  line.reserveCapacity(1 << 16)
  let field = Array(ledger.outputField.utf8)
  let errorField = Array((ledger.outputField + "_error").utf8)

  do {
    while let item = try items.nextLine() {
      guard let id = try first.nextRequestID() else {
        throw ToolError.dataError("\(run.itemsPath):\(items.lineNumber): more items than requests; run batch-prepare again")
      }
      let outcome = try Outcome.resolve(id, in: rounds)
      line.removeAll(keepingCapacity: true)
      guard let end = objectEnd(item) else {
        throw ToolError.dataError("\(run.itemsPath):\(items.lineNumber): not a JSON object; items changed since prepare")
      }
      line.append(contentsOf: UnsafeBufferPointer(rebasing: item[..<end.close]))
      if !end.isEmpty { line.append(UInt8(ascii: ",")) }
      line.append(UInt8(ascii: "\""))
      line.append(contentsOf: field)
      line.append(contentsOf: Array("\":".utf8))
      switch outcome ?? .failure(FailureRecord.missing(code: "request_not_run")) {
      case .answer(let answer, let model, let tally):
        line.append(contentsOf: answer)
        report.answered += 1
        report.tokens[model, default: TokenTally()] += tally
      case .failure(let failure):
        line.append(contentsOf: Array("null,\"".utf8))
        line.append(contentsOf: errorField)
        line.append(contentsOf: Array("\":".utf8))
        failure.appendJSON(to: &line)
        report.failures[failure.code ?? "http_\(failure.status ?? 0)", default: 0] += 1
        if failure.isRetryable { report.retryable += 1 }
        if let tally = failure.tally { report.tokens[failure.model ?? "", default: TokenTally()] += tally }
      }
      line.append(contentsOf: Array("}\n".utf8))
      try writer.write(line)
      report.items += 1
    }
    for cursor in rounds where try cursor.nextRequestID() != nil {
      throw ToolError.dataError(
        "\(run.itemsPath): fewer items than the requests of round \(cursor.round); the items changed since prepare")
    }
    try writer.flush()
    try target?.commit()
  } catch {
    target?.abandon()
    throw error
  }
  printCounter(report, prices: prices, toStdout: toStdout)
  return report
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
struct FailureRecord {
  var status: Int?
  var code: String?
  /// The message as escaped JSON string contents.
  var message: [UInt8]
  var tally: TokenTally?
  var model: String?

  /// For a request that has neither an answer nor an error line.
  static func missing(code: String, message: String? = nil) -> FailureRecord {
    var escaped: [UInt8] = []
    JSONWriter.appendEscaped(
      (message ?? "the batch ended without an answer or an error for this request").utf8, to: &escaped)
    return FailureRecord(status: nil, code: code, message: escaped)
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
  private var fileIndex = -1
  private var requests: LineReader?
  private var answers: PeekingReader?
  private var errors: PeekingReader?
  private var pendingID: [UInt8]?
  private let endpoint: String
  private var missingCode = "request_not_run"
  private var missingMessage: String?
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
    self.endpoint = endpoint
  }

  /// The id of the next request of the round, or nil after the last.
  func nextRequestID() throws -> [UInt8]? {
    if let pending = pendingID {
      pendingID = nil
      return pending
    }
    while true {
      if let requests, let line = try requests.nextLine() {
        guard let range = try ResultLine.customID(of: line) else {
          throw ToolError.dataError("\(requests.name):\(requests.lineNumber): no custom_id")
        }
        if keepsLines { lastRequestLine = Array(line) }
        return JSONScanner(line).decodeString(contents: range)
      }
      guard try openNextFile() else { return nil }
    }
  }

  /// The outcome of request `id` if it is this round's next request, else nil.
  func outcome(for id: [UInt8]) throws -> Outcome? {
    if round != 1 {
      if pendingID == nil { pendingID = try nextRequestID() }
      guard pendingID == id else { return nil }
      pendingID = nil
    }
    if let line = try answers?.take(id) {
      if line.isSuccess, let body = line.body {
        let answer = try Answer(endpoint: endpoint, line.scanner, body: body)
        let model = answer.model.map { String(decoding: line.scanner.decodeString(contents: $0), as: UTF8.self) }
        return .answer(answer.json, model: model ?? files[fileIndex].model, answer.tally)
      }
      return .failure(failure(from: line))
    }
    if let line = try errors?.take(id) {
      return .failure(failure(from: line))
    }
    return .failure(.missing(code: missingCode, message: missingMessage))
  }

  private func failure(from line: ResultLine) -> FailureRecord {
    let s = line.scanner
    var record = FailureRecord(status: line.statusCode, code: nil, message: [])
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
        record.code = s.string(at: code)
      }
      if let message = try? s.member(Array("message".utf8), ofObjectAt: errorObject.lowerBound),
        s.kind(at: message.lowerBound) == .string
      {
        record.message = Array(s.bytes[(message.lowerBound + 1)..<(message.upperBound - 1)])
      }
    }
    if record.message.isEmpty {
      JSONWriter.appendEscaped("request failed with HTTP \(record.status.map(String.init) ?? "error")".utf8, to: &record.message)
    }
    if let body = line.body, let answer = try? Answer(endpoint: "", s, body: body),
      answer.tally.input + answer.tally.output > 0
    {
      record.tally = answer.tally
      record.model = answer.model.map { String(decoding: s.decodeString(contents: $0), as: UTF8.self) }
    }
    return record
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
    requests = try LineReader(path: run.requestPath(file.inputFilename.local))
    answers = try file.outputFilenames?.ok.local.map { try PeekingReader(path: run.resultPath($0)) }
    errors = try file.outputFilenames?.failed.local.map { try PeekingReader(path: run.resultPath($0)) }
    switch file.status {
    case "expired": (missingCode, missingMessage) = ("batch_expired", "the batch expired before this request ran")
    case "cancelled": (missingCode, missingMessage) = ("batch_cancelled", "the batch was cancelled before this request ran")
    case "failed":
      let first = file.errors?.first
      missingCode = first?.code ?? "batch_failed"
      missingMessage = "the batch failed: " + (first?.message ?? "no reason given")
    default: (missingCode, missingMessage) = ("request_not_run", nil)
    }
    return true
  }
}

/// A line reader that can look at its next line before taking it.
///
/// The line stays in the reader's buffer until it is taken: nothing is
/// copied, since each reader has a buffer of its own.
final class PeekingReader {
  private let reader: LineReader
  private var current: UnsafeBufferPointer<UInt8>?
  private var currentID: Range<Int>?

  init(path: String) throws {
    reader = try LineReader(path: path)
  }

  /// The next line if its `custom_id` is `id`, parsed; else nil.
  func take(_ id: [UInt8]) throws -> ResultLine? {
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
    do {
      return try ResultLine(line)
    } catch let error as JSONSyntaxError {
      throw ToolError.dataError("\(reader.name):\(reader.lineNumber): not valid JSON: \(error.reason)")
    }
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
    if raw.count == id.count && raw.elementsEqual(id) { return true }
    guard raw.contains(UInt8(ascii: "\\")) else { return false }
    return JSONScanner(line).decodeString(contents: range) == id
  }
}
