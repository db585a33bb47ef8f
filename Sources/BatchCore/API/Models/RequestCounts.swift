import Foundation

/// How many requests a batch has, and how many finished each way.
public struct RequestCounts: Codable, Sendable, Equatable {
  /// All requests in the input file (0 while validating).
  public var total: Int
  /// Requests that succeeded.
  public var completed: Int
  /// Requests that failed.
  public var failed: Int

  /// Creates request counts.
  public init(total: Int = 0, completed: Int = 0, failed: Int = 0) {
    self.total = total
    self.completed = completed
    self.failed = failed
  }

  /// Decodes request counts; a missing or null count is 0.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    total = c.apiInt(.total) ?? 0
    completed = c.apiInt(.completed) ?? 0
    failed = c.apiInt(.failed) ?? 0
  }
}
