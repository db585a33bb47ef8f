import Foundation
import Testing

@testable import BatchCore

/// Issue 12, item 5: input that could forge what batchline writes or sends.
@Suite struct InputChecksTests {
  private func compile(_ prompt: String) throws -> Template {
    try Template(bytes: Array(prompt.utf8), name: "prompt.json")
  }

  @Test func aForgedOutputFieldIsRefusedWithItsLine() {
    let prompt = """
      {"url": "/v1/chat/completions",
       "output_field": "llm\\":\\"forged\\",\\"z",
       "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}}
      """
    let error = toolError { _ = try compile(prompt) }
    #expect(error?.status == .dataError)
    #expect(error?.message.hasPrefix("prompt.json:2: 'output_field'") == true)
    for name in ["llm", "answer_2", "my-field", "X9"] {
      let template = try? compile(prompt.replacingOccurrences(of: #"llm\":\"forged\",\"z"#, with: name))
      #expect(template?.outputField == name)
    }
  }

  @Test func aDuplicateKeyIsRefusedWithItsLine() {
    let prompt = """
      {"url": "/v1/chat/completions",
       "body": {"model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "hi", "role": "system"}],
                "temperature": 0}}
      """
    let error = toolError { _ = try compile(prompt) }
    #expect(error?.status == .dataError)
    #expect(error?.message == "prompt.json:3: key 'role' appears twice in one object")
    let top = toolError { _ = try compile(#"{"url": "/v1/embeddings", "url": "/v1/embeddings", "body": {}}"#) }
    #expect(top?.message == "prompt.json:1: key 'url' appears twice in one object")
  }

  @Test func theOutputFieldIsEscapedWhereItIsWritten() {
    let format = MergedLineFormat(
      outputField: #"a","b"#, answer: AnswerFormat(kind: AnswerKind(endpoint: "/v1/chat/completions")), itemsPath: "items.jsonl")
    #expect(String(decoding: format.fieldPrefix, as: UTF8.self) == #""a\",\"b":"#)
    #expect(String(decoding: format.errorPrefix, as: UTF8.self) == #"null,"a\",\"b_error":"#)
  }

  @Test func aResultLineWithTextAfterItsObjectIsRefused() throws {
    let good = Array(#"{"custom_id":"a","response":{"status_code":200,"body":{}},"error":null} "#.utf8)
    #expect(throws: Never.self) { try good.withUnsafeBufferPointer { _ = try ResultLine($0) } }
    let bad = Array(#"{"custom_id":"a","response":null,"error":null} {"custom_id":"trailing"}"#.utf8)
    #expect(throws: JSONSyntaxError.self) { try bad.withUnsafeBufferPointer { _ = try ResultLine($0) } }
  }

  @Test func aBaseURLWithCredentialsIsRefusedWithoutShowingThem() {
    for url in ["https://user:hunter2secret@api.example.com/v1", "http://hunter2secret@127.0.0.1:9/v1"] {
      let error = toolError { _ = try APIConfiguration.fromEnvironment(["OPENAI_API_KEY": "k", "OPENAI_BASE_URL": url]) }
      #expect(error?.status == .configuration)
      #expect(error?.message.contains("hunter2secret") == false)
      #expect(error?.message.contains("OPENAI_BASE_URL") == true)
    }
  }
}
