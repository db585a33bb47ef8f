/// A JSON schema of the subset OpenAI's strict structured outputs accept,
/// compiled once per run from `prompt.json`, that checks a scanned value.
///
/// Kept: `type` (one name or several), `properties`, `required`, `items`,
/// `enum`, `anyOf`, `additionalProperties: false`, nested to any depth.
/// Anything else (`$ref`, formats, bounds) is not checked: a value is only
/// refused for what the schema certainly forbids.
final class JSONSchema: Sendable {
  enum TypeName: String, Sendable {
    case object, array, string, number, integer, boolean, null
  }

  /// Nil when the schema names no type.
  let types: [TypeName]?
  let properties: [(name: [UInt8], schema: JSONSchema)]
  let required: [[UInt8]]
  let items: JSONSchema?
  let enumValues: [TemplateValue]?
  let anyOf: [JSONSchema]?
  let closed: Bool

  init(_ value: TemplateValue) {
    guard case .object(let members) = value else {
      types = nil
      properties = []
      required = []
      items = nil
      enumValues = nil
      anyOf = nil
      closed = false
      return
    }
    let field: (String) -> TemplateValue? = { name in members.last { $0.0 == name }?.1 }
    switch field("type") {
    case .string(let name)?: types = TypeName(rawValue: name).map { [$0] }
    case .array(let names)?:
      let known = names.compactMap { name -> TypeName? in
        if case .string(let text) = name { return TypeName(rawValue: text) }
        return nil
      }
      types = known.count == names.count ? known : nil
    default: types = nil
    }
    if case .object(let props)? = field("properties") {
      properties = props.map { (Array($0.0.utf8), JSONSchema($0.1)) }
    } else {
      properties = []
    }
    if case .array(let names)? = field("required") {
      required = names.compactMap { name in
        if case .string(let text) = name { return Array(text.utf8) }
        return nil
      }
    } else {
      required = []
    }
    items = field("items").map { JSONSchema($0) }
    if case .array(let values)? = field("enum") { enumValues = values } else { enumValues = nil }
    if case .array(let schemas)? = field("anyOf") { anyOf = schemas.map { JSONSchema($0) } } else { anyOf = nil }
    closed = field("additionalProperties") == .literal("false")
  }

  /// The first way the value at `range` breaks the schema, as a message
  /// naming where (`$.items[2].price`), or nil when it matches.
  ///
  /// The value must have been validated by `s`. Work is bounded by the
  /// value's size times the schema's size.
  func mismatch(_ s: JSONScanner, _ range: Range<Int>) -> String? {
    check(s, range).map { failure in "'$" + failure.path.reversed().joined() + "' " + failure.reason }
  }

  private struct Failure {
    /// Path parts, innermost first.
    var path: [String]
    var reason: String
  }

  private func check(_ s: JSONScanner, _ range: Range<Int>) -> Failure? {
    if let types, !types.contains(where: { Self.has(type: $0, s, range) }) {
      let names = types.map(\.rawValue).joined(separator: " or ")
      let article = "aeiou".contains(names.first ?? "x") ? "an" : "a"
      return Failure(path: [], reason: "should be \(article) \(names)")
    }
    if let enumValues, !enumValues.contains(TemplateValue(s, range)) {
      return Failure(path: [], reason: "is not one of the schema's enum values")
    }
    if let anyOf, !anyOf.isEmpty, !anyOf.contains(where: { $0.check(s, range) == nil }) {
      return Failure(path: [], reason: "matches none of the schema's anyOf choices")
    }
    switch s.kind(at: range.lowerBound) {
    case .object?:
      return checkObject(s, range)
    case .array?:
      guard let items else { return nil }
      var failure: Failure?
      var index = 0
      _ = try? s.forEachElement(ofArrayAt: range.lowerBound) { element in
        if var inner = items.check(s, element) {
          inner.path.append("[\(index)]")
          failure = inner
          return false
        }
        index += 1
        return true
      }
      return failure
    default:
      return nil
    }
  }

  private func checkObject(_ s: JSONScanner, _ range: Range<Int>) -> Failure? {
    guard !properties.isEmpty || !required.isEmpty || closed else { return nil }
    var failure: Failure?
    var seen = [Bool](repeating: false, count: required.count)
    _ = try? s.forEachMember(ofObjectAt: range.lowerBound) { key, value in
      let name = s.decodeString(contents: key)
      if let n = required.firstIndex(of: name) { seen[n] = true }
      if let property = properties.last(where: { $0.name == name }) {
        if var inner = property.schema.check(s, value) {
          inner.path.append("." + String(decoding: name, as: UTF8.self))
          failure = inner
          return false
        }
      } else if closed {
        failure = Failure(path: [], reason: "has a property the schema does not allow: '\(String(decoding: name, as: UTF8.self))'")
        return false
      }
      return true
    }
    if let failure { return failure }
    if let missing = seen.firstIndex(of: false) {
      return Failure(path: [], reason: "lacks the required property '\(String(decoding: required[missing], as: UTF8.self))'")
    }
    return nil
  }

  private static func has(type: TypeName, _ s: JSONScanner, _ range: Range<Int>) -> Bool {
    switch (type, s.kind(at: range.lowerBound)) {
    case (.object, .object?), (.array, .array?), (.string, .string?), (.number, .number?), (.boolean, .bool?),
      (.null, .null?):
      return true
    case (.integer, .number?):
      // 1.0 is an integer to JSON Schema: only a non-zero fraction digit
      // makes a number a non-integer here (an exponent is not weighed).
      var inFraction = false
      for c in s.bytes[range] {
        if c == UInt8(ascii: ".") {
          inFraction = true
        } else if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
          break
        } else if inFraction && c != UInt8(ascii: "0") {
          return false
        }
      }
      return true
    default:
      return false
    }
  }
}
