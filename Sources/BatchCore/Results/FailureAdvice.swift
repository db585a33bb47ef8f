/// What to do about the failures a retry would not mend, by code: merge
/// prints it beside the count.
enum FailureAdvice {
  static func advice(for code: String) -> String? {
    switch code {
    case "length": return "the answers ran out of tokens, reasoning included: raise max_completion_tokens (or max_tokens)"
    case "max_output_tokens": return "the responses ran out of tokens, reasoning included: raise max_output_tokens"
    case "refusal": return "the model refused; the message is its own words: reword the prompt or leave these items out"
    case "content_filter": return "the content filter withheld the answer: reword the prompt or leave these items out"
    case "invalid_json":
      return "the text is not JSON: raise the token limit, or ask for a json_schema response format with strict true"
    case "schema_mismatch": return "the JSON does not match the schema: set strict true in the json_schema response format"
    case "model_not_found": return "the server does not know the model: check its name in prompt.json"
    case "empty_answer": return "the answer held no text: see the message, or merge with \"answer\": \"body\" to look"
    default: return nil
    }
  }
}
