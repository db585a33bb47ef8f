import Foundation
import Testing

@testable import BatchCore

private func record(_ local: String, model: String, requests: Int, tokens: Int, maxOutput: Int?) -> RequestFileRecord {
  RequestFileRecord(
    inputFilename: InputFile(local: local, requests: requests, bytes: 1), round: 1, model: model,
    estimatedInputTokens: tokens, maxOutputTokens: maxOutput)
}

@Suite struct PriceTableTests {
  @Test func exactNamesAndDatedSnapshots() {
    let table = PriceTable.bundled
    #expect(table.price(for: "gpt-4o-mini") == ModelPrice(input: 0.075, cachedInput: nil, output: 0.30))
    // Only the snapshots the pricing page prices as their model.
    #expect(table.price(for: "gpt-4o-mini-2024-07-18") == table.models["gpt-4o-mini"])
    #expect(table.price(for: "gpt-4o-2024-08-06") == table.models["gpt-4o"])
    #expect(table.price(for: "gpt-5-mini-2025-08-07") == table.models["gpt-5-mini"])
    // Never a prefix's price: these cost more than the name they start with.
    #expect(table.price(for: "gpt-4o-2024-05-13") == nil)
    #expect(table.price(for: "o1-pro") == nil)
    #expect(table.price(for: "gpt-5-pro") == nil)
    #expect(table.price(for: "gpt-4o-mnii") == nil)
    #expect(table.price(for: "o3-pro-2025-06-10") == nil)
    #expect(table.price(for: "gpt-4omini") == nil)
    for (snapshot, model) in PriceTable.snapshotsPricedAsTheirModel { #expect(table.models[model] != nil, "\(snapshot)") }
    #expect(table.price(for: "my-model") == nil)
    #expect(table.price(for: "") == nil)
  }

  @Test func theBundledTableIsDatedAndHalvesTheStandardPrices() {
    let table = PriceTable.bundled
    #expect(table.date.count == 10 && table.date.split(separator: "-").count == 3)
    // Standard gpt-4o-mini: 0.15 in, 0.60 out per million; the batch price is half.
    #expect(table.models["gpt-4o-mini"]?.input == 0.15 / 2)
    #expect(table.models["gpt-4o-mini"]?.output == 0.60 / 2)
    for (name, price) in table.models {
      #expect(price.input > 0, "\(name)")
      #expect(price.output >= 0, "\(name)")
      if let cached = price.cachedInput { #expect(cached < price.input, "\(name)") }
    }
  }

  @Test func aRunsPriceFileIsLaidOverTheBundledTable() throws {
    let scratch = try ScratchDirectory("prices")
    let run = try scratch.makeRun()
    #expect(try PriceTable.load(run: run).date == PriceTable.bundled.date)
    try writeText(
      #"{"date":"2030-01-01","models":{"my-model":{"input":1,"cached_input":0.5,"output":2},"gpt-4o":{"input":9,"output":10}}}"#,
      to: run.pricesPath)
    let table = try PriceTable.load(run: run)
    #expect(table.date == "2030-01-01")
    #expect(table.source == run.pricesPath)
    #expect(table.price(for: "my-model") == ModelPrice(input: 1, cachedInput: 0.5, output: 2))
    #expect(table.price(for: "my-model-v2") == nil)
    #expect(table.price(for: "gpt-4o") == ModelPrice(input: 9, cachedInput: nil, output: 10))
    #expect(table.price(for: "gpt-4o-mini") == PriceTable.bundled.models["gpt-4o-mini"])
  }

  @Test func aBadPriceFileIsBadData() throws {
    let scratch = try ScratchDirectory("prices")
    let run = try scratch.makeRun()
    for text in ["not json", #"{"models":{}}"#, #"{"date":"x","models":{"m":{"input":"cheap","output":1}}}"#] {
      try writeText(text, to: run.pricesPath)
      let error = toolError { _ = try PriceTable.load(run: run) }
      #expect(error?.status == .dataError)
      #expect(error?.message.hasPrefix("'\(run.pricesPath)' is not a price table (") == true)
    }
  }

  @Test func costWithAndWithoutACachedRate() {
    var tally = TokenTally()
    tally.input = 1_000_000
    tally.cachedInput = 400_000
    tally.output = 100_000
    tally.reasoning = 50_000
    // 400k cached at 0.0625, 600k at 0.625, 100k out at 5 (reasoning is part of output).
    let withCache = tally.cost(at: ModelPrice(input: 0.625, cachedInput: 0.0625, output: 5))
    #expect(abs(withCache - 0.9) < 1e-9)
    // No cached rate: every input token at the input rate.
    let withoutCache = tally.cost(at: ModelPrice(input: 1.25, cachedInput: nil, output: 5))
    #expect(abs(withoutCache - 1.75) < 1e-9)
  }

  @Test func talliesAdd() {
    var a = TokenTally()
    a.input = 1
    a.cachedInput = 2
    a.output = 3
    a.reasoning = 4
    var b = a
    b += a
    #expect(b.input == 2 && b.cachedInput == 4 && b.output == 6 && b.reasoning == 8)
  }

  @Test func theEstimateBeforeSubmission() {
    let files = [
      record("batch_001.jsonl", model: "gpt-4o-mini", requests: 600, tokens: 6_000_000, maxOutput: 100),
      record("batch_002.jsonl", model: "gpt-4o-mini-2024-07-18", requests: 400, tokens: 4_000_000, maxOutput: 100),
    ]
    let estimate = CostEstimate(files: files, prices: .bundled)
    #expect(estimate.inputTokens == 10_000_000)
    #expect(estimate.maxOutputTokens == 100_000)
    #expect(abs(estimate.low - 0.75) < 1e-9)
    #expect(abs(estimate.high - 0.78) < 1e-9)
    #expect(estimate.unpriced.isEmpty)
    #expect(
      estimate.summary(requests: 1000, files: files)
        == "1000 requests in 2 files (in/batch_001.jsonl … batch_002.jsonl); about 10,000,000 input tokens; "
        + "estimated cost 0.75–0.78 USD (prices of \(PriceTable.bundled.date))")
  }

  @Test func anUnboundedEstimate() {
    let files = [record("batch_001.jsonl", model: "gpt-4o", requests: 1, tokens: 800_000, maxOutput: nil)]
    let estimate = CostEstimate(files: files, prices: .bundled)
    #expect(estimate.maxOutputTokens == nil)
    #expect(estimate.high == estimate.low)
    #expect(
      estimate.summary(requests: 1, files: files)
        == "1 request in 1 file (in/batch_001.jsonl); about 800,000 input tokens; "
        + "estimated cost 1.00 USD and up (no max_tokens; prices of \(PriceTable.bundled.date))")
  }

  @Test func embeddingsHaveNoOutputToBound() {
    let files = [record("batch_001.jsonl", model: "text-embedding-3-small", requests: 10, tokens: 1_000_000, maxOutput: nil)]
    let estimate = CostEstimate(files: files, prices: .bundled)
    #expect(estimate.maxOutputTokens == 0)
    #expect(abs(estimate.high - 0.01) < 1e-9)
  }

  @Test func anUnpricedModelIsNamed() {
    let files = [record("batch_001.jsonl", model: "my-model", requests: 2, tokens: 1234, maxOutput: 5)]
    let estimate = CostEstimate(files: files, prices: .bundled)
    #expect(estimate.unpriced == ["my-model"])
    #expect(
      estimate.summary(requests: 2, files: files)
        == "2 requests in 1 file (in/batch_001.jsonl); about 1,234 input tokens; no cost estimate: no price for my-model")
  }

  @Test func theEstimateShowsWhatItCanPrice() {
    let files = [
      record("batch_001.jsonl", model: "gpt-4o-mnii", requests: 1, tokens: 1_000_000, maxOutput: nil),
      record("batch_002.jsonl", model: "gpt-4o", requests: 1, tokens: 800_000, maxOutput: nil),
    ]
    let estimate = CostEstimate(files: files, prices: .bundled)
    #expect(
      estimate.summary(requests: 2, files: files)
        == "2 requests in 2 files (in/batch_001.jsonl … batch_002.jsonl); about 1,800,000 input tokens; "
        + "estimated cost 1.00 USD and up without gpt-4o-mnii (no price) (no max_tokens; prices of \(PriceTable.bundled.date))")
  }

  @Test func theNoPriceLineNamesTheNearestNames() {
    let table = PriceTable.bundled
    #expect(table.noPriceMessage(for: "gpt-4o-mnii") == "no price for 'gpt-4o-mnii' (did you mean gpt-4o-mini?); add it to prices.json")
    #expect(table.noPriceMessage(for: "my-deployment") == "no price for 'my-deployment'; add it to prices.json")
    #expect(table.nearestNames(to: "gpt5-mini") == ["gpt-5-mini"])
  }

  @Test func aReportedSnapshotOfTheRequestedModelHasItsPrice() {
    let table = PriceTable.bundled
    #expect(table.price(forReported: "gpt-5.4-2026-03-05", requested: ["gpt-5.4"]) == table.models["gpt-5.4"])
    #expect(table.price(forReported: "gpt-5.4-2026-03-05", requested: ["gpt-5"]) == nil)
    #expect(table.price(forReported: "gpt-4o-2024-05-13", requested: ["gpt-4o-2024-05-13"]) == nil)
    #expect(table.price(forReported: "gpt-4o-pro", requested: ["gpt-4o"]) == nil)
  }

  @Test func groupedNumbers() {
    #expect(grouped(0) == "0")
    #expect(grouped(999) == "999")
    #expect(grouped(1000) == "1,000")
    #expect(grouped(1_234_567) == "1,234,567")
    #expect(grouped(-1234) == "-1,234")
  }
}
