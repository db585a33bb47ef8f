#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What an item's answer field holds: `prompt.json`'s `"answer"`.
public enum AnswerMode: String, Sendable, CaseIterable {
  /// The answer's text (an array of texts for `n > 1`).
  case text
  /// The text parsed as JSON, checked against the request's JSON schema.
  case json
  /// The whole message (chat), the output (responses), the choice (completions).
  case message
  /// The whole response body.
  case body
}

/// How merge puts an answer in the field: the endpoint's shape, the mode,
/// and the schema a `"json"` answer must match (compiled once per run).
struct AnswerFormat: Sendable {
  let kind: AnswerKind
  let mode: AnswerMode
  let schema: JSONSchema?

  init(kind: AnswerKind, mode: AnswerMode = .text, schema: JSONSchema? = nil) {
    self.kind = kind
    self.mode = mode
    self.schema = schema
  }

  /// The run's format: its endpoint, and the mode and schema of its
  /// `prompt.json`, read again so that another `"answer"` gives another
  /// view of the same results (a run whose template is gone gets its text).
  ///
  /// - Throws: ``ToolError`` 65 if `prompt.json` is there but not a template.
  init(endpoint: String, promptPath: String) throws {
    let template = access(promptPath, F_OK) == 0 ? try Template.load(path: promptPath) : nil
    self.init(kind: AnswerKind(endpoint: endpoint), mode: template?.answer ?? .text, schema: template?.answerSchema)
  }
}
