import Foundation

/// Prints the article's Counter line, then the cost in detail and the failures.
///
/// - Parameter requested: The models the run's requests name, which price
///   the dated snapshots the server reports for them.
func printCounter(_ report: MergeReport, prices: PriceTable, requested: [String], toStdout: Bool) {
  var total = TokenTally()
  var cost = 0.0
  var unpriced: [(String, TokenTally)] = []
  for (model, tally) in report.tokens.sorted(by: { $0.key < $1.key }) {
    total += tally
    if let price = prices.price(forReported: model, requested: requested) {
      cost += tally.cost(at: price)
    } else if tally.input + tally.output > 0 {
      unpriced.append((ServerText.clean(model, limit: 100), tally))
    }
  }
  let counter = String(
    format: "price: %.2f USD; items: %d; tokens (llm in: %d, llm out: %d)", cost, report.answered, total.input,
    total.output)
  // The Counter line is the result when the items go elsewhere.
  if toStdout { Diagnostics.write(counter + "\n") } else { print(counter) }
  var detail = "tokens: \(grouped(total.input)) in (\(grouped(total.cachedInput)) cached), "
  detail += "\(grouped(total.output)) out (\(grouped(total.reasoning)) reasoning); prices of \(prices.date)"
  Diagnostics.note(detail)
  for (model, tally) in unpriced {
    Diagnostics.note(
      prices.noPriceMessage(for: model)
        + "; its \(grouped(tally.input)) input and \(grouped(tally.output)) output tokens are not in the price")
  }
  if report.cut > 0 {
    Diagnostics.note("\(report.cut) of \(report.answered) answers stopped at the token limit (finish_reason length); they are kept as answers")
  }
  let failed = report.items - report.answered
  if failed > 0 {
    // The codes come from the server's result lines: cleaned, and a few only.
    let sorted = report.failures.sorted { $0.value > $1.value }
    var codes = sorted.prefix(10).map { "\(ServerText.clean($0.key, limit: 64)) \($0.value)" }.joined(separator: ", ")
    if sorted.count > 10 { codes += ", …" }
    var text = "\(failed) of \(report.items) items failed (\(codes))"
    text += report.retryable > 0 ? "; \(report.retryable) can be retried with make retry" : "; none can be retried"
    Diagnostics.note(text)
    for (code, count) in report.failures.sorted(by: { $0.value > $1.value }) {
      if let advice = FailureAdvice.advice(for: code) { Diagnostics.note("\(code) \(count): \(advice)") }
    }
  }
}
