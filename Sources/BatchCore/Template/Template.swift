// Template/: prompt.json compiled into literal bytes and placeholders,
// and rendered into one request line per item.

import Foundation

/// The request template of a run, `prompt.json`, compiled for fast rendering.
///
/// `{{path}}` inside a string is replaced by the item's value at `path`: a
/// string as its text, `null` as nothing, any other value as its compact
/// JSON. A string that is exactly one placeholder becomes the value itself,
/// with its JSON type. `{{.}}` is the whole item.
public struct Template: Sendable {
  /// The Batch API endpoint, the `url` of every request.
  public let url: String
  /// The field the answer goes into (`llm` by default).
  public let outputField: String
  /// What the field holds (`"answer"`: text by default).
  public let answer: AnswerMode
  /// The JSON schema of `response_format` (chat) or `text.format`
  /// (responses), which a `"json"` answer must match.
  let answerSchema: JSONSchema?
  /// The template of `custom_id`, or nil to use the item's line number.
  let customID: [Segment]?
  /// The body, compiled.
  let body: [Segment]
  /// The model, when the template spells it out.
  public let fixedModel: String?
  /// The model's placeholder, when the model comes from the item.
  let modelPath: [JSONPathComponent]?
  /// Whether `body.stream` comes from the item and must be checked per line.
  let streamPath: [JSONPathComponent]?
  /// The embeddings `input` placeholder, whose inputs count toward the limit.
  let inputPath: [JSONPathComponent]?
  /// `max_tokens` (or its newer names), for the cost bound.
  public let maxOutputTokens: Int?
  /// The number of messages, for the token estimate's per-message overhead.
  let messageCount: Int
  /// The text bytes the template itself puts in every request.
  let literalTextBytes: Int
  /// Every path the template reads, once each, for the missing-field check.
  let paths: [(text: String, components: [JSONPathComponent])]
  /// The same template, resolved for rendering one item after another.
  let compiled: CompiledTemplate

  /// One piece of a compiled template.
  enum Segment: Sendable {
    /// Bytes copied as they are.
    case literal([UInt8])
    /// The value at the path, as JSON.
    case value([JSONPathComponent])
    /// The value at the path, as text inside a JSON string.
    case text([JSONPathComponent])
    /// The whole item, as compact JSON.
    case wholeItem
    /// The whole item as text inside a JSON string.
    case wholeItemText
  }

  /// The endpoints the Batch API accepts in request lines.
  public static let endpoints = [
    "/v1/chat/completions", "/v1/responses", "/v1/embeddings", "/v1/completions",
    "/v1/moderations", "/v1/images/generations", "/v1/images/edits", "/v1/videos",
  ]

  /// Reads and compiles a template file.
  ///
  /// - Parameter displayName: The name used in messages.
  /// - Throws: ``ToolError`` 66 if the file is missing, 65 if it is not a
  ///   valid template (with `file:line:` where there is a line).
  public static func load(path: String, displayName: String? = nil) throws -> Template {
    let name = displayName ?? path
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ToolError(.noInput, "cannot read '\(name)': No such file or directory")
    }
    return try Template(bytes: [UInt8](data), name: name)
  }

  /// Compiles a template from the bytes of `prompt.json`.
  public init(bytes: [UInt8], name: String) throws {
    let tree: TemplateValue
    var outputFieldOffset = 0
    do {
      tree = try bytes.withUnsafeBufferPointer { buffer in
        if buffer.starts(with: [0xEF, 0xBB, 0xBF]) {
          throw JSONSyntaxError(offset: 0, reason: "byte-order mark at the start of the file")
        }
        let scanner = JSONScanner(buffer)
        let range = try scanner.validateDocument()
        if let duplicate = TemplateChecks.firstDuplicateKey(scanner, range) {
          throw ToolError.dataError(
            name, line: TemplateChecks.line(of: duplicate.offset, in: bytes),
            "key '\(ServerText.clean(duplicate.key, limit: 80))' appears twice in one object")
        }
        if scanner.kind(at: range.lowerBound) == .object,
          let field = try scanner.member(Array("output_field".utf8), ofObjectAt: range.lowerBound)
        {
          outputFieldOffset = field.lowerBound
        }
        return TemplateValue(scanner, range)
      }
    } catch let error as JSONSyntaxError {
      throw ToolError.dataError(name, line: TemplateChecks.line(of: error.offset, in: bytes), "not valid JSON: \(error.reason)")
    }
    func bad(_ message: String) -> ToolError { .dataError("\(name): \(message)") }

    guard case .object(let members) = tree else { throw bad("the template must be a JSON object") }
    var url: String?
    var customIDText: String?
    var outputField = "llm"
    var answer = AnswerMode.text
    var body: TemplateValue?
    for (key, value) in members {
      switch key {
      case "url":
        guard case .string(let text) = value else { throw bad("'url' must be a string") }
        url = text
      case "custom_id":
        guard case .string(let text) = value else { throw bad("'custom_id' must be a string") }
        customIDText = text
      case "output_field":
        guard case .string(let text) = value, !text.isEmpty else {
          throw bad("'output_field' must be a non-empty string")
        }
        guard TemplateChecks.isPlainName(text) else {
          throw ToolError.dataError(
            name, line: TemplateChecks.line(of: outputFieldOffset, in: bytes),
            "'output_field' '\(ServerText.clean(text, limit: 80))' is not a plain name (letters, digits, _ and -)")
        }
        outputField = text
      case "answer":
        guard case .string(let text) = value, let mode = AnswerMode(rawValue: text) else {
          let modes = AnswerMode.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
          throw ToolError.dataError(
            name, line: Self.lineOfMember("answer", in: bytes), "'answer' must be one of \(modes)")
        }
        answer = mode
      case "method":
        guard case .string("POST") = value else { throw bad("'method' must be \"POST\"") }
      case "body":
        body = value
      default:
        throw bad("unknown field '\(key)' (expected url, custom_id, body, output_field, answer)")
      }
    }
    guard let url else { throw bad("'url' is missing (for example \"/v1/chat/completions\")") }
    guard Template.endpoints.contains(url) else {
      throw bad("url '\(url)' is not a Batch API endpoint (\(Template.endpoints.prefix(4).joined(separator: ", ")), …)")
    }
    guard let body else { throw bad("'body' is missing (the request body, a JSON object)") }
    guard case .object(let bodyMembers) = body else { throw bad("'body' must be a JSON object") }
    self.url = url
    self.outputField = outputField
    self.answer = answer

    let field: (String) -> TemplateValue? = { name in bodyMembers.last { $0.0 == name }?.1 }
    // What the server would reject at validation, rejected here first.
    switch field("model") {
    case .string(let model)?:
      if let only = try Placeholder.sole(in: model, name: name) {
        fixedModel = nil
        modelPath = only
      } else if model.contains("{{") {
        throw bad("'body.model' must be a model name or one placeholder")
      } else {
        fixedModel = model
        modelPath = nil
      }
    default:
      throw bad("'body.model' is missing")
    }
    switch field("stream") {
    case .literal("true")?:
      throw bad("'body.stream' is true, and the Batch API does not support streaming")
    case .string(let text)?:
      streamPath = try Placeholder.sole(in: text, name: name)
    default:
      streamPath = nil
    }
    let required: [String: String] = [
      "/v1/chat/completions": "messages", "/v1/embeddings": "input", "/v1/responses": "input",
      "/v1/completions": "prompt", "/v1/moderations": "input", "/v1/images/generations": "prompt",
    ]
    if let needed = required[url], field(needed) == nil {
      throw bad("'body.\(needed)' is missing (required by \(url))")
    }
    if url == "/v1/embeddings", case .string(let text)? = field("input") {
      inputPath = try Placeholder.sole(in: text, name: name)
    } else {
      inputPath = nil
    }
    var maxTokens: Int?
    for key in ["max_tokens", "max_completion_tokens", "max_output_tokens"] {
      if case .literal(let text)? = field(key), let n = Int(text) { maxTokens = n }
    }
    maxOutputTokens = maxTokens
    answerSchema = Self.schema(of: field)
    if case .array(let messages)? = field("messages") {
      messageCount = messages.count
    } else {
      messageCount = 1
    }

    var compiler = TemplateCompiler(name: name)
    try compiler.compile(body)
    self.body = compiler.segments
    literalTextBytes = compiler.textBytes
    if let customIDText {
      var idCompiler = TemplateCompiler(name: name)
      try idCompiler.compileText(customIDText)
      customID = idCompiler.segments
      compiler.paths.append(contentsOf: idCompiler.paths)
    } else {
      customID = nil
    }
    var seen = Set<String>()
    paths = compiler.paths.filter { seen.insert($0).inserted }.map { ($0, JSONPathComponent.parse($0)) }
    compiled = CompiledTemplate(
      body: self.body, customID: self.customID, paths: self.paths, url: url, outputField: outputField,
      modelPath: self.modelPath, streamPath: self.streamPath, inputPath: self.inputPath, fixedModel: fixedModel,
      literalTextBytes: literalTextBytes, messageCount: messageCount)
  }

  /// The schema of a `json_schema` response format: chat's
  /// `response_format.json_schema.schema`, responses' `text.format.schema`.
  private static func schema(of field: (String) -> TemplateValue?) -> JSONSchema? {
    func member(_ value: TemplateValue?, _ name: String) -> TemplateValue? {
      guard case .object(let members)? = value else { return nil }
      return members.last { $0.0 == name }?.1
    }
    if member(field("response_format"), "type") == .string("json_schema"),
      let schema = member(member(field("response_format"), "json_schema"), "schema")
    {
      return JSONSchema(schema)
    }
    let format = member(field("text"), "format")
    if member(format, "type") == .string("json_schema"), let schema = member(format, "schema") {
      return JSONSchema(schema)
    }
    return nil
  }

  /// The line of the top-level member `name` of the template's bytes.
  private static func lineOfMember(_ name: StaticString, in bytes: [UInt8]) -> Int {
    bytes.withUnsafeBufferPointer { buffer in
      let s = JSONScanner(buffer)
      var offset = 0
      _ = try? s.forEachMember(ofObjectAt: s.skipWhitespace(0)) { key, _ in
        guard s.key(key, equals: name) else { return true }
        offset = key.lowerBound
        return false
      }
      return buffer[..<offset].filter { $0 == 0x0A }.count + 1
    }
  }
}

/// A template value, parsed from `prompt.json` with its key order kept.
indirect enum TemplateValue: Equatable, Sendable {
  case object([(String, TemplateValue)])
  case array([TemplateValue])
  /// A string's decoded text.
  case string(String)
  /// A number, `true`, `false` or `null`, as written.
  case literal(String)

  init(_ scanner: JSONScanner, _ range: Range<Int>) {
    switch scanner.kind(at: range.lowerBound) {
    case .object?:
      var members: [(String, TemplateValue)] = []
      _ = try? scanner.forEachMember(ofObjectAt: range.lowerBound) { key, value in
        let name = String(decoding: scanner.decodeString(contents: key), as: UTF8.self)
        members.append((name, TemplateValue(scanner, value)))
        return true
      }
      self = .object(members)
    case .array?:
      var elements: [TemplateValue] = []
      _ = try? scanner.forEachElement(ofArrayAt: range.lowerBound) { value in
        elements.append(TemplateValue(scanner, value))
        return true
      }
      self = .array(elements)
    case .string?:
      self = .string(scanner.string(at: range) ?? "")
    default:
      self = .literal(String(decoding: UnsafeBufferPointer(rebasing: scanner.bytes[range]), as: UTF8.self))
    }
  }

  static func == (a: TemplateValue, b: TemplateValue) -> Bool {
    switch (a, b) {
    case (.string(let x), .string(let y)), (.literal(let x), .literal(let y)): return x == y
    case (.array(let x), .array(let y)): return x == y
    case (.object(let x), .object(let y)):
      return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    default: return false
    }
  }
}

/// Finds `{{ path }}` placeholders in template strings.
enum Placeholder {
  /// One piece of a template string.
  enum Piece: Equatable {
    case text(String)
    case path(String)
  }

  /// Splits a template string into text and placeholders.
  ///
  /// - Throws: ``ToolError`` 65 for an unclosed or empty placeholder.
  static func split(_ text: String, name: String) throws -> [Piece] {
    var pieces: [Piece] = []
    var rest = Substring(text)
    while let open = rest.range(of: "{{") {
      if open.lowerBound > rest.startIndex { pieces.append(.text(String(rest[..<open.lowerBound]))) }
      guard let close = rest[open.upperBound...].range(of: "}}") else {
        throw ToolError.dataError("\(name): unclosed placeholder in \"\(text)\"")
      }
      let path = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
      guard !path.isEmpty else { throw ToolError.dataError("\(name): empty placeholder in \"\(text)\"") }
      if path != "." && path.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
        throw ToolError.dataError("\(name): placeholder '{{\(path)}}' has an empty part")
      }
      pieces.append(.path(path))
      rest = rest[close.upperBound...]
    }
    if !rest.isEmpty { pieces.append(.text(String(rest))) }
    return pieces
  }

  /// The path of a string that is exactly one placeholder, else nil.
  static func sole(in text: String, name: String) throws -> [JSONPathComponent]? {
    let pieces = try split(text, name: name)
    guard pieces.count == 1, case .path(let path) = pieces[0], path != "." else { return nil }
    return JSONPathComponent.parse(path)
  }
}

/// Turns a template body into segments: literal JSON bytes and placeholders.
struct TemplateCompiler {
  let name: String
  var segments: [Template.Segment] = []
  var pending: [UInt8] = []
  var paths: [String] = []
  var textBytes = 0

  init(name: String) {
    self.name = name
  }

  mutating func compile(_ value: TemplateValue) throws {
    try emit(value)
    flush()
  }

  /// Compiles a string's contents alone, without quotes (for `custom_id`).
  mutating func compileText(_ text: String) throws {
    try emitStringContents(text)
    flush()
  }

  private mutating func flush() {
    if !pending.isEmpty {
      segments.append(.literal(pending))
      pending = []
    }
  }

  private mutating func emit(_ value: TemplateValue) throws {
    switch value {
    case .object(let members):
      pending.append(UInt8(ascii: "{"))
      for (index, (key, member)) in members.enumerated() {
        if index > 0 { pending.append(UInt8(ascii: ",")) }
        JSONWriter.appendString(key, to: &pending)
        pending.append(UInt8(ascii: ":"))
        try emit(member)
      }
      pending.append(UInt8(ascii: "}"))
    case .array(let elements):
      pending.append(UInt8(ascii: "["))
      for (index, element) in elements.enumerated() {
        if index > 0 { pending.append(UInt8(ascii: ",")) }
        try emit(element)
      }
      pending.append(UInt8(ascii: "]"))
    case .literal(let text):
      pending.append(contentsOf: Array(text.utf8))
    case .string(let text):
      let pieces = try Placeholder.split(text, name: name)
      if pieces.count == 1, case .path(let path) = pieces[0] {
        flush()
        if path == "." {
          segments.append(.wholeItem)
        } else {
          segments.append(.value(JSONPathComponent.parse(path)))
          paths.append(path)
        }
        return
      }
      pending.append(UInt8(ascii: "\""))
      try emitStringContents(text)
      pending.append(UInt8(ascii: "\""))
    }
  }

  private mutating func emitStringContents(_ text: String) throws {
    for piece in try Placeholder.split(text, name: name) {
      switch piece {
      case .text(let literal):
        textBytes += literal.utf8.count
        JSONWriter.appendEscaped(literal.utf8, to: &pending)
      case .path("."):
        flush()
        segments.append(.wholeItemText)
      case .path(let path):
        flush()
        segments.append(.text(JSONPathComponent.parse(path)))
        paths.append(path)
      }
    }
  }
}
