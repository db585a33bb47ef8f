import Foundation

/// An item's result in one round.
enum Outcome {
  /// The answer as compact JSON, the model that gave it, and its tokens.
  case answer([UInt8], model: String, TokenTally)
  case failure(FailureRecord)

  /// The result of request `id` over every round: an answer from any round
  /// wins; otherwise the latest round's error.
  static func resolve(_ id: [UInt8], in rounds: [RoundCursor]) throws -> Outcome? {
    var outcome: Outcome?
    for cursor in rounds {
      guard let result = try cursor.outcome(for: id) else { continue }
      if case .answer = outcome {} else { outcome = result }
    }
    return outcome
  }
}
