/// One part of a dotted path: an object key, which may also index an array.
public struct JSONPathComponent: Sendable, Equatable {
  /// The key's UTF-8 bytes.
  public var key: [UInt8]
  /// The array index the part spells, when it is made of digits.
  public var index: Int?

  public init(_ text: Substring) {
    key = Array(text.utf8)
    index = !text.isEmpty && text.allSatisfy(\.isASCII) && text.allSatisfy(\.isNumber) ? Int(text) : nil
  }

  /// Splits a dotted path (`origin.country`, `tags.0`) into its parts.
  public static func parse(_ path: String) -> [JSONPathComponent] {
    path.split(separator: ".", omittingEmptySubsequences: false).map(JSONPathComponent.init)
  }
}
