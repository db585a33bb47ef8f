/// Pulls the answer and the token usage out of a response body, by endpoint.
enum Answer {
  private static let choices = Array("choices".utf8)
  private static let message = Array("message".utf8)
  private static let content = Array("content".utf8)
  private static let toolCalls = Array("tool_calls".utf8)
  private static let text = Array("text".utf8)
  private static let output = Array("output".utf8)
  private static let type = Array("type".utf8)
  private static let outputText = Array("output_text".utf8)
  private static let data = Array("data".utf8)
  private static let embedding = Array("embedding".utf8)
  private static let results = Array("results".utf8)
  private static let usage = Array("usage".utf8)
  private static let model = Array("model".utf8)

  /// Appends the answer of `body` to `out` as a compact JSON value: the
  /// message text for chat and completions, the output text for responses,
  /// the vector for embeddings (an array of vectors for several inputs),
  /// the first result for moderations, else the whole body.
  static func append(endpoint: String, _ s: JSONScanner, body: Range<Int>, to out: inout [UInt8]) throws {
    switch endpoint {
    case "/v1/chat/completions", "/chat/completions":
      if let first = try firstChoice(s, body), let msg = try s.member(message, ofObjectAt: first.lowerBound),
        s.kind(at: msg.lowerBound) == .object
      {
        if let text = try s.member(content, ofObjectAt: msg.lowerBound), s.kind(at: text.lowerBound) != .null {
          return JSONWriter.appendCompact(s, text, to: &out)
        }
        if let calls = try s.member(toolCalls, ofObjectAt: msg.lowerBound), s.kind(at: calls.lowerBound) == .array {
          return JSONWriter.appendCompact(s, calls, to: &out)
        }
      }
      out.append(contentsOf: Array("null".utf8))
    case "/v1/completions", "/completions":
      if let first = try firstChoice(s, body), let value = try s.member(text, ofObjectAt: first.lowerBound) {
        return JSONWriter.appendCompact(s, value, to: &out)
      }
      out.append(contentsOf: Array("null".utf8))
    case "/v1/responses", "/responses":
      try appendResponsesText(s, body, to: &out)
    case "/v1/embeddings", "/embeddings":
      guard let list = try s.member(data, ofObjectAt: body.lowerBound), s.kind(at: list.lowerBound) == .array else {
        out.append(contentsOf: Array("null".utf8))
        return
      }
      var vectors: [Range<Int>] = []
      try s.forEachElement(ofArrayAt: list.lowerBound) { entry in
        if s.kind(at: entry.lowerBound) == .object, let v = try s.member(embedding, ofObjectAt: entry.lowerBound) {
          vectors.append(v)
        }
        return true
      }
      if vectors.count == 1 {
        JSONWriter.appendCompact(s, vectors[0], to: &out)
      } else {
        out.append(UInt8(ascii: "["))
        for (n, v) in vectors.enumerated() {
          if n > 0 { out.append(UInt8(ascii: ",")) }
          JSONWriter.appendCompact(s, v, to: &out)
        }
        out.append(UInt8(ascii: "]"))
      }
    case "/v1/moderations", "/moderations":
      if let list = try s.member(results, ofObjectAt: body.lowerBound), s.kind(at: list.lowerBound) == .array,
        let first = try s.element(0, ofArrayAt: list.lowerBound)
      {
        return JSONWriter.appendCompact(s, first, to: &out)
      }
      JSONWriter.appendCompact(s, body, to: &out)
    default:
      JSONWriter.appendCompact(s, body, to: &out)
    }
  }

  private static func firstChoice(_ s: JSONScanner, _ body: Range<Int>) throws -> Range<Int>? {
    guard s.kind(at: body.lowerBound) == .object, let list = try s.member(choices, ofObjectAt: body.lowerBound),
      s.kind(at: list.lowerBound) == .array, let first = try s.element(0, ofArrayAt: list.lowerBound),
      s.kind(at: first.lowerBound) == .object
    else { return nil }
    return first
  }

  /// The text of every `output_text` part of every output message, joined.
  private static func appendResponsesText(_ s: JSONScanner, _ body: Range<Int>, to out: inout [UInt8]) throws {
    var parts: [Range<Int>] = []
    if s.kind(at: body.lowerBound) == .object, let items = try s.member(output, ofObjectAt: body.lowerBound),
      s.kind(at: items.lowerBound) == .array
    {
      try s.forEachElement(ofArrayAt: items.lowerBound) { item in
        guard s.kind(at: item.lowerBound) == .object,
          let contents = try s.member(content, ofObjectAt: item.lowerBound), s.kind(at: contents.lowerBound) == .array
        else { return true }
        try s.forEachElement(ofArrayAt: contents.lowerBound) { part in
          guard s.kind(at: part.lowerBound) == .object,
            let kind = try s.member(type, ofObjectAt: part.lowerBound),
            s.decodeString(contents: (kind.lowerBound + 1)..<(kind.upperBound - 1)) == outputText,
            let value = try s.member(text, ofObjectAt: part.lowerBound), s.kind(at: value.lowerBound) == .string
          else { return true }
          parts.append(value)
          return true
        }
        return true
      }
    }
    guard !parts.isEmpty else {
      out.append(contentsOf: Array("null".utf8))
      return
    }
    // Escaped contents join into one valid string as they are.
    out.append(UInt8(ascii: "\""))
    for part in parts {
      out.append(contentsOf: UnsafeBufferPointer(rebasing: s.bytes[(part.lowerBound + 1)..<(part.upperBound - 1)]))
    }
    out.append(UInt8(ascii: "\""))
  }

  /// The token usage of a response body (chat, completions, embeddings and
  /// responses spell it differently).
  static func usage(_ s: JSONScanner, body: Range<Int>) -> TokenTally {
    var tally = TokenTally()
    guard s.kind(at: body.lowerBound) == .object,
      let u = try? s.member(usage, ofObjectAt: body.lowerBound), s.kind(at: u.lowerBound) == .object
    else { return tally }
    func number(_ path: String) -> Int {
      guard let range = try? s.value(at: JSONPathComponent.parse(path), in: u) else { return 0 }
      return s.integer(at: range) ?? 0
    }
    tally.input = number("prompt_tokens") + number("input_tokens")
    tally.output = number("completion_tokens") + number("output_tokens")
    tally.cachedInput = number("prompt_tokens_details.cached_tokens") + number("input_tokens_details.cached_tokens")
    tally.reasoning =
      number("completion_tokens_details.reasoning_tokens") + number("output_tokens_details.reasoning_tokens")
    return tally
  }

  /// The model named in a response body (a dated snapshot).
  static func model(_ s: JSONScanner, body: Range<Int>) -> Range<Int>? {
    guard s.kind(at: body.lowerBound) == .object, let m = try? s.member(model, ofObjectAt: body.lowerBound),
      s.kind(at: m.lowerBound) == .string
    else { return nil }
    return (m.lowerBound + 1)..<(m.upperBound - 1)
  }
}
