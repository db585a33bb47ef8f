// Requests/: request files: prepare's chunks of rendered lines, the
// writer that cuts them into in/batch_NNN.jsonl at the file limits.

import Foundation

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
      throw ToolError.dataError(itemsName, line: itemLine, "the request is \(length) bytes, over the \(limits.bytes)-byte file limit")
    }
    if embeddingInputs > limits.embeddingInputs {
      throw ToolError.dataError(itemsName, line: itemLine, "\(embeddingInputs) embedding inputs, over the limit of \(limits.embeddingInputs) per file")
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
