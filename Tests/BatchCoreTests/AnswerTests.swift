import Foundation
import Testing

@testable import BatchCore

/// The verdict on one result line with `body`, and the answer it appended.
private func verdict(
  _ body: String, _ kind: AnswerKind, mode: AnswerMode = .text, schema: String? = nil, inputIsArray: Bool = false
) throws -> (answer: String?, code: String?, message: String?, cut: Bool) {
  let format = AnswerFormat(kind: kind, mode: mode, schema: try schema.map(compiledSchema))
  let line = Array(okLine("1", body: body).utf8)
  return try line.withUnsafeBufferPointer { p in
    let result = try ResultLine(p)
    var json: [UInt8] = []
    switch result.verdict(format, inputIsArray: inputIsArray, appendingTo: &json) {
    case .answer(let cut):
      return (String(decoding: json, as: UTF8.self), nil, nil, cut)
    case .failure(let record):
      #expect(json.isEmpty)
      #expect(record.status == 200 && !record.isRetryable)
      return (nil, record.code, String(decoding: record.message, as: UTF8.self), false)
    }
  }
}

private func compiledSchema(_ text: String) throws -> JSONSchema {
  let bytes = Array(text.utf8)
  return try bytes.withUnsafeBufferPointer { p in
    let s = JSONScanner(p)
    return JSONSchema(TemplateValue(s, try s.validateDocument()))
  }
}

private func mismatch(_ schema: String, _ value: String) throws -> String? {
  let compiled = try compiledSchema(schema)
  let bytes = Array(value.utf8)
  return try bytes.withUnsafeBufferPointer { p in
    let s = JSONScanner(p)
    return compiled.mismatch(s, try s.validateDocument())
  }
}

private func chat(_ message: String, finish: String = "stop") -> String {
  #"{"model":"o4-mini","choices":[{"index":0,"message":\#(message),"finish_reason":"\#(finish)"}]}"#
}

@Suite struct AnswerTests {
  @Test func aRefusalIsAFailureWithItsOwnText() throws {
    let v = try verdict(chat(#"{"role":"assistant","content":null,"refusal":"I can\u2019t help with \"that\"."}"#), .chat)
    #expect(v.answer == nil && v.code == "refusal" && v.message == #"I can\u2019t help with \"that\"."#)
  }

  @Test func emptyTextsFailWithTheirFinishReason() throws {
    #expect(try verdict(chat(#"{"content":null}"#, finish: "content_filter"), .chat).code == "content_filter")
    #expect(try verdict(chat(#"{"content":""}"#, finish: "length"), .chat).code == "length")
    #expect(try verdict(#"{"choices":[{"text":"","finish_reason":"length"}]}"#, .completions).code == "length")
    #expect(try verdict(#"{"choices":[]}"#, .chat).code == "empty_answer")
  }

  @Test func aTextCutByLengthStaysAnAnswer() throws {
    let v = try verdict(chat(#"{"content":"Half a sen"}"#, finish: "length"), .chat)
    #expect(v.answer == #""Half a sen""# && v.cut)
    #expect(try verdict(chat(#"{"content":"Done."}"#), .chat).cut == false)
  }

  @Test func severalChoicesGiveTheirTextsInIndexOrder() throws {
    let body = #"{"choices":[{"index":1,"message":{"content":"b"}},{"index":0,"message":{"content":"a"}},{"index":2,"message":{"content":null,"refusal":"no"}}]}"#
    #expect(try verdict(body, .chat).answer == #"["a","b",null]"#)
    #expect(
      try verdict(body, .chat, mode: .message).answer
        == #"[{"content":"a"},{"content":"b"},{"content":null,"refusal":"no"}]"#)
    let refused = #"{"choices":[{"index":0,"message":{"refusal":"no"}},{"index":1,"message":{"refusal":"never"}}]}"#
    #expect(try verdict(refused, .chat).code == "refusal")
  }

  @Test func jsonAnswersAreParsedAndChecked() throws {
    let schema = #"{"type":"object","required":["a","b"],"additionalProperties":false,"properties":{"a":{"type":"integer"},"b":{"type":"array","items":{"enum":["x","y"]}}}}"#
    let good = chat(#"{"content":"{ \"a\": 1, \"b\": [\"x\"] }"}"#)
    #expect(try verdict(good, .chat, mode: .json, schema: schema).answer == #"{"a":1,"b":["x"]}"#)
    let broken = chat(#"{"content":"{\"a\": 1, \"b\": [\"x\""}"#, finish: "length")
    #expect(try verdict(broken, .chat, mode: .json).code == "invalid_json")
    let wrong = chat(#"{"content":"{\"a\": 1, \"b\": [\"z\"]}"}"#)
    let v = try verdict(wrong, .chat, mode: .json, schema: schema)
    #expect(v.code == "schema_mismatch" && v.message?.contains("'$.b[0]'") == true)
  }

  @Test func theSchemaSubset() throws {
    let schema = #"{"type":"object","required":["n"],"additionalProperties":false,"properties":{"n":{"type":["integer","null"]},"o":{"anyOf":[{"type":"string"},{"type":"object","properties":{"k":{"type":"boolean"}}}]}}}"#
    #expect(try mismatch(schema, #"{"n":3}"#) == nil)
    #expect(try mismatch(schema, #"{"n":null,"o":{"k":true}}"#) == nil)
    #expect(try mismatch(schema, #"{"n":3.0}"#) == nil)
    #expect(try mismatch(schema, #"{"n":3.5}"#) == "'$.n' should be an integer or null")
    #expect(try mismatch(schema, #"{}"#) == "'$' lacks the required property 'n'")
    #expect(try mismatch(schema, #"{"n":1,"x":2}"#) == "'$' has a property the schema does not allow: 'x'")
    #expect(try mismatch(schema, #"{"n":1,"o":5}"#) == "'$.o' matches none of the schema's anyOf choices")
    #expect(try mismatch(schema, #"[]"#) == "'$' should be an object")
  }

  @Test func responsesWithoutTextFailWithTheirReason() throws {
    let incomplete = #"{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[{"type":"reasoning","summary":[]}]}"#
    #expect(try verdict(incomplete, .responses).code == "max_output_tokens")
    let refused = #"{"status":"completed","output":[{"type":"message","content":[{"type":"refusal","refusal":"No."}]}]}"#
    let v = try verdict(refused, .responses)
    #expect(v.code == "refusal" && v.message == "No.")
    let cut = #"{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[{"type":"message","content":[{"type":"output_text","text":"Par"}]}]}"#
    let answer = try verdict(cut, .responses)
    #expect(answer.answer == #""Par""# && answer.cut)
  }

  @Test func base64EmbeddingsAreDecodedToFloats() throws {
    let values: [Float] = [0.1, -2.5, 1e-7, 3.4028235e38]
    var bytes: [UInt8] = []
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
    let encoded = Data(bytes).base64EncodedString()
    let body = #"{"data":[{"index":0,"embedding":"\#(encoded)"}]}"#
    let flat = try #require(try verdict(body, .embeddings).answer)
    let numbers = try #require(try JSONSerialization.jsonObject(with: Data(flat.utf8)) as? [Double])
    #expect(numbers.map { Float($0) } == values)
    #expect(try verdict(body, .embeddings, inputIsArray: true).answer == "[" + flat + "]")
    #expect(Base64.decode(Array("QUJD".utf8)) == Array("ABC".utf8))
    #expect(Base64.decode(Array("QUI=".utf8)) == Array("AB".utf8))
    #expect(Base64.decode(Array("Q!==".utf8)) == nil)
    let bad = #"{"data":[{"index":0,"embedding":"QUJD"}]}"#
    #expect(try verdict(bad, .embeddings).code == "invalid_embedding")
  }

  @Test func messageAndBodyModes() throws {
    let body = chat(#"{ "role": "assistant", "content": "Soup", "annotations": [] }"#)
    #expect(try verdict(body, .chat, mode: .message).answer == #"{"role":"assistant","content":"Soup","annotations":[]}"#)
    #expect(
      try verdict(body, .chat, mode: .body).answer
        == #"{"model":"o4-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Soup","annotations":[]},"finish_reason":"stop"}]}"#)
    // A refusal fails in every mode: the field never holds an unusable answer.
    let refused = chat(#"{"content":null,"refusal":"No."}"#)
    for mode in AnswerMode.allCases { #expect(try verdict(refused, .chat, mode: mode).code == "refusal") }
    let completion = #"{"choices":[{"index":0,"text":"Paris","finish_reason":"stop"}]}"#
    #expect(try verdict(completion, .completions, mode: .message).answer == #"{"index":0,"text":"Paris","finish_reason":"stop"}"#)
    let response = #"{"status":"completed","output":[{"type":"message","content":[{"type":"output_text","text":"{\"a\": 1}"}]}]}"#
    #expect(try verdict(response, .responses, mode: .message).answer == #"[{"type":"message","content":[{"type":"output_text","text":"{\"a\": 1}"}]}]"#)
    #expect(try verdict(response, .responses, mode: .json).answer == #"{"a":1}"#)
  }

  @Test func moderationsGiveTheResultsForAnArrayInput() throws {
    let body = #"{"results":[{"flagged":false}]}"#
    #expect(try verdict(body, .moderations).answer == #"{"flagged":false}"#)
    #expect(try verdict(body, .moderations, inputIsArray: true).answer == #"[{"flagged":false}]"#)
  }
}
