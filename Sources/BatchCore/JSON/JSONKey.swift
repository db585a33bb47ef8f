/// A member's key, as ``JSONScanner/walkMembers(ofObjectAt:depth:_:)`` hands it out.
public struct JSONKey: Sendable, Equatable {
  /// The key's contents, without the quotes and still escaped.
  public var range: Range<Int>
  /// Whether the contents have an escape (`\`).
  public var hasEscape: Bool

  public init(range: Range<Int>, hasEscape: Bool) {
    self.range = range
    self.hasEscape = hasEscape
  }
}
