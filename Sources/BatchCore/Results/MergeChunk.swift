import Foundation

/// A chunk of items with the result lines that match them, merged on a
/// worker thread.
final class MergeChunk: PipelineChunk {
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
    /// Whether the request's `input` was an array (embeddings, moderations).
    var inputIsArray = false
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
  /// Answers whose text stopped at the token limit.
  private(set) var cut = 0
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
    cut = 0
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

  /// Marks the item being read as one whose request's `input` is an array.
  func markInputArray() { items[items.count - 1].inputIsArray = true }

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
    var answer: [UInt8] = []
    arena.withUnsafeBufferPointer { arena in
      do {
        for (n, item) in items.enumerated() {
          let partial = lastIsPartial && n == items.count - 1
          try merge(item, arena, format, partial: partial, to: &output, &counts, answer: &answer)
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
    cut = counts.cut
    failures = counts.failures
    tallies = counts.tallies
  }

  private struct Counts {
    var items = 0
    var answered = 0
    var retryable = 0
    var cut = 0
    var failures: [String: Int] = [:]
    var tallies = ModelTallies()
  }

  private func merge(
    _ item: Item, _ arena: UnsafeBufferPointer<UInt8>, _ format: MergedLineFormat, partial: Bool,
    to output: inout [UInt8], _ counts: inout Counts, answer json: inout [UInt8]
  ) throws {
    // An answer from any round wins; otherwise the latest round's failure.
    // The answer is put together as soon as it is classified: whether it is
    // usable (a "json" answer that parses, say) is known only then.
    json.removeAll(keepingCapacity: true)
    var answer: ResultLine?
    var cut = false
    var answerContext = 0
    var failure: FailureRecord?
    for n in item.firstMatch..<(item.firstMatch + item.matchCount) {
      let m = matches[n]
      let result: ResultLine
      switch m.kind {
      case .missing:
        if answer == nil { failure = contexts[m.context].missing(line: m.lineNumber) }
        continue
      case .answer, .error:
        do {
          result = try ResultLine(Self.bytes(m.bytes, arena))
        } catch let error as JSONSyntaxError {
          let context = contexts[m.context]
          let name = m.kind == .answer ? context.answersName : context.errorsName
          throw ToolError.dataError(name, line: m.lineNumber, "not valid JSON: \(error.reason)")
        }
      }
      guard answer == nil else { continue }
      guard m.kind == .answer else {
        failure = FailureRecord(from: result)
        continue
      }
      switch result.verdict(format.answer, inputIsArray: item.inputIsArray, appendingTo: &json) {
      case .answer(let isCut):
        answer = result
        answerContext = m.context
        cut = isCut
      case .failure(var record):
        // Tokens spent on an unusable answer are paid: count them under a model.
        if record.tally != nil && record.model == nil { record.model = contexts[m.context].model }
        failure = record
      }
    }
    if partial { return }

    let bytes = Self.bytes(item.bytes, arena)
    guard let end = objectEnd(bytes) else {
      throw ToolError.dataError(format.itemsPath, line: item.lineNumber, "not a JSON object; items changed since prepare")
    }
    output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[..<end.close]))
    if !end.isEmpty { output.append(UInt8(ascii: ",")) }
    output.append(contentsOf: format.fieldPrefix)
    if let line = answer {
      let summary = line.summary
      output.append(contentsOf: json)
      counts.answered += 1
      if cut { counts.cut += 1 }
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
