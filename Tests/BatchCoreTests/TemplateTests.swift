import Foundation
import Testing

@testable import BatchCore

/// A chat template whose user message is `content` (a JSON string literal's contents).
private func chatPrompt(_ content: String, extra: String = "") -> String {
  #"{"url":"/v1/chat/completions",\#(extra)"body":{"model":"gpt-4o-mini","max_tokens":50,"messages":[{"role":"user","content":"\#(content)"}]}}"#
}

private func compile(_ prompt: String) throws -> Template {
  try Template(bytes: Array(prompt.utf8), name: "prompt.json")
}

/// Renders one item; returns the line (with its newline) and what rendering found.
private func render(_ template: Template, _ item: String, line: Int = 1) throws -> (text: String, request: RenderedRequest) {
  var out: [UInt8] = []
  let bytes = Array(item.utf8)
  let request = try bytes.withUnsafeBufferPointer { try template.render(item: $0, lineNumber: line, into: &out) }
  return (String(decoding: out, as: UTF8.self), request)
}

private func render(_ prompt: String, _ item: String, line: Int = 1) throws -> (text: String, request: RenderedRequest) {
  try render(try compile(prompt), item, line: line)
}

/// The rendered line parsed (it must be valid JSON).
private func parsed(_ text: String) throws -> [String: Any] {
  #expect(text.hasSuffix("\n"))
  #expect(text.dropLast().contains("\n") == false)
  let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
  return try #require(object as? [String: Any])
}

/// The user message's content of a rendered chat line.
private func content(_ text: String) throws -> Any? {
  let line = try parsed(text)
  let body = try #require(line["body"] as? [String: Any])
  let messages = try #require(body["messages"] as? [[String: Any]])
  return messages.last?["content"]
}

/// The error message of rendering `item`, or nil when it renders.
private func itemError(_ template: Template, _ item: String) -> String? {
  do {
    _ = try render(template, item)
    return nil
  } catch let error as ItemError {
    return error.message
  } catch {
    return "unexpected \(error)"
  }
}

/// The ToolError of compiling `prompt`.
private func templateError(_ prompt: String) -> ToolError? {
  toolError { _ = try compile(prompt) }
}

@Suite struct TemplateTests {
  // MARK: - Placeholders

  @Test func spacesInsideBracesDottedPathsAndArrayIndices() throws {
    let prompt = chatPrompt("A {{ name }} B {{origin.country}} C {{tags.0}} D {{  tags.1\\t}} E {{origin.cities.1.name}}")
    let item = #"{"name":"Brie","origin":{"country":"FR","cities":[{"name":"Meaux"},{"name":"Melun"}]},"tags":["soft","cow"]}"#
    let result = try render(prompt, item)
    #expect(try content(result.text) as? String == "A Brie B FR C soft D cow E Melun")
  }

  @Test func aKeyWithADotCannotBeAddressed() throws {
    let template = try compile(chatPrompt("{{a.b}}"))
    #expect(try content(try render(template, #"{"a.b":1,"a":{"b":2}}"#).text) as? Int == 2)
    #expect(itemError(template, #"{"a.b":1}"#) == "field 'a.b' is missing")
  }

  @Test func aDigitPartIndexesAnArrayAndNamesAnObjectKey() throws {
    let template = try compile(chatPrompt("x{{t.1}}"))
    #expect(try content(try render(template, #"{"t":["a","b"]}"#).text) as? String == "xb")
    #expect(try content(try render(template, #"{"t":{"1":"one"}}"#).text) as? String == "xone")
    #expect(itemError(template, #"{"t":["a"]}"#) == "field 't.1' is missing")
    #expect(itemError(template, #"{"t":"ab"}"#) == "field 't.1' is missing")
  }

  @Test func missingFieldsAreNamedWithTheirFullPath() throws {
    let template = try compile(chatPrompt("{{name}} {{origin.country}}"))
    #expect(itemError(template, #"{"origin":{"country":"FR"}}"#) == "field 'name' is missing")
    #expect(itemError(template, #"{"name":"x","origin":{}}"#) == "field 'origin.country' is missing")
    #expect(itemError(template, #"{"name":"x","origin":null}"#) == "field 'origin.country' is missing")
    #expect(itemError(template, #"{"name":"x"}"#) == "field 'origin.country' is missing")
  }

  @Test func aSolePlaceholderKeepsTheJSONType() throws {
    let prompt = #"{"url":"/v1/chat/completions","body":{"model":"m","n":"{{n}}","o":"{{ o }}","z":"{{z}}","b":"{{b}}","a":"{{a}}","s":"{{s}}","messages":[]}}"#
    let item = #"{"n": 1.50, "o": { "k" : [1, 2, {"x": null}] }, "z": null, "b": true, "a": [ "p" , 3 ], "s": "t"}"#
    let result = try render(prompt, item)
    // Byte for byte: numbers as spelled in the source, insignificant whitespace removed.
    #expect(result.text.contains(#""n":1.50,"o":{"k":[1,2,{"x":null}]},"z":null,"b":true,"a":["p",3],"s":"t","messages":[]"#))
    let body = try #require(try parsed(result.text)["body"] as? [String: Any])
    #expect(body["n"] as? Double == 1.5)
    #expect(body["z"] is NSNull)
    #expect(body["b"] as? Bool == true)
    #expect((body["a"] as? [Any])?.count == 2)
    #expect((body["o"] as? [String: Any])?["k"] is [Any])
  }

  @Test func embeddingsInputKeepsItsArrayAndCountsItsInputs() throws {
    let prompt = #"{"url":"/v1/embeddings","body":{"model":"text-embedding-3-small","input":"{{texts}}"}}"#
    let result = try render(prompt, #"{"texts":["a","b","c"]}"#)
    let body = try #require(try parsed(result.text)["body"] as? [String: Any])
    #expect(body["input"] as? [String] == ["a", "b", "c"])
    #expect(result.request.embeddingInputs == 3)
    #expect(try render(prompt, #"{"texts":"one"}"#).request.embeddingInputs == 1)
  }

  @Test func insideALongerStringValuesBecomeText() throws {
    let template = try compile(chatPrompt("s={{s}} z={{z}} n={{n}} e={{e}} m={{m}} b={{b}} o={{o}} a={{a}}."))
    let item = #"{"s":"text","z":null,"n":1.50,"e":1E+3,"m":-0.0,"b":false,"o":{ "k" : "v w", "l": [1, 2] },"a":[ 1 , "x" ]}"#
    let result = try render(template, item)
    #expect(
      try content(result.text) as? String
        == #"s=text z= n=1.50 e=1E+3 m=-0.0 b=false o={"k":"v w","l":[1,2]} a=[1,"x"]."#)
    // The bytes of the line: the object's JSON escaped inside the string.
    #expect(result.text.contains(#"o={\"k\":\"v w\",\"l\":[1,2]} a=[1,\"x\"]."#))
  }

  @Test func twoPlaceholdersAloneInAStringMakeText() throws {
    let result = try render(chatPrompt("{{a}}{{b}}"), #"{"a":1,"b":"x"}"#)
    #expect(try content(result.text) as? String == "1x")
  }

  @Test func theWholeItem() throws {
    let item = #"{ "name" : "Brie", "tags" : [ "soft" ] }"#
    let sole = try render(chatPrompt("{{.}}"), item)
    let value = try #require(try content(sole.text) as? [String: Any])
    #expect(value["name"] as? String == "Brie")
    #expect(sole.text.contains(#""content":{"name":"Brie","tags":["soft"]}"#))

    let inText = try render(chatPrompt("Item: {{ . }}"), item)
    #expect(try content(inText.text) as? String == #"Item: {"name":"Brie","tags":["soft"]}"#)
  }

  @Test func theLineIsExactlyAsExpected() throws {
    let result = try render(chatPrompt("Item: {{name}}"), #"{"name":"Brie"}"#, line: 7)
    #expect(
      result.text
        == #"{"custom_id":"7","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","max_tokens":50,"messages":[{"role":"user","content":"Item: Brie"}]}}"#
        + "\n")
    #expect(result.request.customID == Array("7".utf8))
    #expect(result.request.model == "gpt-4o-mini")
  }

  // MARK: - custom_id and output_field

  @Test func customIDFromATemplate() throws {
    let template = try compile(chatPrompt("x", extra: #""custom_id":"id-{{ n }}-{{p}}-{{s}}-{{z}}","#))
    let result = try render(template, #"{"n":7,"p":1.50,"s":"a\"b\/c","z":null}"#)
    let line = try parsed(result.text)
    #expect(line["custom_id"] as? String == #"id-7-1.50-a"b/c-"#)
    // The id as the server compares it: decoded.
    #expect(result.request.customID == Array(#"id-7-1.50-a"b/c-"#.utf8))
    #expect(result.text.hasPrefix(#"{"custom_id":"id-7-1.50-a\"b\/c-","method":"POST""#))
  }

  @Test func customIDFromLineNumbersWhenTheTemplateHasNone() throws {
    let template = try compile(chatPrompt("x"))
    #expect(template.customIDTemplate == nil)
    for n in [1, 2, 1234567] {
      let result = try render(template, #"{"a":1}"#, line: n)
      #expect(try parsed(result.text)["custom_id"] as? String == String(n))
      #expect(result.request.customID == Array(String(n).utf8))
    }
  }

  @Test func anEmptyCustomIDIsAnError() throws {
    let template = try compile(chatPrompt("x", extra: #""custom_id":"{{id}}","#))
    #expect(itemError(template, #"{"id":""}"#) == "custom_id is empty")
    #expect(itemError(template, #"{"id":null}"#) == "custom_id is empty")
    #expect(itemError(template, #"{"id":"a"}"#) == nil)
  }

  @Test func outputField() throws {
    #expect(try compile(chatPrompt("x")).outputField == "llm")
    let template = try compile(chatPrompt("{{x}}", extra: #""output_field":"answer","#))
    #expect(template.outputField == "answer")
    #expect(itemError(template, #"{"x":1,"llm":2}"#) == nil)
    #expect(
      itemError(template, #"{"x":1,"answer":2}"#) == #"the item already has a field 'answer'; set "output_field" in prompt.json"#)
    #expect(
      itemError(template, #"{"x":1,"answer_error":2}"#)
        == #"the item already has a field 'answer_error'; set "output_field" in prompt.json"#)
    let plain = try compile(chatPrompt("{{x}}"))
    #expect(itemError(plain, #"{"x":1,"llm":null}"#) == #"the item already has a field 'llm'; set "output_field" in prompt.json"#)
    // The key spelled with an escape is the same key.
    #expect(itemError(plain, #"{"x":1,"ll\u006d":2}"#) == #"the item already has a field 'llm'; set "output_field" in prompt.json"#)
    #expect(templateError(chatPrompt("x", extra: #""output_field":"","#))?.status == .dataError)
  }

  // MARK: - Hostile text

  @Test func hostileTextRoundTrips() throws {
    // Quotes, backslashes, a newline, a tab, a control character, an escaped
    // slash, a non-BMP emoji as bytes and as a surrogate pair, é escaped.
    let raw = #"q\"uote back\\slash nl\n tab\t ctl\u0001 sl\/ 😀 \ud83d\ude00 caf\u00e9 \u2028"#
    let item = #"{"t":"\#(raw)","o":{"k":"\#(raw)"}}"#
    let decoded = "q\"uote back\\slash nl\n tab\t ctl\u{01} sl/ 😀 😀 café \u{2028}"

    let text = try render(chatPrompt("Say: {{t}}"), item)
    #expect(try content(text.text) as? String == "Say: " + decoded)

    let sole = try render(chatPrompt("{{t}}"), item)
    #expect(try content(sole.text) as? String == decoded)

    // An object inside text: its compact JSON, which parses back to the object.
    let object = try render(chatPrompt("O {{o}}"), item)
    let objectText = try #require(try content(object.text) as? String)
    #expect(objectText.hasPrefix("O {"))
    let inner = try JSONSerialization.jsonObject(with: Data(objectText.dropFirst(2).utf8)) as? [String: String]
    #expect(inner == ["k": decoded])

    let whole = try render(chatPrompt("W {{.}}"), item)
    let wholeText = try #require(try content(whole.text) as? String)
    let back = try JSONSerialization.jsonObject(with: Data(wholeText.dropFirst(2).utf8)) as? [String: Any]
    #expect(back?["t"] as? String == decoded)

    let id = try render(chatPrompt("x", extra: #""custom_id":"{{t}}","#), item)
    #expect(try parsed(id.text)["custom_id"] as? String == decoded)
    #expect(id.request.customID == Array(decoded.utf8))
  }

  @Test func anEscapedKeyMatchesItsPlaceholder() throws {
    let result = try render(chatPrompt("{{name}}"), #"{"na\u006de":"Brie"}"#)
    #expect(try content(result.text) as? String == "Brie")
  }

  @Test func theLastOfRepeatedKeysWins() throws {
    let result = try render(chatPrompt("{{a}}"), #"{"a":"first","a":"last"}"#)
    #expect(try content(result.text) as? String == "last")
  }

  // MARK: - Bad items

  @Test func badItems() throws {
    let template = try compile(chatPrompt("{{a}}"))
    #expect(itemError(template, "") == "blank line")
    #expect(itemError(template, "   ") == "blank line")
    #expect(itemError(template, "[1]") == "not a JSON object")
    #expect(itemError(template, #""text""#) == "not a JSON object")
    #expect(itemError(template, #"{"a":1"#)?.hasPrefix("not valid JSON: ") == true)
    #expect(itemError(template, #"{"a":1} x"#)?.hasPrefix("not valid JSON: unexpected text after the JSON value") == true)
    #expect(itemError(template, #"{"a":"x", "b": NaN}"#)?.hasPrefix("not valid JSON") == true)
    #expect(itemError(template, #"{"a":1}"#) == nil)
  }

  @Test func modelAndStreamFromTheItem() throws {
    let prompt = #"{"url":"/v1/chat/completions","body":{"model":"{{m}}","stream":"{{s}}","messages":[]}}"#
    let template = try compile(prompt)
    #expect(template.fixedModel == nil)
    let result = try render(template, #"{"m":"gpt-4o","s":false}"#)
    #expect(result.request.model == "gpt-4o")
    #expect(result.text.contains(#""model":"gpt-4o","stream":false"#))
    #expect(itemError(template, #"{"m":"gpt-4o","s":true}"#) == "'stream' is true, and the Batch API does not support streaming")
    #expect(itemError(template, #"{"m":3,"s":false}"#) == "the model must be a non-empty string")
    #expect(itemError(template, #"{"m":"","s":false}"#) == "the model must be a non-empty string")
  }

  // MARK: - Bad templates

  @Test func badTemplatesAreBadData() throws {
    let cases: [(String, String)] = [
      (#"{"url":"/v1/chat/completions","body":{"model":"m","messages":[]},"temperature":1}"#,
       "prompt.json: unknown field 'temperature' (expected url, custom_id, body, output_field, answer)"),
      (#"{"body":{"model":"m","messages":[]}}"#,
       #"prompt.json: 'url' is missing (for example "/v1/chat/completions")"#),
      (#"{"url":"/v1/foo","body":{"model":"m"}}"#,
       "prompt.json: url '/v1/foo' is not a Batch API endpoint (/v1/chat/completions, /v1/responses, /v1/embeddings, /v1/completions, …)"),
      (#"{"url":"/v1/chat/completions","body":[1]}"#, "prompt.json: 'body' must be a JSON object"),
      (#"{"url":"/v1/chat/completions"}"#, "prompt.json: 'body' is missing (the request body, a JSON object)"),
      (#"{"url":"/v1/chat/completions","body":{"model":"m","stream":true,"messages":[]}}"#,
       "prompt.json: 'body.stream' is true, and the Batch API does not support streaming"),
      (#"{"url":"/v1/chat/completions","body":{"model":"m"}}"#,
       "prompt.json: 'body.messages' is missing (required by /v1/chat/completions)"),
      (#"{"url":"/v1/embeddings","body":{"model":"m"}}"#,
       "prompt.json: 'body.input' is missing (required by /v1/embeddings)"),
      (#"{"url":"/v1/completions","body":{"model":"m"}}"#,
       "prompt.json: 'body.prompt' is missing (required by /v1/completions)"),
      (#"{"url":"/v1/chat/completions","body":{"messages":[]}}"#, "prompt.json: 'body.model' is missing"),
      (#"{"url":"/v1/chat/completions","body":{"model":"gpt-{{v}}","messages":[]}}"#,
       "prompt.json: 'body.model' must be a model name or one placeholder"),
      (#"{"url":"/v1/chat/completions","body":{"model":"m","messages":[{"content":"{{name"}]}}"#,
       #"prompt.json: unclosed placeholder in "{{name""#),
      (#"{"url":"/v1/chat/completions","body":{"model":"m","messages":[{"content":"a {{ }} b"}]}}"#,
       #"prompt.json: empty placeholder in "a {{ }} b""#),
      (#"{"url":"/v1/chat/completions","body":{"model":"m","messages":[{"content":"{{a..b}}"}]}}"#,
       "prompt.json: placeholder '{{a..b}}' has an empty part"),
      (#"{"url":"/v1/chat/completions","custom_id":"{{id","body":{"model":"m","messages":[]}}"#,
       #"prompt.json: unclosed placeholder in "{{id""#),
      (#"["url"]"#, "prompt.json: the template must be a JSON object"),
      (#"{"url":3,"body":{}}"#, "prompt.json: 'url' must be a string"),
      (#"{"url":"/v1/chat/completions","custom_id":7,"body":{"model":"m","messages":[]}}"#,
       "prompt.json: 'custom_id' must be a string"),
      ("{\n\"url\": \"/v1/chat/completions\",\n\"body\": {\"model\": \"m\" \"messages\": []}\n}",
       "prompt.json:3: not valid JSON: expected ',' or '}'"),
    ]
    for (prompt, message) in cases {
      let error = templateError(prompt)
      #expect(error?.status == .dataError, "\(prompt)")
      #expect(error?.message == message, "\(prompt)")
    }
    let bom = [0xEF, 0xBB, 0xBF] + Array(chatPrompt("x").utf8)
    let error = toolError { _ = try Template(bytes: bom, name: "prompt.json") }
    #expect(error?.status == .dataError)
    #expect(error?.message == "prompt.json:1: not valid JSON: byte-order mark at the start of the file")
  }

  @Test func everyDocumentedEndpointIsAccepted() throws {
    for (url, body) in [
      ("/v1/chat/completions", #"{"model":"m","messages":[]}"#), ("/v1/responses", #"{"model":"m","input":"x"}"#),
      ("/v1/embeddings", #"{"model":"m","input":"x"}"#), ("/v1/completions", #"{"model":"m","prompt":"x"}"#),
    ] {
      let template = try compile(#"{"url":"\#(url)","body":\#(body)}"#)
      #expect(template.url == url)
      #expect(try render(template, "{}").text.contains(#""url":"\#(url)""#))
    }
  }

  @Test func loadNamesAMissingFile() throws {
    let scratch = try ScratchDirectory("template")
    let error = toolError { _ = try Template.load(path: scratch.path + "/prompt.json", displayName: "run/prompt.json") }
    #expect(error?.status == .noInput)
    #expect(error?.message == "cannot read 'run/prompt.json': No such file or directory")
  }

  // MARK: - Estimates

  @Test func maxTokensAndTheTokenEstimate() throws {
    let template = try compile(chatPrompt("{{t}}"))
    #expect(template.maxOutputTokens == 50)
    #expect(template.estimateTokens(textBytes: 0) == 0 + 3 * 1 + 3)
    #expect(template.estimateTokens(textBytes: 400) == 100 + 3 + 3)
    let small = try render(template, #"{"t":"a"}"#).request.estimatedTokens
    let large = try render(template, #"{"t":"\#(String(repeating: "a", count: 400))"}"#).request.estimatedTokens
    #expect(large - small == 100)
    let newer = try compile(#"{"url":"/v1/responses","body":{"model":"m","input":"x","max_output_tokens":7}}"#)
    #expect(newer.maxOutputTokens == 7)
  }
}
