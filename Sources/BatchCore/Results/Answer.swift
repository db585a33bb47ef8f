/// Pulls the answer, the model and the token usage out of a response body,
/// walking each object once.
struct Answer {
  /// The answer as compact JSON: the message text for chat and completions,
  /// the output text for responses, the vector for embeddings (an array of
  /// vectors for several inputs), the first result for moderations, else
  /// the whole body.
  var json: [UInt8] = []
  /// The model's name (escaped string contents), when the body has one.
  var model: Range<Int>?
  /// The tokens the body reports.
  var tally = TokenTally()

  private enum Key {
    static let choices = Array("choices".utf8)
    static let message = Array("message".utf8)
    static let content = Array("content".utf8)
    static let toolCalls = Array("tool_calls".utf8)
    static let text = Array("text".utf8)
    static let output = Array("output".utf8)
    static let type = Array("type".utf8)
    static let outputText = Array("output_text".utf8)
    static let data = Array("data".utf8)
    static let embedding = Array("embedding".utf8)
    static let results = Array("results".utf8)
    static let usage = Array("usage".utf8)
    static let model = Array("model".utf8)
    static let promptTokens = Array("prompt_tokens".utf8)
    static let completionTokens = Array("completion_tokens".utf8)
    static let inputTokens = Array("input_tokens".utf8)
    static let outputTokens = Array("output_tokens".utf8)
    static let promptDetails = Array("prompt_tokens_details".utf8)
    static let completionDetails = Array("completion_tokens_details".utf8)
    static let inputDetails = Array("input_tokens_details".utf8)
    static let outputDetails = Array("output_tokens_details".utf8)
    static let cachedTokens = Array("cached_tokens".utf8)
    static let reasoningTokens = Array("reasoning_tokens".utf8)
  }

  private static let null = Array("null".utf8)

  /// Reads the body of a response to `endpoint`.
  init(endpoint: String, _ s: JSONScanner, body: Range<Int>) throws {
    guard s.kind(at: body.lowerBound) == .object else {
      JSONWriter.appendCompact(s, body, to: &json)
      return
    }
    var choices: Range<Int>?
    var data: Range<Int>?
    var output: Range<Int>?
    var results: Range<Int>?
    var model: Range<Int>?
    var tally = TokenTally()
    try s.forEachMember(ofObjectAt: body.lowerBound) { key, value in
      if s.key(key, equals: Key.choices) {
        choices = value
      } else if s.key(key, equals: Key.usage) {
        tally = try Self.usage(s, value)
      } else if s.key(key, equals: Key.model) {
        if s.kind(at: value.lowerBound) == .string { model = (value.lowerBound + 1)..<(value.upperBound - 1) }
      } else if s.key(key, equals: Key.data) {
        data = value
      } else if s.key(key, equals: Key.output) {
        output = value
      } else if s.key(key, equals: Key.results) {
        results = value
      }
      return true
    }
    self.model = model
    self.tally = tally
    switch endpoint {
    case "/v1/chat/completions", "/chat/completions":
      try appendChat(s, choices)
    case "/v1/completions", "/completions":
      if let first = try Self.firstObject(s, choices), let text = try Self.member(s, first, Key.text) {
        JSONWriter.appendCompact(s, text, to: &json)
      } else {
        json = Self.null
      }
    case "/v1/responses", "/responses":
      try appendResponsesText(s, output)
    case "/v1/embeddings", "/embeddings":
      try appendEmbeddings(s, data)
    case "/v1/moderations", "/moderations":
      if let first = try Self.firstObject(s, results) {
        JSONWriter.appendCompact(s, first, to: &json)
      } else {
        JSONWriter.appendCompact(s, body, to: &json)
      }
    default:
      JSONWriter.appendCompact(s, body, to: &json)
    }
  }

  /// The message's content, or its tool calls when it has no content.
  private mutating func appendChat(_ s: JSONScanner, _ choices: Range<Int>?) throws {
    if let first = try Self.firstObject(s, choices), let message = try Self.member(s, first, Key.message),
      s.kind(at: message.lowerBound) == .object
    {
      var content: Range<Int>?
      var calls: Range<Int>?
      try s.forEachMember(ofObjectAt: message.lowerBound) { key, value in
        if s.key(key, equals: Key.content) {
          content = value
        } else if s.key(key, equals: Key.toolCalls) {
          calls = value
        }
        return true
      }
      if let content, s.kind(at: content.lowerBound) != .null {
        return JSONWriter.appendCompact(s, content, to: &json)
      }
      if let calls, s.kind(at: calls.lowerBound) == .array {
        return JSONWriter.appendCompact(s, calls, to: &json)
      }
    }
    json = Self.null
  }

  private mutating func appendEmbeddings(_ s: JSONScanner, _ data: Range<Int>?) throws {
    guard let data, s.kind(at: data.lowerBound) == .array else {
      json = Self.null
      return
    }
    var vectors: [Range<Int>] = []
    try s.forEachElement(ofArrayAt: data.lowerBound) { entry in
      if s.kind(at: entry.lowerBound) == .object, let v = try Self.member(s, entry, Key.embedding) {
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
  private mutating func appendResponsesText(_ s: JSONScanner, _ output: Range<Int>?) throws {
    var parts: [Range<Int>] = []
    if let output, s.kind(at: output.lowerBound) == .array {
      try s.forEachElement(ofArrayAt: output.lowerBound) { item in
        guard s.kind(at: item.lowerBound) == .object, let contents = try Self.member(s, item, Key.content),
          s.kind(at: contents.lowerBound) == .array
        else { return true }
        try s.forEachElement(ofArrayAt: contents.lowerBound) { part in
          guard s.kind(at: part.lowerBound) == .object else { return true }
          var isText = false
          var text: Range<Int>?
          try s.forEachMember(ofObjectAt: part.lowerBound) { key, value in
            if s.key(key, equals: Key.type) {
              isText = s.kind(at: value.lowerBound) == .string
                && s.decodeString(contents: (value.lowerBound + 1)..<(value.upperBound - 1)) == Key.outputText
            } else if s.key(key, equals: Key.text) {
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
      json = Self.null
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
  private static func firstObject(_ s: JSONScanner, _ array: Range<Int>?) throws -> Range<Int>? {
    guard let array, s.kind(at: array.lowerBound) == .array, let first = try s.element(0, ofArrayAt: array.lowerBound),
      s.kind(at: first.lowerBound) == .object
    else { return nil }
    return first
  }

  /// The first member named `name` of an object.
  private static func member(_ s: JSONScanner, _ object: Range<Int>, _ name: [UInt8]) throws -> Range<Int>? {
    var found: Range<Int>?
    try s.forEachMember(ofObjectAt: object.lowerBound) { key, value in
      if s.key(key, equals: name) {
        found = value
        return false
      }
      return true
    }
    return found
  }

  /// The token usage, as chat, completions, embeddings and responses spell it.
  static func usage(_ s: JSONScanner, _ usage: Range<Int>) throws -> TokenTally {
    var tally = TokenTally()
    guard s.kind(at: usage.lowerBound) == .object else { return tally }
    func nested(_ value: Range<Int>, _ name: [UInt8]) throws -> Int {
      guard s.kind(at: value.lowerBound) == .object, let inner = try member(s, value, name) else { return 0 }
      return s.integer(at: inner) ?? 0
    }
    try s.forEachMember(ofObjectAt: usage.lowerBound) { key, value in
      if s.key(key, equals: Key.promptTokens) || s.key(key, equals: Key.inputTokens) {
        tally.input += s.integer(at: value) ?? 0
      } else if s.key(key, equals: Key.completionTokens) || s.key(key, equals: Key.outputTokens) {
        tally.output += s.integer(at: value) ?? 0
      } else if s.key(key, equals: Key.promptDetails) || s.key(key, equals: Key.inputDetails) {
        tally.cachedInput += try nested(value, Key.cachedTokens)
      } else if s.key(key, equals: Key.completionDetails) || s.key(key, equals: Key.outputDetails) {
        tally.reasoning += try nested(value, Key.reasoningTokens)
      }
      return true
    }
    return tally
  }
}
