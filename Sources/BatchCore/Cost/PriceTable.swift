// Cost/: prices, estimates and tallies of tokens and dollars, and the
// Counter line merge prints.

import Foundation

/// Batch prices per million tokens for one model, in USD.
public struct ModelPrice: Codable, Sendable, Equatable {
  /// Input tokens.
  public var input: Double
  /// Cached input tokens; nil where the batch table publishes no rate, in
  /// which case cached tokens are billed as input.
  public var cachedInput: Double?
  /// Output tokens (reasoning tokens included).
  public var output: Double

  public init(input: Double, cachedInput: Double?, output: Double) {
    self.input = input
    self.cachedInput = cachedInput
    self.output = output
  }
}

/// A dated table of batch prices, looked up by model name.
public struct PriceTable: Codable, Sendable {
  /// When the prices were checked (`YYYY-MM-DD`).
  public var date: String
  /// Where they come from.
  public var source: String?
  /// Prices by model name.
  public var models: [String: ModelPrice]

  /// The bundled table: OpenAI batch prices (half the standard ones), as
  /// published on the date given.
  public static let bundled = PriceTable(
    date: "2026-10-14",
    source: "OpenAI batch pricing (developers.openai.com/api/docs/pricing)",
    models: [
      "gpt-4o": ModelPrice(input: 1.25, cachedInput: nil, output: 5.00),
      "gpt-4o-mini": ModelPrice(input: 0.075, cachedInput: nil, output: 0.30),
      "gpt-4.1": ModelPrice(input: 1.00, cachedInput: nil, output: 4.00),
      "gpt-4.1-mini": ModelPrice(input: 0.20, cachedInput: nil, output: 0.80),
      "gpt-4.1-nano": ModelPrice(input: 0.05, cachedInput: nil, output: 0.20),
      "gpt-5": ModelPrice(input: 0.625, cachedInput: 0.0625, output: 5.00),
      "gpt-5.1": ModelPrice(input: 0.625, cachedInput: 0.0625, output: 5.00),
      "gpt-5-mini": ModelPrice(input: 0.125, cachedInput: 0.0125, output: 1.00),
      "gpt-5-nano": ModelPrice(input: 0.025, cachedInput: 0.0025, output: 0.20),
      "gpt-5.2": ModelPrice(input: 0.875, cachedInput: 0.0875, output: 7.00),
      "gpt-5.4": ModelPrice(input: 1.25, cachedInput: 0.125, output: 7.50),
      "gpt-5.4-mini": ModelPrice(input: 0.375, cachedInput: 0.0375, output: 2.25),
      "gpt-5.5": ModelPrice(input: 2.50, cachedInput: 0.25, output: 15.00),
      "o1": ModelPrice(input: 7.50, cachedInput: nil, output: 30.00),
      "o3": ModelPrice(input: 1.00, cachedInput: nil, output: 4.00),
      "o3-pro": ModelPrice(input: 10.00, cachedInput: nil, output: 40.00),
      "o3-mini": ModelPrice(input: 0.55, cachedInput: nil, output: 2.20),
      "o4-mini": ModelPrice(input: 0.55, cachedInput: nil, output: 2.20),
      "text-embedding-3-small": ModelPrice(input: 0.01, cachedInput: nil, output: 0),
      "text-embedding-3-large": ModelPrice(input: 0.065, cachedInput: nil, output: 0),
      "text-embedding-ada-002": ModelPrice(input: 0.05, cachedInput: nil, output: 0),
    ])

  /// The bundled table, with the run's `prices.json` laid over it when present.
  ///
  /// - Throws: ``ToolError`` 65 if `prices.json` is not a valid table.
  public static func load(run: RunDirectory) throws -> PriceTable {
    guard let data = FileManager.default.contents(atPath: run.pricesPath) else { return bundled }
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    do {
      let own = try decoder.decode(PriceTable.self, from: data)
      var table = bundled
      table.date = own.date
      table.source = own.source ?? run.pricesPath
      table.models.merge(own.models) { $1 }
      return table
    } catch {
      throw ToolError.dataError("'\(run.pricesPath)' is not a price table (\(describe(error)))")
    }
  }

  /// The price of `model`: an exact entry, else the longest entry that the
  /// name starts with followed by `-` (a dated snapshot such as
  /// `gpt-4o-mini-2024-07-18` is priced as `gpt-4o-mini`).
  public func price(for model: String) -> ModelPrice? {
    if let exact = models[model] { return exact }
    let match = models.keys.filter { model.hasPrefix($0 + "-") }.max { $0.count < $1.count }
    return match.flatMap { models[$0] }
  }
}

/// Token counts and what they cost.
public struct TokenTally: Sendable, Equatable {
  public var input = 0
  public var cachedInput = 0
  public var output = 0
  public var reasoning = 0

  public init() {}

  /// The cost in USD at `price`: cached tokens at the cached rate where one
  /// is published, else at the input rate.
  public func cost(at price: ModelPrice) -> Double {
    let cached = Double(cachedInput) * (price.cachedInput ?? price.input)
    let uncached = Double(input - cachedInput) * price.input
    return (cached + uncached + Double(output) * price.output) / 1_000_000
  }

  public static func += (a: inout TokenTally, b: TokenTally) {
    a.input += b.input
    a.cachedInput += b.cachedInput
    a.output += b.output
    a.reasoning += b.reasoning
  }
}

/// The cost range of a prepared run, before anything is submitted.
public struct CostEstimate {
  /// The estimated input tokens.
  public var inputTokens = 0
  /// The most output tokens, from `max_tokens`; nil when unbounded.
  public var maxOutputTokens: Int? = 0
  /// Input only, in USD.
  public var low = 0.0
  /// Input plus the most output, in USD (input only when unbounded).
  public var high = 0.0
  /// Models without a price.
  public var unpriced: Set<String> = []
  /// The table's date.
  public var date: String

  public init(files: [RequestFileRecord], prices: PriceTable) {
    date = prices.date
    for file in files {
      inputTokens += file.estimatedInputTokens
      let outputBound = file.maxOutputTokens.map { $0 * file.inputFilename.requests }
      if let bound = outputBound, maxOutputTokens != nil {
        maxOutputTokens! += bound
      } else if file.model.hasPrefix("text-embedding") == false {
        maxOutputTokens = nil
      }
      guard let price = prices.price(for: file.model) else {
        unpriced.insert(file.model)
        continue
      }
      let input = Double(file.estimatedInputTokens) * price.input / 1_000_000
      low += input
      high += input + Double(outputBound ?? 0) * price.output / 1_000_000
    }
  }

  /// The line prepare prints.
  public func summary(requests: Int, files: [RequestFileRecord]) -> String {
    let names = files.count == 1 ? "in/\(files[0].inputFilename.local)" : "in/\(files.first!.inputFilename.local) … \(files.last!.inputFilename.local)"
    var text = "\(requests) request\(requests == 1 ? "" : "s") in \(files.count) file\(files.count == 1 ? "" : "s") (\(names)); "
    text += "about \(grouped(inputTokens)) input tokens"
    if !unpriced.isEmpty {
      text += "; no price for \(unpriced.sorted().joined(separator: ", ")) (add it to prices.json)"
    } else if maxOutputTokens == nil {
      text += "; estimated cost \(formatUSD(low)) USD and up (no max_tokens; prices of \(date))"
    } else {
      text += "; estimated cost \(formatUSD(low))–\(formatUSD(high)) USD (prices of \(date))"
    }
    return text
  }
}

/// An amount in USD: to the cent from a cent up, else with the digits that
/// show it (`0.0021`), so that a small run or a small cap never reads 0.00.
public func formatUSD(_ value: Double) -> String {
  guard value > 0 && value < 0.01 else { return String(format: "%.2f", value) }
  let decimals = min(8, max(2, Int((-log10(value)).rounded(.up)) + 1))
  var text = String(format: "%.\(decimals)f", value)
  while text.hasSuffix("0") && text.count > 4 { text.removeLast() }
  return text
}

/// `1234567` as `1,234,567`.
func grouped(_ value: Int) -> String {
  let digits = String(value.magnitude)
  var out = ""
  for (n, c) in digits.enumerated() {
    if n > 0 && (digits.count - n) % 3 == 0 { out.append(",") }
    out.append(c)
  }
  return value < 0 ? "-" + out : out
}
