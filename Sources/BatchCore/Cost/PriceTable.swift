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
