import Foundation

/// Prints the article's Counter line, then the cost in detail and the failures.
func printCounter(_ report: MergeReport, prices: PriceTable, toStdout: Bool) {
  var total = TokenTally()
  var cost = 0.0
  var unpriced: [String] = []
  for (model, tally) in report.tokens.sorted(by: { $0.key < $1.key }) {
    total += tally
    if let price = prices.price(for: model) {
      cost += tally.cost(at: price)
    } else if tally.input + tally.output > 0 {
      unpriced.append(ServerText.clean(model, limit: 100))
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
    // The codes come from the server's result lines: cleaned, and a few only.
    let sorted = report.failures.sorted { $0.value > $1.value }
    var codes = sorted.prefix(10).map { "\(ServerText.clean($0.key, limit: 64)) \($0.value)" }.joined(separator: ", ")
    if sorted.count > 10 { codes += ", …" }
    var text = "\(failed) of \(report.items) items failed (\(codes))"
    text += report.retryable > 0 ? "; \(report.retryable) can be retried with make retry" : "; none can be retried"
    Diagnostics.note(text)
  }
}
