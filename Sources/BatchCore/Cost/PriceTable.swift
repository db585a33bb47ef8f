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

  /// Dated snapshots that the pricing page lists at their model's price:
  /// the snapshot each of these names points to. Any other snapshot has no
  /// price until one is added: some cost more than their model
  /// (`gpt-4o-2024-05-13` is twice `gpt-4o`'s input price), so a name is
  /// never priced by its prefix.
  static let snapshotsPricedAsTheirModel: [String: String] = [
    "gpt-4o-2024-08-06": "gpt-4o", "gpt-4o-2024-11-20": "gpt-4o",
    "gpt-4o-mini-2024-07-18": "gpt-4o-mini",
    "gpt-4.1-2025-04-14": "gpt-4.1", "gpt-4.1-mini-2025-04-14": "gpt-4.1-mini",
    "gpt-4.1-nano-2025-04-14": "gpt-4.1-nano",
    "gpt-5-2025-08-07": "gpt-5", "gpt-5-mini-2025-08-07": "gpt-5-mini", "gpt-5-nano-2025-08-07": "gpt-5-nano",
    "o1-2024-12-17": "o1", "o3-2025-04-16": "o3", "o3-mini-2025-01-31": "o3-mini", "o4-mini-2025-04-16": "o4-mini",
  ]

  /// The price of `model`, or nil when the table has none: an exact entry,
  /// or a snapshot the pricing page prices as its model. Nothing is guessed
  /// from a name's prefix. (The paid steps ask this too, for `MAX_COST`.)
  public func price(for model: String) -> ModelPrice? {
    if let exact = models[model] { return exact }
    return Self.snapshotsPricedAsTheirModel[model].flatMap { models[$0] }
  }

  /// The price of a model a body reports: its own, or, for a dated
  /// snapshot (`-YYYY-MM-DD`) of a model the run asked for, that model's:
  /// the server answers a request for `gpt-4o` with the snapshot the name
  /// points to, at the name's price.
  public func price(forReported model: String, requested: [String]) -> ModelPrice? {
    if let own = price(for: model) { return own }
    for name in requested where model.hasPrefix(name + "-") && isDate(model.utf8.dropFirst(name.utf8.count + 1)) {
      return price(for: name)
    }
    return nil
  }

  /// The one line that says `model` has no price, with the nearest names
  /// the table knows: `no price for 'gpt-4o-mnii' (did you mean
  /// gpt-4o-mini?); add it to prices.json`.
  public func noPriceMessage(for model: String) -> String {
    let near = nearestNames(to: model)
    let hint = near.isEmpty ? "" : " (did you mean \(near.joined(separator: " or "))?)"
    // The name may come from a response body: no control characters.
    return "no price for '\(OpenAIClient.printable(model))'\(hint); add it to prices.json"
  }

  /// Up to two known names closest to `model` in edit distance, when close
  /// enough to be a slip (a quarter of the name, at least two edits).
  func nearestNames(to model: String) -> [String] {
    let target = Array(model.utf8)
    let limit = max(2, target.count / 4)
    let known = Set(models.keys).union(Self.snapshotsPricedAsTheirModel.keys)
    let scored = known.compactMap { name -> (String, Int)? in
      let d = editDistance(target, Array(name.utf8))
      return d <= limit && name != model ? (name, d) : nil
    }
    return scored.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.prefix(2).map(\.0)
  }
}

/// Whether `text` is `YYYY-MM-DD`.
private func isDate(_ text: Substring.UTF8View) -> Bool {
  text.count == 10
    && text.enumerated().allSatisfy { n, c in n == 4 || n == 7 ? c == UInt8(ascii: "-") : (0x30...0x39).contains(c) }
}

/// The Levenshtein distance between two byte strings.
private func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
  if a.isEmpty { return b.count }
  var previous = Array(0...b.count)
  var current = [Int](repeating: 0, count: b.count + 1)
  for i in 1...a.count {
    current[0] = i
    for j in stride(from: 1, through: b.count, by: 1) {
      current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
    }
    swap(&previous, &current)
  }
  return previous[b.count]
}
