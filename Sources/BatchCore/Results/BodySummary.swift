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
  /// The first element of `choices`, when it is an object.
  private(set) var firstChoice: Choice?
  /// How many elements `choices` has, and where it is.
  private(set) var choiceCount = 0
  private(set) var choices: Range<Int>?
  /// The members other endpoints take their answer from.
  private(set) var data: Range<Int>?
  private(set) var output: Range<Int>?
  private(set) var results: Range<Int>?
  /// A response's `status` and `incomplete_details`.
  private(set) var status: Range<Int>?
  private(set) var incompleteDetails: Range<Int>?

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
        summary.firstChoice = nil
        summary.choiceCount = 0
        let valueEnd: Int
        if s.bytes[value] == UInt8(ascii: "[") {
          valueEnd = try summary.walkChoices(s, arrayAt: value, depth: depth + 1)
        } else {
          valueEnd = try s.skipValue(at: value, depth: depth + 1)
        }
        summary.choices = value..<valueEnd
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
        return try s.skipValue(at: value, depth: depth + 1, recording: &summary.data)
      }
      if s.key(key, equals: "output") {
        return try s.skipValue(at: value, depth: depth + 1, recording: &summary.output)
      }
      if s.key(key, equals: "results") {
        return try s.skipValue(at: value, depth: depth + 1, recording: &summary.results)
      }
      if s.key(key, equals: "status") {
        return try s.skipValue(at: value, depth: depth + 1, recording: &summary.status)
      }
      if s.key(key, equals: "incomplete_details") {
        return try s.skipValue(at: value, depth: depth + 1, recording: &summary.incompleteDetails)
      }
      return nil
    }
    self = summary
    return end
  }

  /// Records the first choice and counts them all.
  private mutating func walkChoices(_ s: JSONScanner, arrayAt i: Int, depth: Int) throws -> Int {
    var first: Choice?
    var count = 0
    let end = try s.walkElements(ofArrayAt: i, depth: depth) { index, value in
      count += 1
      guard index == 0, s.bytes[value] == UInt8(ascii: "{") else { return nil }
      var choice = Choice()
      let valueEnd = try choice.walk(s, objectAt: value, depth: depth + 1)
      first = choice
      return valueEnd
    }
    firstChoice = first
    choiceCount = count
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
}
