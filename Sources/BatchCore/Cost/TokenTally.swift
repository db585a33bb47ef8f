import Foundation

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
