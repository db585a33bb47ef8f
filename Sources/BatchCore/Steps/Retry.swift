/// Writes the requests whose failures can be retried into new request
/// files, as the run's next round.
///
/// A request is retried when no round answered it and its latest error is
/// retryable (429, 5xx, expired, cancelled, timed out, never run, refused
/// for the enqueued-token limit). The new files continue the numbering in
/// `in/`, and the ledger records their round; upload, create and the rest
/// then treat them like any other file, and merge takes each item's answer
/// from whichever round has it.
///
/// - Returns: The number of requests resubmitted.
/// - Throws: ``ToolError`` 66 when the run's results are not all in.
@discardableResult
public func prepareRetry(_ run: RunDirectory, limits: FileLimits = FileLimits()) throws -> Int {
  let ledger = try run.loadLedger()
  let rounds = try RoundCursor.rounds(of: ledger, in: run)
  guard let first = rounds.first else {
    Diagnostics.note("nothing to retry: every answer was reused from an earlier run")
    return 0
  }
  first.keepsLines = true
  let round = (ledger.files.map(\.round).max() ?? 1) + 1
  var writer = RequestFileWriter(run: run, limits: limits, endpoint: ledger.endpoint)
  writer.firstNumber = ledger.files.count + 1
  writer.round = round
  var count = 0
  do {
    while let id = try first.nextRequestID() {
      guard case .failure(let failure)? = try Outcome.resolve(id, in: rounds), failure.isRetryable,
        let file = first.currentFile
      else { continue }
      var line = first.lastRequestLine
      line.append(0x0A)
      let tokens = file.estimatedInputTokens / max(1, file.inputFilename.requests)
      let request = RenderedRequest(customID: id, model: file.model, estimatedTokens: tokens, embeddingInputs: 1)
      try writer.add(line, request, itemLine: count + 1, itemsName: run.requestPath(file.inputFilename.local))
      count += 1
    }
    try writer.finish()
  } catch {
    writer.abandon()
    throw error
  }
  guard count > 0 else {
    writer.abandon()
    Diagnostics.note("nothing to retry: no item failed in a way that a new batch could mend")
    return 0
  }
  try writer.commit()
  let records = writer.records(maxOutputTokens: ledger.files.first?.maxOutputTokens)
  try run.updateLedger { ledger in ledger.files.append(contentsOf: records) }
  let names = records.map { "in/" + $0.inputFilename.local }.joined(separator: ", ")
  Diagnostics.note("round \(round): \(count) request\(count == 1 ? "" : "s") to retry in \(names)")
  return count
}
