/// A summary of the run on one screen, from `status.json` alone: for each
/// request file its round, batch, status, counts, result files and first
/// error, then the totals and the cost so far (from the usage the server
/// reported, priced with the run's price table).
///
/// - Returns: The text, one line per file plus a header and totals.
public func statusSummary(_ run: RunDirectory) throws -> String {
  let ledger = try run.loadLedger()
  let prices = try PriceTable.load(run: run)
  var lines = ["run \(ledger.runId) against \(ledger.baseUrl ?? "(no server yet)"), \(ledger.items.count) items, endpoint \(ledger.endpoint)"]
  var cost = 0.0
  var priced = false
  for file in ledger.files {
    let counts = file.requestCounts
    var state = file.status?.rawValue ?? (file.batchId != nil ? "created" : file.inputFilename.remote != nil ? "uploaded" : "prepared")
    if file.isDownloaded { state += file.sorted == true ? ", sorted" : ", downloaded" }
    var line = "\(file.stem) r\(file.round) \(state) \(counts.map { "\($0.completed)+\($0.failed)" } ?? "0")/\(file.inputFilename.requests)"
    line += " \(file.batchId ?? "-") in:\(file.inputFilename.remote ?? "-")"
    if let ok = file.outputFilenames?.ok.remote { line += " out:\(ok)" }
    if let failed = file.outputFilenames?.failed.remote { line += " err:\(failed)" }
    if let usage = file.usage, let price = prices.price(for: file.model) {
      var tally = TokenTally()
      tally.input = usage.inputTokens
      tally.cachedInput = usage.cachedTokens
      tally.output = usage.outputTokens
      let spent = tally.cost(at: price)
      cost += spent
      priced = true
      line += String(format: " %.2f USD", spent)
    }
    if let error = file.errors?.first {
      line += " error: " + (error.line.map { "line \($0): " } ?? "") + (error.message ?? error.code ?? "")
      if let more = file.errors.map({ $0.count - 1 }), more > 0 { line += " (+\(more) more)" }
    }
    if let previous = file.previousBatches, !previous.isEmpty {
      line += " (\(previous.count) earlier batch\(previous.count == 1 ? "" : "es") refused)"
    }
    lines.append(line)
  }
  let finished = ledger.files.filter(\.isTerminal).count
  var total = "total: \(finished)/\(ledger.files.count) batches finished, "
    + "\(OutcomeCounts(ledger, run: run).text) of \(ledger.items.count) items"
  total += priced ? String(format: ", %.2f USD so far (prices of %@)", cost, prices.date) : ", no usage reported yet"
  lines.append(total)
  return lines.joined(separator: "\n") + "\n"
}
