import Foundation

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
  private let answerFormat: AnswerFormat
  /// The current file's model and missing-result failure.
  @exclusivity(unchecked) private var context = ResultFileContext(model: "", missing: .missing(code: "request_not_run"))
  /// Whether ``lastRequestLine`` keeps each request line (for retry).
  var keepsLines = false
  /// Whether the first round, too, holds only some of the items (when
  /// answers are reused) and is matched by id like the later rounds.
  var peeks = false
  /// The request line last read, when ``keepsLines`` is set.
  private(set) var lastRequestLine: [UInt8] = []
  /// Whether ``lastInputIsArray`` is looked up for each request.
  var checksInputArray = false
  /// Whether the last request's `body.input` is an array, when
  /// ``checksInputArray`` is set: embeddings and moderations answer with
  /// an array then, even for one input.
  private(set) var lastInputIsArray = false
  private static let inputPath = JSONPathComponent.parse("body.input")
  /// The request file being read.
  var currentFile: RequestFileRecord? { fileIndex >= 0 && fileIndex < files.count ? files[fileIndex] : nil }

  /// One cursor per round, first round first, once every round's results
  /// are downloaded and sorted (none when every answer was reused).
  ///
  /// - Throws: ``ToolError`` 66 when some are not.
  static func rounds(of ledger: Ledger, in run: RunDirectory) throws -> [RoundCursor] {
    for file in ledger.files {
      guard file.isDownloaded else {
        throw ToolError.noInput("the results of in/\(file.inputFilename.local) are not downloaded yet; run batch-download \(run.path)")
      }
      guard file.sorted == true else {
        throw ToolError.noInput("the results of in/\(file.inputFilename.local) are not sorted yet; run batch-sort")
      }
    }
    let rounds = Dictionary(grouping: ledger.files, by: \.round).sorted { $0.key < $1.key }
      .map { RoundCursor(run: run, files: $0.value, endpoint: ledger.endpoint) }
    // Every request answered before: nothing was sent.
    if rounds.isEmpty && ledger.reused != nil { return [] }
    guard let first = rounds.first, first.round == 1 else {
      throw ToolError.dataError("'\(run.ledgerPath)' has no first-round request files")
    }
    return rounds
  }

  init(run: RunDirectory, files: [RequestFileRecord], endpoint: String) {
    self.run = run
    self.files = files
    self.round = files.first?.round ?? 0
    self.answerFormat = AnswerFormat(kind: AnswerKind(endpoint: endpoint))
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
          throw ToolError.dataError(requests.name, line: requests.lineNumber, "no custom_id")
        }
        if keepsLines { lastRequestLine = Array(line) }
        if checksInputArray {
          let s = JSONScanner(line)
          let input = try? s.value(at: Self.inputPath, in: s.skipWhitespace(0)..<line.count)
          lastInputIsArray = input.map { s.kind(at: $0.lowerBound) == .array } ?? false
        }
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
    guard round != 1 || peeks else { return true }
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
      chunk.add(.missing, line: nil, inPlace: false, lineNumber: requests?.lineNumber ?? 0, context: context)
    }
  }

  /// The outcome of request `id` if it is this round's next request, else nil.
  func outcome(for id: [UInt8]) throws -> Outcome? {
    guard try isNext(id) else { return nil }
    if let line = try answers?.take(id) {
      var json: [UInt8] = []
      switch line.verdict(answerFormat, inputIsArray: lastInputIsArray, appendingTo: &json) {
      case .answer:
        let model = line.summary.model.map { String(decoding: line.scanner.decodeString(contents: $0), as: UTF8.self) }
        return .answer(json, model: model ?? context.model, line.summary.tally)
      case .failure(let record):
        return .failure(record)
      }
    }
    if let line = try errors?.take(id) {
      return .failure(FailureRecord(from: line))
    }
    return .failure(context.missing(line: requests?.lineNumber ?? 0))
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
    let missing = file.missingFailure
    var lineErrors: [Int: FailureRecord] = [:]
    if file.status == .failed {
      // A request named by errors.data[] gets its own line's error; the
      // others get the batch's (RequestFileRecord.missingFailure).
      for error in file.errors ?? [] {
        guard let line = error.line, lineErrors[line] == nil else { continue }
        lineErrors[line] = .missing(code: error.code ?? "batch_failed", message: RequestFileRecord.failedBatchMessage(error))
      }
    }
    context = ResultFileContext(
      model: file.model, missing: missing, lineErrors: lineErrors, answersName: answers?.name ?? "", errorsName: errors?.name ?? "",
      mappedFiles: [answers?.mappedFile, errors?.mappedFile].compactMap { $0 })
    return true
  }
}
