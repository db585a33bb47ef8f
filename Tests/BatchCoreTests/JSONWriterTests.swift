import Foundation
import Testing

@testable import BatchCore

/// Runs `body` with a scanner over a validated document and the range of its value.
private func withDocument<R>(_ bytes: [UInt8], _ body: (JSONScanner, Range<Int>) throws -> R) throws -> R {
  try bytes.withUnsafeBufferPointer { p in
    let s = JSONScanner(p)
    return try body(s, try s.validateDocument())
  }
}

private func compact(_ text: String) throws -> String {
  try withDocument(Array(text.utf8)) { s, range in
    var out: [UInt8] = []
    JSONWriter.appendCompact(s, range, to: &out)
    return String(decoding: out, as: UTF8.self)
  }
}

private func asText(_ text: String) throws -> String {
  try withDocument(Array(text.utf8)) { s, range in
    var out: [UInt8] = []
    JSONWriter.appendAsText(s, range, to: &out)
    return String(decoding: out, as: UTF8.self)
  }
}

private func escaped<C: Collection>(_ text: C) -> [UInt8] where C.Element == UInt8 {
  var out: [UInt8] = []
  JSONWriter.appendEscaped(text, to: &out)
  return out
}

@Suite struct JSONWriterEscapingTests {
  /// Each byte alone: `"` and `\` and the control characters are escaped,
  /// everything else (DEL, `/`, every non-ASCII byte) is written as it is.
  @Test func appendEscapedEscapesExactlyQuotesBackslashesAndControls() {
    for byte in UInt8(0)...0xFF {
      let expected: String
      switch byte {
      case 0x22: expected = #"\""#
      case 0x5C: expected = #"\\"#
      case 0x0A: expected = #"\n"#
      case 0x0D: expected = #"\r"#
      case 0x09: expected = #"\t"#
      case 0x08: expected = #"\b"#
      case 0x0C: expected = #"\f"#
      case 0..<0x20: expected = String(format: "\\u%04x", byte)
      default:
        #expect(escaped([byte]) == [byte], "byte \(byte)")
        continue
      }
      #expect(escaped([byte]) == Array(expected.utf8), "byte \(byte)")
    }
  }

  @Test(arguments: [
    ("\u{0}", #"\u0000"#), ("\u{1}", #"\u0001"#), ("\u{1B}", #"\u001b"#), ("\u{1F}", #"\u001f"#), ("\u{0B}", #"\u000b"#),
    ("\u{7F}", "\u{7F}"), ("/", "/"), ("'", "'"), ("a\"b\\c", #"a\"b\\c"#), ("line\r\nnext\ttab", #"line\r\nnext\ttab"#),
    ("é😀日本\u{2028}\u{FEFF}", "é😀日本\u{2028}\u{FEFF}"), ("", ""), ("\\u0041", #"\\u0041"#),
  ])
  func appendEscapedWritesJSONStringContents(text: String, expected: String) {
    #expect(escaped(text.utf8) == Array(expected.utf8))
  }

  @Test func appendEscapedTakesAnyCollectionOfBytesAndAppends() {
    let bytes: [UInt8] = Array("x\"y\n".utf8)
    var out: [UInt8] = Array("keep:".utf8)
    JSONWriter.appendEscaped(bytes[1...], to: &out)
    #expect(String(decoding: out, as: UTF8.self) == #"keep:\"y\n"#)
    bytes.withUnsafeBufferPointer { p in
      #expect(escaped(p) == Array(#"x\"y\n"#.utf8))
    }
  }

  @Test func appendStringQuotes() {
    var out: [UInt8] = []
    JSONWriter.appendString("", to: &out)
    JSONWriter.appendString("a\"b", to: &out)
    JSONWriter.appendString("é\u{1}", to: &out)
    #expect(String(decoding: out, as: UTF8.self) == #""""a\"b""é\u0001""#)
  }

  /// Random text, astral and control characters included: what the writer
  /// writes reads back as the same text, with Foundation and the scanner.
  @Test func writtenStringsReadBackAsTheSameText() throws {
    var g = JSONFuzz.Generator(seed: 2024)
    var texts = (0..<3000).map { _ in JSONFuzz.string(using: &g) }
    texts += ["", "\u{0}", String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) }), "\u{10FFFF}\u{FEFF}\u{FFFF}"]
    for text in texts {
      var out: [UInt8] = []
      JSONWriter.appendString(text, to: &out)
      #expect(!out.contains { $0 < 0x20 })
      let foundation = try #require(foundationParse(out) as? String, "\(text.debugDescription)")
      #expect(JSONFuzz.sameText(Array(text.utf8), Array(foundation.utf8)), "\(text.debugDescription)")
      try withDocument(out) { s, range in
        #expect(range == 0..<out.count)
        #expect(s.decodeString(contents: 1..<(out.count - 1)) == Array(text.utf8))
      }
    }
  }
}

@Suite struct JSONWriterCompactTests {
  @Test(arguments: [
    (#"{ "a" : [ 1 , 2 ] }"#, #"{"a":[1,2]}"#),
    (#"{"a b": " x "}"#, #"{"a b":" x "}"#),
    (#"[ "a\" b" , 1 ]"#, #"["a\" b",1]"#),
    (#"[ "a\\" , "b c" ]"#, #"["a\\","b c"]"#),
    (#"[ "\\\" ]" , 1 ]"#, #"["\\\" ]",1]"#),
    (#"[ "\\" , " \\\\ " ]"#, #"["\\"," \\\\ "]"#),
    (#"[ 1.50 , 1E+2 , -0 , 1e-7 , 0.10 ]"#, "[1.50,1E+2,-0,1e-7,0.10]"),
    ("[ ]", "[]"), ("{ \n\t\r }", "{}"), (#"  "  spaced  "  "#, #""  spaced  ""#), ("\n 42 \n", "42"),
    ("[true , false,\tnull ]", "[true,false,null]"),
    ("{ \"a\" :\n{ \"b\" :\r\n{\"c\" : [ [ ] , { } ] } } }", #"{"a":{"b":{"c":[[],{}]}}}"#),
    (#"{ "é" : "😀 x" , "\u0041 \n" : "\/ " }"#, #"{"é":"😀 x","\u0041 \n":"\/ "}"#),
    (#"{"already":"compact","n":[1,2,{"x":null}]}"#, #"{"already":"compact","n":[1,2,{"x":null}]}"#),
  ])
  func appendCompactRemovesOnlyInsignificantWhitespace(text: String, expected: String) throws {
    #expect(try compact(text) == expected)
    #expect(foundationParse(Array(expected.utf8)) != nil)
  }

  @Test func appendCompactCopiesANestedValueAndAppends() throws {
    let text = #"{ "skip" : [ 1 ], "take" : { "k" : [ "v w" , 2 ] } , "z": 0 }"#
    try withDocument(Array(text.utf8)) { s, range in
      let take = try #require(try s.member(Array("take".utf8), ofObjectAt: range.lowerBound))
      var out: [UInt8] = Array("prefix ".utf8)
      JSONWriter.appendCompact(s, take, to: &out)
      #expect(String(decoding: out, as: UTF8.self) == #"prefix {"k":["v w",2]}"#)
    }
  }

  @Test(arguments: [
    (#""a\nb""#, #"a\nb"#), (#""é \"q\" \u0041""#, #"é \"q\" \u0041"#), (#""""#, ""), ("null", ""),
    ("42", "42"), ("-1.5e3", "-1.5e3"), ("true", "true"), ("false", "false"),
    (#"{ "a" : "x" }"#, #"{\"a\":\"x\"}"#), (#"[ "a\"b" ]"#, #"[\"a\\\"b\"]"#), ("[1, 2]", "[1,2]"), ("{ }", "{}"),
    (#"[null, "\\"]"#, #"[null,\"\\\\\"]"#),
  ])
  func appendAsTextWritesTheTextInsideAJSONString(value: String, expected: String) throws {
    let text = try asText(value)
    #expect(text == expected)
    // Between quotes, it is a JSON string.
    let quoted = Array(("\"" + text + "\"").utf8)
    #expect(foundationParse(quoted) is String)
  }

  /// Random documents: compact output is exact, and the text form of every
  /// value, put between quotes, reads back as its text.
  @Test func asTextOfRandomValuesReadsBackAsTheirText() throws {
    var g = JSONFuzz.Generator(seed: 99)
    for n in 0..<600 {
      let document = JSONFuzz.document(JSONFuzz.value(using: &g), using: &g)
      try withDocument(document.spaced) { s, range in
        var compactText: [UInt8] = []
        JSONWriter.appendCompact(s, range, to: &compactText)
        #expect(compactText == document.compact, "#\(n)")

        var text: [UInt8] = [UInt8(ascii: "\"")]
        JSONWriter.appendAsText(s, range, to: &text)
        text.append(UInt8(ascii: "\""))
        let read = try #require(foundationParse(text) as? String, "#\(n): \(String(decoding: text, as: UTF8.self))")
        let expected: [UInt8]
        switch s.kind(at: range.lowerBound) {
        case .string?: expected = s.decodeString(contents: (range.lowerBound + 1)..<(range.upperBound - 1))
        case .null?: expected = []
        default: expected = document.compact
        }
        #expect(JSONFuzz.sameText(expected, Array(read.utf8)), "#\(n)")
      }
    }
  }
}

@Suite struct JSONWriterIntegerTests {
  @Test(arguments: [0, 1, -1, 9, 10, -10, 99, 100, 1_234_567_890, Int.max, Int.min, Int.max - 1, Int.min + 1, 1 << 62])
  func appendIntegerWritesDecimal(value: Int) {
    var out: [UInt8] = Array("n=".utf8)
    JSONWriter.appendInteger(value, to: &out)
    #expect(String(decoding: out, as: UTF8.self) == "n=\(value)")
  }

  @Test func appendIntegerAgreesWithDescriptionOnRandomValues() {
    var g = JSONFuzz.Generator(seed: 5)
    for _ in 0..<5000 {
      let value = Int(bitPattern: UInt(g.next())) >> g.below(64)
      var out: [UInt8] = []
      JSONWriter.appendInteger(value, to: &out)
      #expect(out == Array(String(value).utf8))
    }
  }
}
