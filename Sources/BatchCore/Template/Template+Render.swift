/// What rendering one item produced, besides the request line.
public struct RenderedRequest {
  /// The request's `custom_id`, decoded (the bytes the server compares).
  public var customID: [UInt8]
  /// The model the request asks for.
  public var model: String?
  /// The estimated input tokens (see ``Template/estimateTokens(textBytes:)``).
  public var estimatedTokens: Int
  /// The number of embedding inputs (1 unless the input is an array).
  public var embeddingInputs: Int
}

/// Why an item cannot be rendered, without the file and line (the caller adds them).
public struct ItemError: Error {
  public var message: String
}

extension Template {
  /// Renders one item into a request line (with its `\n`) appended to `out`.
  ///
  /// - Parameters:
  ///   - item: The item's bytes, one line without its newline.
  ///   - lineNumber: The item's 1-based line, the `custom_id` when the
  ///     template has none.
  /// - Throws: ``ItemError`` if the item is not a JSON object, lacks a field
  ///   the template needs, or already has the output field.
  public func render(item: UnsafeBufferPointer<UInt8>, lineNumber: Int, into out: inout [UInt8]) throws
    -> RenderedRequest
  {
    let scanner = JSONScanner(item)
    let start = scanner.skipWhitespace(0)
    guard start < item.count else { throw ItemError(message: "blank line") }
    guard scanner.kind(at: start) == .object else {
      do {
        _ = try scanner.validateDocument()
      } catch let error as JSONSyntaxError {
        throw ItemError(message: "not valid JSON: \(error.reason)")
      }
      throw ItemError(message: "not a JSON object")
    }
    // One walk over the top level validates the item and finds the fields.
    let fields = try index(scanner, at: start)

    let customID: [UInt8]
    let idStart = out.count
    out.append(contentsOf: Self.linePrefix)
    if let template = customIDTemplate {
      var textBytes = 0
      try append(template, scanner, fields, to: &out, textBytes: &textBytes)
      customID = decodeIfEscaped(out[(idStart + Self.linePrefix.count)...])
      guard !customID.isEmpty else { throw ItemError(message: "custom_id is empty") }
    } else {
      JSONWriter.appendInteger(lineNumber, to: &out)
      customID = Array(out[(idStart + Self.linePrefix.count)...])
    }
    out.append(contentsOf: urlPart)
    var textBytes = literalTextBytes
    try append(body, scanner, fields, to: &out, textBytes: &textBytes)
    out.append(contentsOf: [UInt8(ascii: "}"), 0x0A])

    var model = fixedModel
    if let modelPath {
      guard let range = try lookup(modelPath, scanner, fields), let name = scanner.string(at: range), !name.isEmpty
      else { throw ItemError(message: "the model must be a non-empty string") }
      model = name
    }
    if let streamPath, let range = try lookup(streamPath, scanner, fields),
      scanner.bytes[range.lowerBound] == UInt8(ascii: "t")
    {
      throw ItemError(message: "'stream' is true, and the Batch API does not support streaming")
    }
    var inputs = 1
    if let inputPath, let range = try lookup(inputPath, scanner, fields), scanner.kind(at: range.lowerBound) == .array {
      inputs = 0
      try scanner.forEachElement(ofArrayAt: range.lowerBound) { _ in
        inputs += 1
        return true
      }
    }
    return RenderedRequest(
      customID: customID, model: model, estimatedTokens: estimateTokens(textBytes: textBytes),
      embeddingInputs: inputs)
  }

  /// The estimated input tokens of a request whose text totals `textBytes`.
  ///
  /// A token is about four bytes of English text (OpenAI's rule of thumb);
  /// chat adds 3 tokens per message and 3 to prime the reply, as OpenAI's
  /// cookbook counts them. The estimate runs high on non-English text, which
  /// is the safe side for a budget and for the enqueued-token limit.
  public func estimateTokens(textBytes: Int) -> Int {
    (textBytes + 3) / 4 + 3 * messageCount + 3
  }

  static let linePrefix: [UInt8] = Array(#"{"custom_id":""#.utf8)

  var customIDTemplate: [Segment]? { customID }

  var urlPart: [UInt8] {
    Array(#"","method":"POST","url":"\#(url)","body":"#.utf8)
  }

  /// The ranges of the top-level members the template's paths start with.
  struct FieldIndex {
    var ranges: [Range<Int>?]
  }

  /// Walks the item's top level once: validates it, checks that the output
  /// field is not there yet, and records the members the paths need.
  private func index(_ scanner: JSONScanner, at start: Int) throws -> FieldIndex {
    var ranges = [Range<Int>?](repeating: nil, count: paths.count)
    let outputKey = Array(outputField.utf8)
    let errorKey = Array((outputField + "_error").utf8)
    do {
      let end = try scanner.forEachMember(ofObjectAt: start) { key, value in
        if scanner.key(key, equals: outputKey) || scanner.key(key, equals: errorKey) {
          let name = String(decoding: scanner.decodeString(contents: key), as: UTF8.self)
          throw ItemError(message: "the item already has a field '\(name)'; set \"output_field\" in prompt.json")
        }
        for (n, path) in paths.enumerated() where scanner.key(key, equals: path.components[0].key) {
          ranges[n] = value  // the last member with a key wins, as in most parsers
        }
        return true
      }
      let trailing = scanner.skipWhitespace(end)
      guard trailing == scanner.bytes.count else {
        throw JSONSyntaxError(offset: trailing, reason: "unexpected text after the JSON value")
      }
    } catch let error as JSONSyntaxError {
      throw ItemError(message: "not valid JSON: \(error.reason) (byte \(error.offset + 1))")
    }
    for (n, path) in paths.enumerated() {
      guard let top = ranges[n] else { throw ItemError(message: "field '\(path.text)' is missing") }
      if path.components.count > 1 {
        guard let inner = try scanner.value(at: Array(path.components.dropFirst()), in: top) else {
          throw ItemError(message: "field '\(path.text)' is missing")
        }
        ranges[n] = inner
      }
    }
    return FieldIndex(ranges: ranges)
  }

  private func lookup(_ components: [JSONPathComponent], _ scanner: JSONScanner, _ fields: FieldIndex) throws
    -> Range<Int>?
  {
    guard let n = paths.firstIndex(where: { $0.components == components }) else { return nil }
    return fields.ranges[n]
  }

  private func append(
    _ segments: [Segment], _ scanner: JSONScanner, _ fields: FieldIndex, to out: inout [UInt8],
    textBytes: inout Int
  ) throws {
    for segment in segments {
      switch segment {
      case .literal(let bytes):
        out.append(contentsOf: bytes)
      case .value(let components):
        guard let range = try lookup(components, scanner, fields) else { continue }
        let before = out.count
        JSONWriter.appendCompact(scanner, range, to: &out)
        textBytes += out.count - before
      case .text(let components):
        guard let range = try lookup(components, scanner, fields) else { continue }
        let before = out.count
        JSONWriter.appendAsText(scanner, range, to: &out)
        textBytes += out.count - before
      case .wholeItem:
        let before = out.count
        JSONWriter.appendCompact(scanner, 0..<scanner.bytes.count, to: &out)
        textBytes += out.count - before
      case .wholeItemText:
        var compact: [UInt8] = []
        JSONWriter.appendCompact(scanner, 0..<scanner.bytes.count, to: &compact)
        let before = out.count
        JSONWriter.appendEscaped(compact, to: &out)
        textBytes += out.count - before
      }
    }
  }
}

/// The decoded bytes of escaped JSON string contents (a copy as they are
/// when there is nothing to decode).
func decodeIfEscaped(_ contents: ArraySlice<UInt8>) -> [UInt8] {
  guard contents.contains(UInt8(ascii: "\\")) else { return Array(contents) }
  let bytes = Array(contents)
  return bytes.withUnsafeBufferPointer { JSONScanner($0).decodeString(contents: 0..<$0.count) }
}
