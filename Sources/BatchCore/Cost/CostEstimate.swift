import Foundation

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
  /// Whether some file's model has a price.
  public var pricedAny = false
  /// The table's date.
  public var date: String
  /// The table the estimate used.
  public let prices: PriceTable

  public init(files: [RequestFileRecord], prices: PriceTable) {
    date = prices.date
    self.prices = prices
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
      pricedAny = true
      let input = Double(file.estimatedInputTokens) * price.input / 1_000_000
      low += input
      high += input + Double(outputBound ?? 0) * price.output / 1_000_000
    }
  }

  /// The line prepare prints.
  ///
  /// - Parameter reused: The requests answered before (nil when there is
  ///   no store of answers to look in).
  public func summary(requests: Int, reused: Int? = nil, files: [RequestFileRecord]) -> String {
    let names = files.count == 1 ? "in/\(files[0].inputFilename.local)" : "in/\(files.first.map { $0.inputFilename.local } ?? "") … \(files.last.map { $0.inputFilename.local } ?? "")"
    var text = "\(requests) request\(requests == 1 ? "" : "s")"
    let sent = requests - (reused ?? 0)
    if let reused {
      text += ": \(reused) answered before, \(sent) to send"
      if reused == 0 { text += " (no stored answer matches: the template, the model or the server changed)" }
    }
    guard !files.isEmpty else { return text + "; nothing to pay" }
    text += " in \(files.count) file\(files.count == 1 ? "" : "s") (\(names)); "
    text += "about \(grouped(inputTokens)) input tokens"
    // What has a price is estimated; the rest is named, never guessed.
    let part = unpriced.isEmpty ? "" : " without \(unpriced.sorted().joined(separator: ", ")) (no price)"
    if !pricedAny {
      text += "; no cost estimate: no price for \(unpriced.sorted().joined(separator: ", "))"
    } else if maxOutputTokens == nil {
      text += "; estimated cost\(reused == nil ? "" : " of the \(sent)") \(formatUSD(low)) USD and up\(part) (no max_tokens; prices of \(date))"
    } else {
      text += "; estimated cost\(reused == nil ? "" : " of the \(sent)") \(formatUSD(low))–\(formatUSD(high)) USD\(part) (prices of \(date))"
    }
    return text
  }
}
