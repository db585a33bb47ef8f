/// One element of `choices` in a chat or completions body: where its parts
/// are, read by one walk.
///
/// The first `message` and the first `text` count, as before; inside the
/// message, the last member of each name.
struct Choice {
  /// The whole choice object.
  var range: Range<Int> = 0..<0
  /// `index`, when it is an integer.
  var index: Int?
  var message: Range<Int>?
  var content: Range<Int>?
  var refusal: Range<Int>?
  var toolCalls: Range<Int>?
  /// `text` (completions).
  var text: Range<Int>?
  var finishReason: Range<Int>?

  /// Walks the choice object at `i` (validating it at `depth`).
  ///
  /// - Returns: The index just after the object.
  mutating func walk(_ s: JSONScanner, objectAt i: Int, depth: Int) throws -> Int {
    var choice = Choice()
    var sawMessage = false
    var sawText = false
    let end = try s.walkMembers(ofObjectAt: i, depth: depth) { key, value in
      if !sawMessage && s.key(key, equals: "message") {
        sawMessage = true
        guard s.bytes[value] == UInt8(ascii: "{") else { return nil }
        let valueEnd = try s.walkMembers(ofObjectAt: value, depth: depth + 1) { key, value in
          if s.key(key, equals: "content") {
            return try s.skipValue(at: value, depth: depth + 2, recording: &choice.content)
          }
          if s.key(key, equals: "refusal") {
            return try s.skipValue(at: value, depth: depth + 2, recording: &choice.refusal)
          }
          if s.key(key, equals: "tool_calls") {
            return try s.skipValue(at: value, depth: depth + 2, recording: &choice.toolCalls)
          }
          return nil
        }
        choice.message = value..<valueEnd
        return valueEnd
      }
      if !sawText && s.key(key, equals: "text") {
        sawText = true
        return try s.skipValue(at: value, depth: depth + 1, recording: &choice.text)
      }
      if s.key(key, equals: "finish_reason") {
        return try s.skipValue(at: value, depth: depth + 1, recording: &choice.finishReason)
      }
      if s.key(key, equals: "index") {
        let valueEnd = try s.skipValue(at: value, depth: depth + 1)
        choice.index = s.integer(at: value..<valueEnd)
        return valueEnd
      }
      return nil
    }
    choice.range = i..<end
    self = choice
    return end
  }

  /// Whether the finish reason is `reason`.
  func finished(_ s: JSONScanner, _ reason: StaticString) -> Bool {
    guard let finishReason, s.bytes[finishReason.lowerBound] == UInt8(ascii: "\"") else { return false }
    return s.key((finishReason.lowerBound + 1)..<(finishReason.upperBound - 1), equals: reason)
  }
}
