import Foundation

/// Walks `out/reused.jsonl` in step with the items: one line per item, the
/// answer taken from an earlier run, or only the custom_id of a request
/// that was sent. When a run reuses answers, this file (not round 1, which
/// holds only what was sent) names every item's request id.
final class ReusedCursor {
  private let reader: InputLines
  private let context: ResultFileContext
  @exclusivity(unchecked) private var answer: UnsafeBufferPointer<UInt8>?

  init(run: RunDirectory) throws {
    reader = try InputLines(path: run.resultPath(ReusePlan.fileName))
    context = ResultFileContext(model: "", missing: .missing(code: "request_not_run"), answersName: reader.name)
  }

  /// Puts the next item's request id in `id`; false after the last.
  func nextID(into id: inout [UInt8]) throws -> Bool {
    answer = nil
    guard let line = try reader.nextLine() else { return false }
    let range: Range<Int>?
    do {
      range = try ResultLine.customID(of: line)
    } catch let error as JSONSyntaxError {
      throw ToolError.dataError(reader.name, line: reader.lineNumber, "not valid JSON: \(error.reason)")
    }
    guard let range else { throw ToolError.dataError(reader.name, line: reader.lineNumber, "no custom_id") }
    id.removeAll(keepingCapacity: true)
    JSONScanner(line).appendDecodedString(contents: range, to: &id)
    // `{"custom_id":"…"}` alone: the request was sent, its answer is in a round.
    if line.count != range.upperBound + 2 { answer = line }
    return true
  }

  /// Adds the current item's reused answer to `chunk`, if it has one.
  func add(into chunk: MergeChunk) {
    guard let answer else { return }
    chunk.add(.answer, line: answer, inPlace: false, lineNumber: reader.lineNumber, context: context)
  }

  /// Whether lines are left after the last item.
  func hasMore() throws -> Bool { try reader.nextLine() != nil }
}
