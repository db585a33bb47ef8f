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
    var scratch = RenderScratch()
    let rendered = try compiled.render(item: item, lineNumber: lineNumber, into: &out, scratch: &scratch)
    return RenderedRequest(
      customID: decodeIfEscaped(out[rendered.customID]), model: rendered.model,
      estimatedTokens: rendered.estimatedTokens, embeddingInputs: rendered.embeddingInputs)
  }

  /// The estimated input tokens of a request whose text totals `textBytes`.
  ///
  /// A token is about four bytes of English text (OpenAI's rule of thumb);
  /// chat adds 3 tokens per message and 3 to prime the reply, as OpenAI's
  /// cookbook counts them. The estimate runs high on non-English text, which
  /// is the safe side for a budget and for the enqueued-token limit.
  public func estimateTokens(textBytes: Int) -> Int {
    compiled.estimateTokens(textBytes: textBytes)
  }

  static let linePrefix: [UInt8] = Array(#"{"custom_id":""#.utf8)

  var customIDTemplate: [Segment]? { customID }

  var urlPart: [UInt8] { compiled.urlPart }
}

/// What rendering an item found, for the per-item path: the same as
/// ``RenderedRequest`` but with the id left in the line, not copied out.
struct RenderedLine {
  /// Where the `custom_id` string's contents (still escaped) are in the output.
  var customID: Range<Int>
  var model: String?
  var estimatedTokens: Int
  var embeddingInputs: Int
}

/// Buffers one thread reuses from item to item.
struct RenderScratch {
  var ranges: [Range<Int>?] = []
  var text: [UInt8] = []
}

/// A template resolved for rendering: each placeholder is the index of its
/// path, literals are ranges of one byte array, and the names the item's
/// top level is matched against are bytes made once.
///
/// Looking each placeholder's path up by comparing arrays of path parts,
/// and rebuilding the url part and the output field's name for every item,
/// cost more than the rendering itself. A class, so that the closures of the
/// per-item walk capture one reference: as a struct it was copied, every
/// array in it retained and released, for each member of each item.
final class CompiledTemplate: Sendable {
  /// One piece of the output: plain values, so that walking the pieces
  /// involves no reference counting.
  struct Piece: Sendable {
    enum Kind: Sendable {
      /// `literals[start..<end]`.
      case literal
      /// The value of path `start`, as JSON.
      case value
      /// The value of path `start`, as text inside a JSON string.
      case text
      /// The whole item, as compact JSON.
      case wholeItem
      /// The whole item, as text inside a JSON string.
      case wholeItemText
    }
    var kind: Kind
    var start: Int
    var end: Int
  }

  let literals: [UInt8]
  let body: [Piece]
  let customID: [Piece]?
  /// The paths' texts, for messages.
  let pathTexts: [String]
  /// The names the item's members are matched against, back to back: the
  /// output field, its `_error` field, then the distinct first parts of the
  /// paths; `nameEnds[k]` is where name `k` ends.
  let names: [UInt8]
  let nameEnds: [Int]
  /// For each path, which name is its first part.
  let firstName: [Int]
  /// The parts of each path after the first.
  let rest: [[JSONPathComponent]]
  let outputField: String
  /// `","method":"POST","url":"<url>","body":`
  let urlPart: [UInt8]
  let fixedModel: String?
  /// Whether the model, the stream flag and the embeddings input come from
  /// the item, and from which path (nil: a path the template does not read).
  let modelFromItem: Bool
  let modelPath: Int?
  let streamPath: Int?
  let inputPath: Int?
  let literalTextBytes: Int
  let messageCount: Int

  init(
    body: [Template.Segment], customID: [Template.Segment]?, paths: [(text: String, components: [JSONPathComponent])],
    url: String, outputField: String, modelPath: [JSONPathComponent]?, streamPath: [JSONPathComponent]?,
    inputPath: [JSONPathComponent]?, fixedModel: String? = nil, literalTextBytes: Int = 0, messageCount: Int = 1
  ) {
    var literals: [UInt8] = []
    func index(_ components: [JSONPathComponent]) -> Int? { paths.firstIndex { $0.components == components } }
    func pieces(_ segments: [Template.Segment]) -> [Piece] {
      segments.compactMap { segment in
        switch segment {
        case .literal(let bytes):
          literals.append(contentsOf: bytes)
          return Piece(kind: .literal, start: literals.count - bytes.count, end: literals.count)
        case .value(let components):
          // A path the template does not read renders as nothing.
          return index(components).map { Piece(kind: .value, start: $0, end: 0) }
        case .text(let components):
          return index(components).map { Piece(kind: .text, start: $0, end: 0) }
        case .wholeItem:
          return Piece(kind: .wholeItem, start: 0, end: 0)
        case .wholeItemText:
          return Piece(kind: .wholeItemText, start: 0, end: 0)
        }
      }
    }
    self.body = pieces(body)
    self.customID = customID.map(pieces)
    self.literals = literals
    pathTexts = paths.map(\.text)
    var keys: [[UInt8]] = [Array(outputField.utf8), Array((outputField + "_error").utf8)]
    var firstName: [Int] = []
    for path in paths {
      let key = path.components[0].key
      if let k = keys[2...].firstIndex(of: key) {
        firstName.append(k)
      } else {
        keys.append(key)
        firstName.append(keys.count - 1)
      }
    }
    names = keys.flatMap { $0 }
    var end = 0
    nameEnds = keys.map { end += $0.count; return end }
    self.firstName = firstName
    rest = paths.map { Array($0.components.dropFirst()) }
    self.outputField = outputField
    urlPart = Array(#"","method":"POST","url":"\#(url)","body":"#.utf8)
    self.fixedModel = fixedModel
    modelFromItem = modelPath != nil
    self.modelPath = modelPath.flatMap(index)
    self.streamPath = streamPath.flatMap(index)
    self.inputPath = inputPath.flatMap(index)
    self.literalTextBytes = literalTextBytes
    self.messageCount = messageCount
  }

  func estimateTokens(textBytes: Int) -> Int {
    (textBytes + 3) / 4 + 3 * messageCount + 3
  }

  /// Renders one item into a request line (with its `\n`) appended to `out`.
  ///
  /// - Throws: ``ItemError``, as ``Template/render(item:lineNumber:into:)``.
  func render(item: UnsafeBufferPointer<UInt8>, lineNumber: Int, into out: inout [UInt8], scratch: inout RenderScratch)
    throws -> RenderedLine
  {
    let scanner = JSONScanner(item)
    let start = scanner.skipWhitespace(0)
    guard start < item.count else { throw ItemError(message: "blank line") }
    guard item[start] == UInt8(ascii: "{") else {
      do {
        _ = try scanner.validateDocument()
      } catch let error as JSONSyntaxError {
        throw ItemError(message: "not valid JSON: \(error.reason)")
      }
      throw ItemError(message: "not a JSON object")
    }
    // One walk over the top level validates the item and finds the fields.
    try index(scanner, at: start, into: &scratch.ranges)
    let ranges = scratch.ranges

    out.append(contentsOf: Template.linePrefix)
    let idStart = out.count
    if let customID {
      var textBytes = 0
      append(customID, scanner, ranges, to: &out, textBytes: &textBytes, scratch: &scratch.text)
      guard out.count > idStart else { throw ItemError(message: "custom_id is empty") }
    } else {
      JSONWriter.appendInteger(lineNumber, to: &out)
    }
    let idEnd = out.count
    out.append(contentsOf: urlPart)
    var textBytes = literalTextBytes
    append(body, scanner, ranges, to: &out, textBytes: &textBytes, scratch: &scratch.text)
    out.append(UInt8(ascii: "}"))
    out.append(0x0A)

    var model = fixedModel
    if modelFromItem {
      guard let path = modelPath, let range = ranges[path], let name = scanner.string(at: range), !name.isEmpty
      else { throw ItemError(message: "the model must be a non-empty string") }
      model = name
    }
    if let path = streamPath, let range = ranges[path], scanner.bytes[range.lowerBound] == UInt8(ascii: "t") {
      throw ItemError(message: "'stream' is true, and the Batch API does not support streaming")
    }
    var inputs = 1
    if let path = inputPath, let range = ranges[path], scanner.kind(at: range.lowerBound) == .array {
      inputs = 0
      try scanner.forEachElement(ofArrayAt: range.lowerBound) { _ in
        inputs += 1
        return true
      }
    }
    return RenderedLine(
      customID: idStart..<idEnd, model: model, estimatedTokens: estimateTokens(textBytes: textBytes),
      embeddingInputs: inputs)
  }

  /// Walks the item's top level once: validates it, checks that the output
  /// field is not there yet, and records the value of every path.
  private func index(_ scanner: JSONScanner, at start: Int, into ranges: inout [Range<Int>?]) throws {
    ranges.removeAll(keepingCapacity: true)
    ranges.append(contentsOf: repeatElement(nil, count: pathTexts.count))
    do {
      // Plain pointers in the per-member closure: no reference counting.
      let end = try names.withUnsafeBufferPointer { names in
        try nameEnds.withUnsafeBufferPointer { nameEnds in
          try firstName.withUnsafeBufferPointer { firstName in
            try ranges.withUnsafeMutableBufferPointer { ranges in
              func name(_ k: Int) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(rebasing: names[(k == 0 ? 0 : nameEnds[k - 1])..<nameEnds[k]])
              }
              // One walk validates the item; a key without escapes matches
              // a name only with the same bytes.
              return try scanner.walkMembers(ofObjectAt: start) { key, value in
                if scanner.key(key, equals: name(0)) || scanner.key(key, equals: name(1)) {
                  let text = String(decoding: scanner.decodeString(contents: key.range), as: UTF8.self)
                  throw ItemError(message: "the item already has a field '\(text)'; set \"output_field\" in prompt.json")
                }
                let valueEnd = try scanner.skipValue(at: value, depth: 1)
                for k in 2..<nameEnds.count where scanner.key(key, equals: name(k)) {
                  // The last member with a key wins, as in most parsers.
                  for n in 0..<firstName.count where firstName[n] == k { ranges[n] = value..<valueEnd }
                }
                return valueEnd
              }
            }
          }
        }
      }
      let trailing = scanner.skipWhitespace(end)
      guard trailing == scanner.bytes.count else {
        throw JSONSyntaxError(offset: trailing, reason: "unexpected text after the JSON value")
      }
    } catch let error as JSONSyntaxError {
      throw ItemError(message: "not valid JSON: \(error.reason) (byte \(error.offset + 1))")
    }
    for n in ranges.indices {
      guard let top = ranges[n] else { throw ItemError(message: "field '\(pathTexts[n])' is missing") }
      if !rest[n].isEmpty {
        guard let inner = try scanner.value(at: rest[n], in: top) else {
          throw ItemError(message: "field '\(pathTexts[n])' is missing")
        }
        ranges[n] = inner
      }
    }
  }

  private func append(
    _ pieces: [Piece], _ scanner: JSONScanner, _ ranges: [Range<Int>?], to out: inout [UInt8], textBytes: inout Int,
    scratch: inout [UInt8]
  ) {
    literals.withUnsafeBufferPointer { literals in
      for piece in pieces {
        switch piece.kind {
        case .literal:
          out.append(contentsOf: UnsafeBufferPointer(rebasing: literals[piece.start..<piece.end]))
        case .value:
          guard let range = ranges[piece.start] else { continue }
          let before = out.count
          JSONWriter.appendCompact(scanner, range, to: &out)
          textBytes += out.count - before
        case .text:
          guard let range = ranges[piece.start] else { continue }
          let before = out.count
          JSONWriter.appendAsText(scanner, range, to: &out)
          textBytes += out.count - before
        case .wholeItem:
          let before = out.count
          JSONWriter.appendCompact(scanner, 0..<scanner.bytes.count, to: &out)
          textBytes += out.count - before
        case .wholeItemText:
          scratch.removeAll(keepingCapacity: true)
          JSONWriter.appendCompact(scanner, 0..<scanner.bytes.count, to: &scratch)
          let before = out.count
          JSONWriter.appendEscaped(scratch, to: &out)
          textBytes += out.count - before
        }
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
