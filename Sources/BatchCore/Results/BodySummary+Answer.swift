/// Why an answer with HTTP 200 holds nothing usable: the code and the
/// message of the item's `<field>_error`.
struct UnusableAnswer: Error {
  var code: String
  /// Escaped JSON string contents.
  var message: [UInt8]

  init(code: String, message: [UInt8]) {
    self.code = code
    self.message = message
  }

  init(code: String, _ text: String) {
    var escaped: [UInt8] = []
    JSONWriter.appendEscaped(text.utf8, to: &escaped)
    self.init(code: code, message: escaped)
  }
}

extension BodySummary {
  /// What one choice (or a response's output) gives: a value to put in the
  /// field, or why there is none.
  private enum Part {
    /// The text (a string value) or, failing text, the tool calls.
    case value(Range<Int>, isText: Bool, cut: Bool)
    case unusable(UnusableAnswer)
  }

  private static let null = Array("null".utf8)

  /// Appends the answer in the form `format` asks for, or says why the
  /// body holds nothing usable (and leaves `json` as it was).
  ///
  /// - Parameters:
  ///   - body: The body the summary was made from.
  ///   - inputIsArray: Whether the request's `input` was an array
  ///     (embeddings and moderations answer with an array then).
  /// - Returns: Whether the answer is a text cut short by the token limit.
  func appendAnswer(
    _ format: AnswerFormat, _ s: JSONScanner, body: Range<Int>, inputIsArray: Bool, to json: inout [UInt8]
  ) -> Result<Bool, UnusableAnswer> {
    guard isObject else {
      JSONWriter.appendCompact(s, body, to: &json)
      return .success(false)
    }
    let start = json.count
    let result: Result<Bool, UnusableAnswer>
    switch format.kind {
    case .chat, .completions:
      result = appendChoices(format, s, body: body, to: &json)
    case .responses:
      result = appendResponse(format, s, body: body, to: &json)
    case .embeddings:
      result = appendEmbeddings(format, s, body: body, inputIsArray: inputIsArray, to: &json)
    case .moderations:
      result = appendModerations(format, s, body: body, inputIsArray: inputIsArray, to: &json)
    case .other:
      JSONWriter.appendCompact(s, body, to: &json)
      result = .success(false)
    }
    if case .failure = result { json.removeSubrange(start...) }
    return result
  }

  // MARK: - Chat and completions

  private func part(_ c: Choice, _ kind: AnswerKind, _ s: JSONScanner) -> Part {
    let cut = c.finished(s, "length")
    if kind == .completions {
      if let text = c.text, Self.isNonEmpty(s, text) { return .value(text, isText: true, cut: cut) }
    } else {
      if let content = c.content, Self.isNonEmpty(s, content) { return .value(content, isText: true, cut: cut) }
      if let refusal = c.refusal, s.kind(at: refusal.lowerBound) == .string, refusal.count > 2 {
        return .unusable(
          UnusableAnswer(code: "refusal", message: Array(s.bytes[(refusal.lowerBound + 1)..<(refusal.upperBound - 1)])))
      }
      if let calls = c.toolCalls, s.kind(at: calls.lowerBound) == .array, Self.isNonEmpty(s, calls) {
        return .value(calls, isText: false, cut: cut)
      }
    }
    let reason = c.finishReason.flatMap { s.string(at: $0) }
    return .unusable(UnusableAnswer(code: reason ?? "empty_answer", "the answer has no text (finish_reason: \(reason ?? "none"))"))
  }

  private func appendChoices(_ format: AnswerFormat, _ s: JSONScanner, body: Range<Int>, to json: inout [UInt8])
    -> Result<Bool, UnusableAnswer>
  {
    guard choiceCount > 1, let choices else {
      guard let firstChoice else { return .failure(UnusableAnswer(code: "empty_answer", "the answer has no choices")) }
      switch part(firstChoice, format.kind, s) {
      case .unusable(let why):
        return .failure(why)
      case .value(let value, let isText, let cut):
        switch format.mode {
        case .body: JSONWriter.appendCompact(s, body, to: &json)
        case .message: JSONWriter.appendCompact(s, firstChoice.message ?? firstChoice.range, to: &json)
        case .text: Self.appendValue(s, value, to: &json)
        case .json:
          if isText, let why = Self.appendParsed(s, [value], schema: format.schema, to: &json) { return .failure(why) }
          if !isText { JSONWriter.appendCompact(s, value, to: &json) }
        }
        return .success(cut)
      }
    }
    // n > 1: read every choice again (the walk kept the first), in index order.
    var all: [Choice] = []
    all.reserveCapacity(choiceCount)
    _ = try? s.walkElements(ofArrayAt: choices.lowerBound) { _, value in
      var choice = Choice()
      guard s.bytes[value] == UInt8(ascii: "{") else {
        let end = try s.skipValue(at: value, depth: 1)
        choice.range = value..<end
        all.append(choice)
        return end
      }
      let end = try choice.walk(s, objectAt: value, depth: 1)
      all.append(choice)
      return end
    }
    if all.contains(where: { $0.index != nil }) {
      all = all.enumerated().sorted { ($0.element.index ?? $0.offset, $0.offset) < ($1.element.index ?? $1.offset, $1.offset) }
        .map(\.element)
    }
    let parts = all.map { part($0, format.kind, s) }
    var firstWhy: UnusableAnswer?
    var usable = false
    var cut = false
    for p in parts {
      switch p {
      case .unusable(let why): if firstWhy == nil { firstWhy = why }
      case .value(_, _, let isCut):
        usable = true
        cut = cut || isCut
      }
    }
    if !usable, let firstWhy { return .failure(firstWhy) }
    switch format.mode {
    case .body:
      JSONWriter.appendCompact(s, body, to: &json)
      return .success(cut)
    case .message:
      json.append(UInt8(ascii: "["))
      for (n, c) in all.enumerated() {
        if n > 0 { json.append(UInt8(ascii: ",")) }
        JSONWriter.appendCompact(s, c.message ?? c.range, to: &json)
      }
      json.append(UInt8(ascii: "]"))
      return .success(cut)
    case .text, .json:
      // A choice with nothing usable is null in its place.
      json.append(UInt8(ascii: "["))
      for (n, p) in parts.enumerated() {
        if n > 0 { json.append(UInt8(ascii: ",")) }
        guard case .value(let value, let isText, _) = p else {
          json.append(contentsOf: Self.null)
          continue
        }
        if format.mode == .json && isText {
          if Self.appendParsed(s, [value], schema: format.schema, to: &json) != nil { json.append(contentsOf: Self.null) }
        } else if format.mode == .json {
          JSONWriter.appendCompact(s, value, to: &json)
        } else {
          Self.appendValue(s, value, to: &json)
        }
      }
      json.append(UInt8(ascii: "]"))
      return .success(cut)
    }
  }

  // MARK: - Responses

  private func appendResponse(_ format: AnswerFormat, _ s: JSONScanner, body: Range<Int>, to json: inout [UInt8])
    -> Result<Bool, UnusableAnswer>
  {
    var texts: [Range<Int>] = []
    var refusal: Range<Int>?
    var calls: [Range<Int>] = []
    if let output, s.kind(at: output.lowerBound) == .array {
      _ = try? s.forEachElement(ofArrayAt: output.lowerBound) { item in
        guard s.kind(at: item.lowerBound) == .object else { return true }
        if let type = Self.member(s, item, "type"), s.string(at: type) == "function_call" {
          calls.append(item)
          return true
        }
        guard let contents = Self.member(s, item, "content"), s.kind(at: contents.lowerBound) == .array else { return true }
        try s.forEachElement(ofArrayAt: contents.lowerBound) { part in
          guard s.kind(at: part.lowerBound) == .object, let type = Self.member(s, part, "type") else { return true }
          switch s.string(at: type) {
          case "output_text":
            if let text = Self.member(s, part, "text"), s.kind(at: text.lowerBound) == .string { texts.append(text) }
          case "refusal":
            if refusal == nil, let text = Self.member(s, part, "refusal"), s.kind(at: text.lowerBound) == .string {
              refusal = text
            }
          default: break
          }
          return true
        }
        return true
      }
    }
    let incomplete = status.flatMap { s.string(at: $0) } == "incomplete"
    let hasText = texts.contains { $0.count > 2 }
    if !hasText && calls.isEmpty {
      if let refusal, refusal.count > 2 {
        return .failure(UnusableAnswer(code: "refusal", message: Array(s.bytes[(refusal.lowerBound + 1)..<(refusal.upperBound - 1)])))
      }
      var reason: String?
      if let details = incompleteDetails, s.kind(at: details.lowerBound) == .object,
        let r = Self.member(s, details, "reason")
      {
        reason = s.string(at: r)
      }
      let state = status.flatMap { s.string(at: $0) } ?? "none"
      return .failure(
        UnusableAnswer(code: reason ?? "empty_answer", "the response has no output text (status: \(state), reason: \(reason ?? "none"))"))
    }
    switch format.mode {
    case .body:
      JSONWriter.appendCompact(s, body, to: &json)
    case .message:
      JSONWriter.appendCompact(s, output!, to: &json)
    case .text where hasText:
      // Escaped contents join into one valid string as they are.
      json.append(UInt8(ascii: "\""))
      for text in texts {
        json.append(contentsOf: UnsafeBufferPointer(rebasing: s.bytes[(text.lowerBound + 1)..<(text.upperBound - 1)]))
      }
      json.append(UInt8(ascii: "\""))
    case .json where hasText:
      if let why = Self.appendParsed(s, texts, schema: format.schema, to: &json) { return .failure(why) }
    case .text, .json:
      json.append(UInt8(ascii: "["))
      for (n, call) in calls.enumerated() {
        if n > 0 { json.append(UInt8(ascii: ",")) }
        JSONWriter.appendCompact(s, call, to: &json)
      }
      json.append(UInt8(ascii: "]"))
    }
    return .success(hasText && incomplete)
  }

  // MARK: - Embeddings and moderations

  private func appendEmbeddings(
    _ format: AnswerFormat, _ s: JSONScanner, body: Range<Int>, inputIsArray: Bool, to json: inout [UInt8]
  ) -> Result<Bool, UnusableAnswer> {
    var vectors: [(index: Int, value: Range<Int>)] = []
    if let data, s.kind(at: data.lowerBound) == .array {
      _ = try? s.forEachElement(ofArrayAt: data.lowerBound) { entry in
        if s.kind(at: entry.lowerBound) == .object, let v = Self.member(s, entry, "embedding") {
          let index = Self.member(s, entry, "index").flatMap { s.integer(at: $0) } ?? vectors.count
          vectors.append((index, v))
        }
        return true
      }
    }
    guard !vectors.isEmpty else { return .failure(UnusableAnswer(code: "empty_answer", "the answer has no embedding")) }
    if format.mode == .body {
      JSONWriter.appendCompact(s, body, to: &json)
      return .success(false)
    }
    vectors.sort { $0.index < $1.index }
    let asArray = inputIsArray || vectors.count > 1
    if asArray { json.append(UInt8(ascii: "[")) }
    for (n, v) in vectors.enumerated() {
      if n > 0 { json.append(UInt8(ascii: ",")) }
      if s.kind(at: v.value.lowerBound) == .string {
        guard Base64.appendFloat32Vector(s, contents: (v.value.lowerBound + 1)..<(v.value.upperBound - 1), to: &json) else {
          return .failure(UnusableAnswer(code: "invalid_embedding", "the embedding is not base64 of float32 values"))
        }
      } else {
        JSONWriter.appendCompact(s, v.value, to: &json)
      }
    }
    if asArray { json.append(UInt8(ascii: "]")) }
    return .success(false)
  }

  private func appendModerations(
    _ format: AnswerFormat, _ s: JSONScanner, body: Range<Int>, inputIsArray: Bool, to json: inout [UInt8]
  ) -> Result<Bool, UnusableAnswer> {
    guard format.mode != .body, let results, s.kind(at: results.lowerBound) == .array else {
      JSONWriter.appendCompact(s, body, to: &json)
      return .success(false)
    }
    if !inputIsArray, let first = try? s.element(0, ofArrayAt: results.lowerBound),
      s.kind(at: first.lowerBound) == .object, (try? s.element(1, ofArrayAt: results.lowerBound)) ?? nil == nil
    {
      JSONWriter.appendCompact(s, first, to: &json)
    } else {
      JSONWriter.appendCompact(s, results, to: &json)
    }
    return .success(false)
  }

  // MARK: - Pieces

  /// Whether a value has something in it: not null, not `""`, not `[]`.
  private static func isNonEmpty(_ s: JSONScanner, _ value: Range<Int>) -> Bool {
    switch s.kind(at: value.lowerBound) {
    case .null?, nil: return false
    case .string?: return value.count > 2
    case .array?: return s.skipWhitespace(value.lowerBound + 1) != value.upperBound - 1
    default: return true
    }
  }

  /// Appends a value in compact form; strings, numbers and literals have no
  /// insignificant whitespace and are copied as they are.
  @inline(__always)
  static func appendValue(_ s: JSONScanner, _ range: Range<Int>, to json: inout [UInt8]) {
    switch s.bytes[range.lowerBound] {
    case UInt8(ascii: "{"), UInt8(ascii: "["):
      JSONWriter.appendCompact(s, range, to: &json)
    default:
      json.append(contentsOf: UnsafeBufferPointer(rebasing: s.bytes[range]))
    }
  }

  /// Appends the JSON that the strings at `texts`, joined, spell, compact,
  /// once it is valid and matches the schema; else says why not.
  static func appendParsed(_ s: JSONScanner, _ texts: [Range<Int>], schema: JSONSchema?, to json: inout [UInt8])
    -> UnusableAnswer?
  {
    var text: [UInt8] = []
    for range in texts {
      guard s.kind(at: range.lowerBound) == .string else { continue }
      s.appendDecodedString(contents: (range.lowerBound + 1)..<(range.upperBound - 1), to: &text)
    }
    return text.withUnsafeBufferPointer { buffer in
      let inner = JSONScanner(buffer)
      let value: Range<Int>
      do {
        value = try inner.validateDocument()
      } catch let error as JSONSyntaxError {
        return UnusableAnswer(code: "invalid_json", "the answer is not valid JSON: \(error.description)")
      } catch {
        return UnusableAnswer(code: "invalid_json", "the answer is not valid JSON")
      }
      if let schema, let mismatch = schema.mismatch(inner, value) {
        return UnusableAnswer(code: "schema_mismatch", "the answer does not match the schema: \(mismatch)")
      }
      JSONWriter.appendCompact(inner, value, to: &json)
      return nil
    }
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
