/// Refuses to spend more than `MAX_COST`: prepare checks the whole run,
/// upload and create what is still to be paid (files without a batch), so
/// a cap given after prepare still holds where the money is spent.
///
/// - Throws: ``ToolError`` 65 when the high estimate is over the limit;
///   78 when a model has no price, so that the cost cannot be bounded (a
///   configuration to mend, in prices.json or in the model's name).
func checkBudget(_ estimate: CostEstimate, limit: Double?) throws {
  guard let limit else { return }
  if let model = estimate.unpriced.sorted().first {
    throw ToolError(.configuration, estimate.prices.noPriceMessage(for: model) + ", or run without a cost limit")
  }
  if estimate.high > limit {
    throw ToolError(
      .dataError,
      "the estimated cost, up to \(formatUSD(estimate.high)) USD, is over the limit of \(formatUSD(limit)) USD (MAX_COST or --max-cost)")
  }
}

/// Checks the files of `ledger` that have no batch yet against `limit`.
func checkBudget(unpaidOf ledger: Ledger, run: RunDirectory, limit: Double?) throws {
  guard let limit else { return }
  let unpaid = ledger.files.filter { $0.batchId == nil }
  guard !unpaid.isEmpty else { return }
  try checkBudget(CostEstimate(files: unpaid, prices: try PriceTable.load(run: run)), limit: limit)
}
