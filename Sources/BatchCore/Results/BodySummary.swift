/// What a response body holds for the answer, the model and the cost,
/// picked up by the one walk over a result line (``ResultLine``).
///
/// The values read are those of the last member with each name, except
/// where noted (the first `message` and `text` of a choice, the first
/// `cached_tokens` and `reasoning_tokens` of the usage details).
struct BodySummary {
  /// Whether the body is an object (the summary is empty otherwise).
  private(set) var isObject = false
  /// The model's name (escaped string contents), when the body has one.
  private(set) var model: Range<Int>?
  /// The tokens the body reports.
  private(set) var tally = TokenTally()
  /// `choices[0].message.content` and `.tool_calls`, when the first choice
  /// is an object whose first `message` is an object.
  private(set) var content: Range<Int>?
  private(set) var toolCalls: Range<Int>?
  /// `choices[0].text` (the first one).
  private(set) var text: Range<Int>?
  /// The members other endpoints take their answer from.
  private(set) var data: Range<Int>?
  private(set) var output: Range<Int>?
  private(set) var results: Range<Int>?

  private static let null = Array("null".utf8)

  /// Walks the body object at `i` (validating it, as
  /// ``JSONScanner/skipValue(at:depth:)`` at `depth` would) and records
  /// what it holds.
  ///
  /// - Returns: The index just after the body.
  mutating func walk(_ s: JSONScanner, objectAt i: Int, depth: Int) throws -> Int {
    self = BodySummary()
    isObject = true
    var summary = self
    let end = try s.walkMembers(ofObjectAt: i, depth: depth) { key, value in
      if s.key(key, equals: "choices") {
        summary.content = nil
        summary.toolCalls = nil
        summary.text = nil
        let valueEnd: Int
        if s.bytes[value] == UInt8(ascii: "[") {
          valueEnd = try summary.walkChoices(s, arrayAt: value, depth: depth + 1)
        } else {
          valueEnd = try s.skipValue(at: value, depth: depth + 1)
        }
        return valueEnd
      }
      if s.key(key, equals: "usage") {
        summary.tally = TokenTally()
        guard s.bytes[value] == UInt8(ascii: "{") else { return nil }
        return try Self.walkUsage(s, objectAt: value, depth: depth + 1, into: &summary.tally)
      }
      if s.key(key, equals: "model") {
        let valueEnd = try s.skipValue(at: value, depth: depth + 1)
        if s.bytes[value] == UInt8(ascii: "\"") { summary.model = (value + 1)..<(valueEnd - 1) }
        return valueEnd
      }
      if s.key(key, equals: "data") {
        let valueEnd = try s.skipValue(at: value, depth: depth + 1)
        summary.data = value..<valueEnd
        return valueEnd
      }
      if s.key(key, equals: "output") {
        let valueEnd = try s.skipValue(at: value, depth: depth + 1)
        summary.output = value..<valueEnd
        return valueEnd
      }
      if s.key(key, equals: "results") {
        let valueEnd = try s.skipValue(at: value, depth: depth + 1)
        summary.results = value..<valueEnd
        return valueEnd
      }
      return nil
    }
    self = summary
    return end
  }

  /// Records the first choice's message content, tool calls and text.
  private mutating func walkChoices(_ s: JSONScanner, arrayAt i: Int, depth: Int) throws -> Int {
    var content: Range<Int>?
    var toolCalls: Range<Int>?
    var text: Range<Int>?
    let end = try s.walkElements(ofArrayAt: i, depth: depth) { index, value in
      guard index == 0, s.bytes[value] == UInt8(ascii: "{") else { return nil }
      var sawMessage = false
      var sawText = false
      return try s.walkMembers(ofObjectAt: value, depth: depth + 1) { key, value in
        if !sawMessage && s.key(key, equals: "message") {
          sawMessage = true
          guard s.bytes[value] == UInt8(ascii: "{") else { return nil }
          return try s.walkMembers(ofObjectAt: value, depth: depth + 2) { key, value in
            if s.key(key, equals: "content") {
              let valueEnd = try s.skipValue(at: value, depth: depth + 3)
              content = value..<valueEnd
              return valueEnd
            }
            if s.key(key, equals: "tool_calls") {
              let valueEnd = try s.skipValue(at: value, depth: depth + 3)
              toolCalls = value..<valueEnd
              return valueEnd
            }
            return nil
          }
        }
        if !sawText && s.key(key, equals: "text") {
          sawText = true
          let valueEnd = try s.skipValue(at: value, depth: depth + 2)
          text = value..<valueEnd
          return valueEnd
        }
        return nil
      }
    }
    self.content = content
    self.toolCalls = toolCalls
    self.text = text
    return end
  }

  /// Adds up the usage object at `i`, as chat, completions, embeddings and
  /// responses spell it.
  private static func walkUsage(_ s: JSONScanner, objectAt i: Int, depth: Int, into tally: inout TokenTally) throws
    -> Int
  {
    var sum = TokenTally()
    /// The first `name` of the details object at `value`, as an integer.
    func nested(_ value: Int, _ name: StaticString, _ found: inout Int) throws -> Int {
      guard s.bytes[value] == UInt8(ascii: "{") else {
        found = 0
        return try s.skipValue(at: value, depth: depth + 1)
      }
      var seen = false
      found = 0
      var number = 0
      let end = try s.walkMembers(ofObjectAt: value, depth: depth + 1) { key, value in
        guard !seen, s.key(key, equals: name) else { return nil }
        seen = true
        let valueEnd = try s.skipValue(at: value, depth: depth + 2)
        number = s.integer(at: value..<valueEnd) ?? 0
        return valueEnd
      }
      found = number
      return end
    }
    let end = try s.walkMembers(ofObjectAt: i, depth: depth) { key, value in
      if s.key(key, equals: "prompt_tokens") || s.key(key, equals: "input_tokens") {
        let valueEnd = try s.skipValue(at: value, depth: depth + 1)
        sum.input += s.integer(at: value..<valueEnd) ?? 0
        return valueEnd
      }
      if s.key(key, equals: "completion_tokens") || s.key(key, equals: "output_tokens") {
        let valueEnd = try s.skipValue(at: value, depth: depth + 1)
        sum.output += s.integer(at: value..<valueEnd) ?? 0
        return valueEnd
      }
      if s.key(key, equals: "prompt_tokens_details") || s.key(key, equals: "input_tokens_details") {
        var n = 0
        let valueEnd = try nested(value, "cached_tokens", &n)
        sum.cachedInput += n
        return valueEnd
      }
      if s.key(key, equals: "completion_tokens_details") || s.key(key, equals: "output_tokens_details") {
        var n = 0
        let valueEnd = try nested(value, "reasoning_tokens", &n)
        sum.reasoning += n
        return valueEnd
      }
      return nil
    }
    tally = sum
    return end
  }

  // MARK: - The answer

  /// Appends the answer as compact JSON: the message text for chat and
  /// completions, the output text for responses, the vector for embeddings
  /// (an array of vectors for several inputs), the first result for
  /// moderations, else the whole body.
  ///
  /// - Parameter body: The body the summary was made from.
  func appendAnswer(_ kind: AnswerKind, _ s: JSONScanner, body: Range<Int>, to json: inout [UInt8]) {
    guard isObject else {
      JSONWriter.appendCompact(s, body, to: &json)
      return
    }
    switch kind {
    case .chat:
      if let content, s.kind(at: content.lowerBound) != .null {
        Self.appendValue(s, content, to: &json)
      } else if let toolCalls, s.kind(at: toolCalls.lowerBound) == .array {
        JSONWriter.appendCompact(s, toolCalls, to: &json)
      } else {
        json.append(contentsOf: Self.null)
      }
    case .completions:
      if let text {
        Self.appendValue(s, text, to: &json)
      } else {
        json.append(contentsOf: Self.null)
      }
    case .responses:
      Self.appendResponsesText(s, output, to: &json)
    case .embeddings:
      Self.appendEmbeddings(s, data, to: &json)
    case .moderations:
      if let first = Self.firstObject(s, results) {
        JSONWriter.appendCompact(s, first, to: &json)
      } else {
        JSONWriter.appendCompact(s, body, to: &json)
      }
    case .other:
      JSONWriter.appendCompact(s, body, to: &json)
    }
  }

  /// Appends a value in compact form; strings, numbers and literals have no
  /// insignificant whitespace and are copied as they are.
  @inline(__always)
  private static func appendValue(_ s: JSONScanner, _ range: Range<Int>, to json: inout [UInt8]) {
    switch s.bytes[range.lowerBound] {
    case UInt8(ascii: "{"), UInt8(ascii: "["):
      JSONWriter.appendCompact(s, range, to: &json)
    default:
      json.append(contentsOf: UnsafeBufferPointer(rebasing: s.bytes[range]))
    }
  }

  private static func appendEmbeddings(_ s: JSONScanner, _ data: Range<Int>?, to json: inout [UInt8]) {
    guard let data, s.kind(at: data.lowerBound) == .array else {
      json.append(contentsOf: null)
      return
    }
    var vectors: [Range<Int>] = []
    _ = try? s.forEachElement(ofArrayAt: data.lowerBound) { entry in
      if s.kind(at: entry.lowerBound) == .object, let v = member(s, entry, "embedding") {
        vectors.append(v)
      }
      return true
    }
    if vectors.count == 1 {
      JSONWriter.appendCompact(s, vectors[0], to: &json)
    } else {
      json.append(UInt8(ascii: "["))
      for (n, v) in vectors.enumerated() {
        if n > 0 { json.append(UInt8(ascii: ",")) }
        JSONWriter.appendCompact(s, v, to: &json)
      }
      json.append(UInt8(ascii: "]"))
    }
  }

  /// The text of every `output_text` part of every output item, joined.
  private static func appendResponsesText(_ s: JSONScanner, _ output: Range<Int>?, to json: inout [UInt8]) {
    var parts: [Range<Int>] = []
    if let output, s.kind(at: output.lowerBound) == .array {
      _ = try? s.forEachElement(ofArrayAt: output.lowerBound) { item in
        guard s.kind(at: item.lowerBound) == .object, let contents = member(s, item, "content"),
          s.kind(at: contents.lowerBound) == .array
        else { return true }
        try s.forEachElement(ofArrayAt: contents.lowerBound) { part in
          guard s.kind(at: part.lowerBound) == .object else { return true }
          var isText = false
          var text: Range<Int>?
          try s.forEachMember(ofObjectAt: part.lowerBound) { key, value in
            if s.key(key, equals: "type") {
              isText = s.kind(at: value.lowerBound) == .string
                && s.decodeString(contents: (value.lowerBound + 1)..<(value.upperBound - 1)) == Array("output_text".utf8)
            } else if s.key(key, equals: "text") {
              text = value
            }
            return true
          }
          if isText, let text, s.kind(at: text.lowerBound) == .string { parts.append(text) }
          return true
        }
        return true
      }
    }
    guard !parts.isEmpty else {
      json.append(contentsOf: null)
      return
    }
    // Escaped contents join into one valid string as they are.
    json.append(UInt8(ascii: "\""))
    for part in parts {
      json.append(contentsOf: UnsafeBufferPointer(rebasing: s.bytes[(part.lowerBound + 1)..<(part.upperBound - 1)]))
    }
    json.append(UInt8(ascii: "\""))
  }

  /// The first element of an array, when it is an object.
  private static func firstObject(_ s: JSONScanner, _ array: Range<Int>?) -> Range<Int>? {
    guard let array, s.kind(at: array.lowerBound) == .array,
      let first = try? s.element(0, ofArrayAt: array.lowerBound), s.kind(at: first.lowerBound) == .object
    else { return nil }
    return first
  }

  /// The first member named `name` of an object.
  private static func member(_ s: JSONScanner, _ object: Range<Int>, _ name: StaticString) -> Range<Int>? {
    var found: Range<Int>?
    _ = try? s.forEachMember(ofObjectAt: object.lowerBound) { key, value in
      if s.key(key, equals: name) {
        found = value
        return false
      }
      return true
    }
    return found
  }
}
