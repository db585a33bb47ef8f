/// A JSON syntax error at a byte offset of the scanned text.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The 0-based byte offset where the text stops being JSON.
  public var offset: Int
  /// What is wrong, lowercase, no full stop.
  public var reason: String

  public init(offset: Int, reason: String) {
    self.offset = offset
    self.reason = reason
  }

  public var description: String { "\(reason) at byte \(offset + 1)" }
}
