/// How an endpoint's response body holds the answer.
enum AnswerKind: Sendable {
  /// The message text of the first choice (or its tool calls).
  case chat
  /// The text of the first choice.
  case completions
  /// Every `output_text` part of every output item, joined.
  case responses
  /// The vector (an array of vectors for several inputs).
  case embeddings
  /// The first result.
  case moderations
  /// The whole body.
  case other

  init(endpoint: String) {
    switch endpoint {
    case "/v1/chat/completions", "/chat/completions": self = .chat
    case "/v1/completions", "/completions": self = .completions
    case "/v1/responses", "/responses": self = .responses
    case "/v1/embeddings", "/embeddings": self = .embeddings
    case "/v1/moderations", "/moderations": self = .moderations
    default: self = .other
    }
  }
}
