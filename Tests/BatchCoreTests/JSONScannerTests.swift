import Foundation
import Testing

@testable import BatchCore

// MARK: - Helpers

/// Runs `body` with a scanner over `bytes`.
private func scan<R>(_ bytes: [UInt8], _ body: (JSONScanner) throws -> R) rethrows -> R {
  try bytes.withUnsafeBufferPointer { try body(JSONScanner($0)) }
}

private func scan<R>(_ text: String, _ body: (JSONScanner) throws -> R) rethrows -> R {
  try scan(Array(text.utf8), body)
}

/// The error that validating `bytes` as a whole document throws, or nil.
private func validationError(_ bytes: [UInt8]) -> JSONSyntaxError? {
  scan(bytes) { s in
    do {
      _ = try s.validateDocument()
      return nil
    } catch {
      return error as? JSONSyntaxError ?? JSONSyntaxError(offset: -1, reason: "not a JSONSyntaxError: \(error)")
    }
  }
}

private func validationError(_ text: String) -> JSONSyntaxError? { validationError(Array(text.utf8)) }
private func isValid(_ bytes: [UInt8]) -> Bool { validationError(bytes) == nil }
private func isValid(_ text: String) -> Bool { validationError(text) == nil }

private let quote = UInt8(ascii: "\"")

/// `unit` repeated `count` times.
private func repeated(_ unit: [UInt8], _ count: Int) -> [UInt8] {
  var out: [UInt8] = []
  out.reserveCapacity(unit.count * count)
  for _ in 0..<count { out.append(contentsOf: unit) }
  return out
}

/// The decoded bytes of a document that is one string.
private func decodedString(_ bytes: [UInt8]) throws -> [UInt8] {
  try scan(bytes) { s throws in
    let range = try s.validateDocument()
    try #require(s.kind(at: range.lowerBound) == .string)
    return s.decodeString(contents: (range.lowerBound + 1)..<(range.upperBound - 1))
  }
}

private func decodedString(_ text: String) throws -> [UInt8] { try decodedString(Array(text.utf8)) }

/// The bytes at `range` as text.
private func text(_ s: JSONScanner, _ range: Range<Int>) -> String {
  String(decoding: UnsafeBufferPointer(rebasing: s.bytes[range]), as: UTF8.self)
}

/// `JSONSerialization`'s verdict, with fragments allowed.
func foundationParse(_ bytes: [UInt8]) -> Any? {
  try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
}

// MARK: - Strings

@Suite struct JSONScannerStringTests {
  @Test(arguments: [
    (#"\""#, "\""), (#"\\"#, "\\"), (#"\/"#, "/"), (#"\b"#, "\u{08}"), (#"\f"#, "\u{0C}"),
    (#"\n"#, "\n"), (#"\r"#, "\r"), (#"\t"#, "\t"),
    (#"\u0041"#, "A"), (#"\u00e9"#, "é"), (#"\u00E9"#, "é"), (#"\u20ac"#, "€"), (#"\u20AC"#, "€"), (#"\u20aC"#, "€"),
    (#"\u0000"#, "\u{0}"), (#"\u001f"#, "\u{1F}"), (#"\u007F"#, "\u{7F}"), (#"\u0080"#, "\u{80}"),
    (#"\u07FF"#, "\u{7FF}"), (#"\u0800"#, "\u{800}"), (#"\uD7FF"#, "\u{D7FF}"), (#"\uE000"#, "\u{E000}"),
    (#"\uFFFF"#, "\u{FFFF}"), (#"\ufffe"#, "\u{FFFE}"), (#"\uFEFF"#, "\u{FEFF}"),
    (#"\uD83D\uDE00"#, "😀"), (#"\ud83d\ude00"#, "😀"), (#"\uD83d\uDe00"#, "😀"),
    (#"\uD800\uDC00"#, "\u{10000}"), (#"\uDBFF\uDFFF"#, "\u{10FFFF}"), (#"\uD834\uDD1E"#, "𝄞"),
    (#"a\"b\\c\/d\be\ff\ng\rh\ti"#, "a\"b\\c/d\u{08}e\u{0C}f\ng\rh\ti"),
    (#"\\u0041"#, "\\u0041"), (#"\\\""#, "\\\""), (#"\\"#, "\\"), (#"\u005C\u0022"#, "\\\""),
    ("", ""), ("plain text", "plain text"), ("é€😀", "é€😀"),
  ])
  func everyEscapeIsAcceptedAndDecoded(escaped: String, decoded: String) throws {
    #expect(try decodedString("\"" + escaped + "\"") == Array(decoded.utf8))
  }

  @Test(arguments: [
    (#""\x""#, 1, "invalid escape in string"), (#""\a""#, 1, "invalid escape in string"),
    (#""\U0041""#, 1, "invalid escape in string"), (#""\'""#, 1, "invalid escape in string"),
    (#""\0""#, 1, "invalid escape in string"), (#""\ ""#, 1, "invalid escape in string"),
    (#""\B""#, 1, "invalid escape in string"), (#""\N""#, 1, "invalid escape in string"),
    (#""ab\e""#, 3, "invalid escape in string"), ("\"\\\n\"", 1, "invalid escape in string"),
    ("\"\\\u{E9}\"", 1, "invalid escape in string"),
    (#""\u12G4""#, 5, #"invalid \u escape"#), (#""\uXYZW""#, 3, #"invalid \u escape"#),
    (#""\u 123""#, 3, #"invalid \u escape"#), (#""\u-123""#, 3, #"invalid \u escape"#),
    (#""\u+123""#, 3, #"invalid \u escape"#), (#""\u123""#, 6, #"invalid \u escape"#),
    (#""\u12""#, 3, #"invalid \u escape"#), (#""\u""#, 3, #"invalid \u escape"#), (#""\u"#, 3, #"invalid \u escape"#),
    (#""\"#, 1, "unterminated string"), (#""abc\""#, 0, "unterminated string"), (#""abc"#, 0, "unterminated string"),
    (#"""#, 0, "unterminated string"),
  ])
  func invalidEscapesAreRejectedWhereTheyStart(document: String, offset: Int, reason: String) {
    let error = validationError(document)
    #expect(error == JSONSyntaxError(offset: offset, reason: reason))
  }

  @Test(arguments: [
    (#""\uD800""#, 1, #"unpaired surrogate in \u escape"#),  // lone high
    (#""\uDBFF""#, 1, #"unpaired surrogate in \u escape"#),
    (#""\uDC00""#, 1, #"unpaired surrogate in \u escape"#),  // lone low
    (#""\udfff""#, 1, #"unpaired surrogate in \u escape"#),
    (#""\uDC00\uD800""#, 1, #"unpaired surrogate in \u escape"#),  // low then high
    (#""\uD800\u0041""#, 1, #"unpaired surrogate in \u escape"#),  // high then not a low
    (#""\uD800\uD800""#, 1, #"unpaired surrogate in \u escape"#),  // high then high
    (#""\uD800\uE000""#, 1, #"unpaired surrogate in \u escape"#),
    (#""\uD800x""#, 1, #"unpaired surrogate in \u escape"#),  // high then a raw character
    (#""\uD800\uDC00x\uD800""#, 14, #"unpaired surrogate in \u escape"#),  // a good pair, then a lone high
    (#""\uD800\n""#, 1, #"unpaired surrogate in \u escape"#),  // high then another escape
    (#""a\uDBFF""#, 2, #"unpaired surrogate in \u escape"#),
    (#""\uD800\uDC0""#, 12, #"invalid \u escape"#),  // truncated low
    (#""\uD800\u""#, 9, #"invalid \u escape"#),
    (#""\uD800\"#, 1, #"unpaired surrogate in \u escape"#),  // truncated input
    (#""\uD800"#, 1, #"unpaired surrogate in \u escape"#),
    (#""\uD8"#, 3, #"invalid \u escape"#),
  ])
  func surrogateEscapesMustComeInPairs(document: String, offset: Int, reason: String) {
    #expect(validationError(document) == JSONSyntaxError(offset: offset, reason: reason))
  }

  @Test func rawControlCharactersAreRejectedAndDELIsAccepted() throws {
    for c in UInt8(0)..<0x20 {
      let document: [UInt8] = [quote, UInt8(ascii: "a"), c, UInt8(ascii: "b"), quote]
      #expect(validationError(document) == JSONSyntaxError(offset: 2, reason: "control character in string"), "byte \(c)")
    }
    #expect(try decodedString([quote, 0x7F, quote]) == [0x7F])
    // Every other ASCII byte but the quote and the backslash stands for itself.
    let printable = (UInt8(0x20)...0x7F).filter { $0 != quote && $0 != UInt8(ascii: "\\") }
    #expect(try decodedString([quote] + printable + [quote]) == printable)
  }

  @Test func everyControlCharacterCanBeEscaped() throws {
    for c in UInt8(0)..<0x20 {
      for hex in [String(format: "%04x", c), String(format: "%04X", c)] {
        #expect(try decodedString("\"\\u\(hex)\"") == [c])
      }
    }
  }

  /// Ill-formed UTF-8 inside a string, and the index of the byte the error points at.
  @Test(arguments: [
    ([0xC0, 0x80], 0), ([0xC0, 0xAF], 0), ([0xC1, 0xBF], 0),  // overlong 2-byte
    ([0xE0, 0x80, 0x80], 0), ([0xE0, 0x9F, 0xBF], 0),  // overlong 3-byte
    ([0xF0, 0x80, 0x80, 0x80], 0), ([0xF0, 0x8F, 0xBF, 0xBF], 0),  // overlong 4-byte
    ([0xED, 0xA0, 0x80], 0), ([0xED, 0xBF, 0xBF], 0), ([0xED, 0xAD, 0xBF, 0xED, 0xB0, 0x80], 0),  // surrogates
    ([0xF4, 0x90, 0x80, 0x80], 0), ([0xF4, 0xBF, 0xBF, 0xBF], 0), ([0xF7, 0xBF, 0xBF, 0xBF], 0),  // > U+10FFFF
    ([0xF5, 0x80, 0x80, 0x80], 0), ([0xF8, 0x88, 0x80, 0x80, 0x80], 0), ([0xFC, 0x84, 0x80, 0x80, 0x80, 0x80], 0),
    ([0xFE], 0), ([0xFF], 0),
    ([0x80], 0), ([0xBF], 0), ([0x41, 0x80], 1), ([0xC3, 0xA9, 0xA9], 2),  // stray continuation bytes
    ([0xC2], 0), ([0xC2, 0x41], 0), ([0xE2, 0x82], 0), ([0xE2, 0x28, 0xA1], 0), ([0xE2, 0x82, 0x41], 0),  // truncated
    ([0xF0, 0x9F, 0x98], 0), ([0xF0, 0x9F, 0x98, 0x41], 0), ([0xF0, 0x41, 0x98, 0x80], 0),
    ([0x61, 0xF0, 0x9F, 0x98, 0x80, 0xF0, 0x9F], 5),
  ] as [([UInt8], Int)])
  func illFormedUTF8IsRejected(content: [UInt8], badIndex: Int) {
    #expect(validationError([quote] + content + [quote]) == JSONSyntaxError(offset: 1 + badIndex, reason: "invalid UTF-8"))
    // Cut off at the end of the input, without a closing quote: still an error, never a crash.
    #expect(validationError([quote] + content) != nil)
  }

  @Test(arguments: [
    [0xC2, 0x80], [0xDF, 0xBF], [0xC3, 0xA9],  // 2-byte
    [0xE0, 0xA0, 0x80], [0xE2, 0x82, 0xAC], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80], [0xEF, 0xBF, 0xBF],  // 3-byte
    [0xEF, 0xBB, 0xBF],  // a byte-order mark is a character like any other inside a string
    [0xF0, 0x90, 0x80, 0x80], [0xF0, 0x9F, 0x98, 0x80], [0xF3, 0xBF, 0xBF, 0xBF], [0xF4, 0x8F, 0xBF, 0xBF],  // 4-byte
  ] as [[UInt8]])
  func wellFormedUTF8IsAcceptedAndCopied(content: [UInt8]) throws {
    #expect(try decodedString([quote] + content + [quote]) == content)
    #expect(try decodedString([quote] + content + content + [0x41] + content + [quote]) == content + content + [0x41] + content)
  }

  /// Every lead byte against every second byte, then every third and
  /// fourth byte after a good start, checked against the standard
  /// library's UTF-8 validation.
  @Test func utf8ValidationAgreesWithTheStandardLibrary() {
    var mismatches: [[UInt8]] = []
    func check(_ content: [UInt8]) {
      let expected: Bool
      if let s = String(validating: content, as: UTF8.self) {
        expected = s.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0 != "\"" && $0 != "\\" }
      } else {
        expected = false
      }
      if isValid([quote] + content + [quote]) != expected { mismatches.append(content) }
    }
    for b0 in UInt8(0x80)...0xFF {
      // What follows the second byte completes the longest sequence b0 can start.
      let tail: [UInt8] = b0 >= 0xF0 ? [0x80, 0x80] : b0 >= 0xE0 ? [0x80, 0x41] : [0x41, 0x41]
      for b1 in UInt8(0)...0xFF { check([b0, b1] + tail) }
    }
    for b2 in UInt8(0)...0xFF {
      for start: [UInt8] in [[0xE0, 0xA0], [0xE1, 0x80], [0xED, 0x9F], [0xEF, 0xBF], [0xF0, 0x90], [0xF4, 0x8F]] {
        check(start + [b2, 0x41])
        check(start + [0x80, b2])
      }
    }
    #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
  }

  /// skipString reads plain ASCII eight bytes at a time: every byte value,
  /// at every position of those words, must still be seen.
  @Test func everyByteIsSeenAtEveryPositionOfAWord() throws {
    var wrong: [(byte: UInt8, position: Int, length: Int)] = []
    for length in [17, 24] {
      for position in 0..<length {
        for byte in UInt8(0)...0xFF {
          var document = [UInt8](repeating: UInt8(ascii: "a"), count: length + 2)
          document[0] = quote
          document[length + 1] = quote
          document[1 + position] = byte
          let at = 1 + position
          let outcome: Result<Int, JSONSyntaxError> = scan(document) { s in
            do { return .success(try s.skipString(at: 0)) } catch { return .failure(error as! JSONSyntaxError) }
          }
          let expected: Result<Int, JSONSyntaxError>
          switch byte {
          case 0..<0x20: expected = .failure(JSONSyntaxError(offset: at, reason: "control character in string"))
          case quote: expected = .success(at + 1)
          case UInt8(ascii: "\\") where position == length - 1:  // escapes the closing quote
            expected = .failure(JSONSyntaxError(offset: 0, reason: "unterminated string"))
          case UInt8(ascii: "\\"): expected = .failure(JSONSyntaxError(offset: at, reason: "invalid escape in string"))
          case 0x80...0xFF: expected = .failure(JSONSyntaxError(offset: at, reason: "invalid UTF-8"))
          default: expected = .success(length + 2)
          }
          if outcome != expected { wrong.append((byte, position, length)) }
        }
      }
    }
    #expect(wrong.isEmpty, "\(wrong.prefix(10))")
  }

  @Test func aOneMegabyteStringIsScannedAndDecoded() throws {
    let plain = [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20)
    #expect(try decodedString([quote] + plain + [quote]) == plain)

    let unit = Array(#"é😀\n\u0041\uD83D\uDE00 \"x"#.utf8)
    let decodedUnit = Array("é😀\nA😀 \"x".utf8)
    let repeats = (1 << 20) / unit.count
    let escaped = repeated(unit, repeats)
    let decoded = try decodedString([quote] + escaped + [quote])
    #expect(decoded == repeated(decodedUnit, repeats))

    // An error at the very end of a long string is found, at the right byte.
    #expect(validationError([quote] + plain + [0x01, quote]) == JSONSyntaxError(offset: 1 + plain.count, reason: "control character in string"))
    #expect(validationError([quote] + plain) == JSONSyntaxError(offset: 0, reason: "unterminated string"))
  }

  @Test func stringAndSkipStringWorkInsideALargerText() throws {
    let document = #"[1, "a\"b", "\u00e9t\u00E9", 2]"#
    try scan(document) { s throws in
      #expect(try s.skipString(at: 4) == 10)
      #expect(s.string(at: 4..<10) == "a\"b")
      #expect(try s.skipString(at: 12) == 27)
      #expect(s.string(at: 12..<27) == "été")
      #expect(s.string(at: 1..<2) == nil)
      #expect(s.string(at: 0..<document.utf8.count) == nil)
    }
  }

  @Test(arguments: [
    "", "a", "hello, world", "quote \" backslash \\ slash /", "\u{0}\u{1}\u{1F}\u{7F}", "\u{8}\u{C}\n\r\t",
    "é", "日本語", "😀👍🏽", "\u{10000}\u{10FFFF}", "\u{FEFF}\u{FFFE}\u{FFFF}\u{2028}\u{2029}", "e\u{301}",
    "\\u0041 is not an escape here", "mixed: a\"é\n😀\\",
  ])
  func decodeStringUndoesEveryWayOfEscaping(original: String) throws {
    let expected = Array(original.utf8)
    // As JSONWriter writes it.
    var written: [UInt8] = []
    JSONWriter.appendString(original, to: &written)
    #expect(try decodedString(written) == expected)
    // Every scalar as a \u escape (surrogate pairs beyond the BMP), upper and lower case.
    for uppercase in [false, true] {
      var escaped = "\""
      for unit in original.utf16 {
        escaped += "\\u" + String(format: uppercase ? "%04X" : "%04x", unit)
      }
      escaped += "\""
      #expect(try decodedString(escaped) == expected)
    }
    // Appending decodes after what is already there.
    try scan(written) { s throws in
      var out: [UInt8] = [1, 2]
      s.appendDecodedString(contents: 1..<(written.count - 1), to: &out)
      #expect(out == [1, 2] + expected)
    }
  }
}

// MARK: - Numbers, literals, structure

@Suite struct JSONScannerGrammarTests {
  @Test(arguments: [
    "0", "-0", "1", "-1", "9", "10", "1.5", "-1.5", "0.0", "-0.0", "0.5", "1.5e10", "1E-2", "1e+2", "1E+2", "1e2",
    "-0.0e-0", "0e0", "0E+0", "0.000001", "123456789012345678901234567890", "-9223372036854775808",
    "1.7976931348623157e308", "5e-324", "1e400", "1e-400", "1e007", "12.34e-05",
  ])
  func validNumbersAreAccepted(number: String) throws {
    let range = try scan(number) { try $0.validateDocument() }
    #expect(range == 0..<number.utf8.count)
    #expect(isValid("[" + number + "]"))
    #expect(isValid(" " + number + " "))
    #expect(isValid(#"{"n":"# + number + "}"))
    #expect(scan(number) { $0.kind(at: 0) } == .number)
  }

  @Test(arguments: [
    "01", "00", "-01", "007", "-", "--1", "- 1", "+1", "+0", "1.", "0.", "-1.", "1.e5", ".5", "-.5", "1e", "1E", "1e+", "1e-",
    "1.0e", "1e+-2", "1E--2", "1e5e5", "1.5.5", "0x10", "0X1F", "0b1", "1_000", "NaN", "nan", "-NaN", "Infinity",
    "-Infinity", "infinity", "Inf", "1.5f", "1d", "١", "１", "1 2", "∞", "e5", "E5",
  ])
  func invalidNumbersAreRejected(number: String) {
    #expect(!isValid(number))
    #expect(!isValid("[" + number + "]"))
    #expect(!isValid(#"{"n":"# + number + "}"))
    #expect(foundationParse(Array(number.utf8)) == nil, "Foundation accepts \(number) too")
  }

  @Test(arguments: ["true", "false", "null"])
  func literalsAreAccepted(literal: String) {
    #expect(isValid(literal))
    #expect(isValid("[" + literal + "," + literal + "]"))
    #expect(isValid(" \t" + literal + "\r\n"))
  }

  @Test(arguments: [
    "t", "tr", "tru", "f", "fa", "fal", "fals", "n", "nu", "nul", "True", "TRUE", "False", "NULL", "Null", "nil",
    "undefined", "none", "truex", "true1", "nulll", "falsee", "[tru]", "[nul]", "[fals]", "{\"a\":tru}", "trUe", "nuLL",
  ])
  func misspelledOrTruncatedLiteralsAreRejected(text: String) {
    #expect(!isValid(text))
  }

  @Test func literalTruncationsPointAtTheLiteral() {
    #expect(validationError("tru") == JSONSyntaxError(offset: 0, reason: "expected a JSON value"))
    #expect(validationError("[nul") == JSONSyntaxError(offset: 1, reason: "expected a JSON value"))
    #expect(validationError("trux") == JSONSyntaxError(offset: 3, reason: "expected a JSON value"))
    #expect(validationError("nulL") == JSONSyntaxError(offset: 3, reason: "expected a JSON value"))
    #expect(validationError("falsy") == JSONSyntaxError(offset: 4, reason: "expected a JSON value"))
  }

  @Test(arguments: [
    "[]", "{}", "[[]]", "[{}]", #"{"a":{}}"#, #"{"":0}"#, "[1,[2,[3]]]", #"{"a":[1,{"b":null}],"c":"d"}"#,
    #"[true,false,null,0,"",[],{}]"#, #"{"a":1,"a":2}"#, #"{"\u0000":"\u0000"}"#, #"[[[[["deep"]]]]]"#,
  ])
  func validStructuresAreAccepted(document: String) {
    #expect(isValid(document))
  }

  @Test(arguments: [
    "[", "]", "{", "}", "[1,]", #"{"a":1,}"#, "[,1]", "[,]", "{,}", "[1,,2]", #"{"a":1,,"b":2}"#, #"{"a"}"#, #"{"a":}"#,
    "{a:1}", "{'a':1}", "['a']", "{1:2}", #"{"a" 1}"#, "[1 2]", #"{"a":1 "b":2}"#, "[}", "{]", #"{"a":1]"#, #"["a":1]"#,
    #"["a",]"#, #"{"a"::1}"#, #"{:1}"#, #"{"a":1}}"#, "[1]]", "[[1]", #"{"a":{"b":1}"#, "[1;2]", #"{"a"=1}"#,
    #"{"a":1;"b":2}"#, "()", "[1,2)", "<>", "/* */ 1", "1 // c", "# c\n1", "[1]\u{0}",
  ])
  func invalidStructuresAreRejected(document: String) {
    #expect(!isValid(document))
  }

  @Test func emptyInputIsRejected() {
    #expect(validationError("") == JSONSyntaxError(offset: 0, reason: "no JSON value"))
    #expect(validationError(" ") == JSONSyntaxError(offset: 1, reason: "no JSON value"))
    #expect(validationError(" \t\r\n ") == JSONSyntaxError(offset: 5, reason: "no JSON value"))
  }

  @Test(arguments: [
    ("1 2", 2), ("{} {}", 3), ("[]]", 2), (#""a""b""#, 3), ("null x", 5), ("{},", 2), ("true false", 5),
    ("0 0", 2), ("[]\n[]", 3), ("1\u{0}", 1), ("\"\"\u{1}", 2), ("{}\u{C}", 2), ("[] \u{A0}", 3),
  ])
  func textAfterTheValueIsRejected(document: String, offset: Int) {
    #expect(validationError(document) == JSONSyntaxError(offset: offset, reason: "unexpected text after the JSON value"))
  }

  @Test func insignificantWhitespaceIsAcceptedEverywhereAndExcludedFromTheRange() throws {
    let ws = " \t\r\n"
    let document = ws + "{" + ws + #""a""# + ws + ":" + ws + "[" + ws + "1" + ws + "," + ws + "true" + ws + "]" + ws + ","
      + ws + #""b""# + ws + ":" + ws + "{" + ws + "}" + ws + "}" + ws
    let range = try scan(document) { try $0.validateDocument() }
    #expect(range == 4..<(document.utf8.count - 4))
    #expect(isValid("\n\n1\n\n"))
    #expect(isValid("[ ]"))
    #expect(isValid("{\r\n}"))
    #expect(scan(" \t\r\nx") { $0.skipWhitespace(0) } == 4)
    #expect(scan("   ") { $0.skipWhitespace(1) } == 3)
  }

  /// Only space, tab, line feed and carriage return are JSON whitespace.
  @Test(arguments: [
    "\u{C}1", "\u{B}1", "\u{A0}1", "\u{2028}1", "\u{2029}1", "\u{FEFF}1", "\u{0}1", "\u{1C}1", "\u{85}1", "\u{3000}1",
    "[1,\u{C}2]", "{\u{B}}", "[\u{A0}]", "1\u{C}", "\u{FEFF}[1]",
  ])
  func otherWhitespaceIsRejected(document: String) {
    #expect(!isValid(document))
  }

  @Test func aByteOrderMarkBeforeTheValueIsRejected() {
    #expect(validationError([0xEF, 0xBB, 0xBF, 0x31]) == JSONSyntaxError(offset: 0, reason: "expected a JSON value"))
    #expect(!isValid([0xFE, 0xFF, 0x00, 0x31]))
    #expect(!isValid([0x31, 0x00]))  // UTF-16, which Foundation would guess from the NUL
  }

  /// Where the error points: the first byte at which the text stops being JSON.
  @Test(arguments: [
    ("", 0, "no JSON value"), ("   ", 3, "no JSON value"), ("x", 0, "expected a JSON value"),
    ("[1,]", 3, "expected a JSON value"), (#"{"a":1,}"#, 7, "expected a string key"), (#""abc"#, 0, "unterminated string"),
    ("[1 2]", 3, "expected ',' or ']'"), (#"{"a":1 "b":2}"#, 7, "expected ',' or '}'"), (#"{"a" 1}"#, 5, "expected ':'"),
    ("{1:2}", 1, "expected a string key"), ("01", 1, "unexpected text after the JSON value"),
    ("1.", 2, "invalid number"), ("-", 1, "invalid number"), ("1e+", 3, "invalid number"), ("[-a]", 2, "invalid number"),
    ("1.x", 2, "invalid number"), ("[", 1, "unexpected end of text"), ("[1", 2, "unexpected end of text"),
    (#"{"a":"#, 5, "unexpected end of text"), (#"{"a":1"#, 6, "unexpected end of text"), ("{", 1, "expected a string key"),
    (#"{"a""#, 4, "expected ':'"), (#""a\xb""#, 2, "invalid escape in string"), ("{} x", 3, "unexpected text after the JSON value"),
    (#""\u12G4""#, 5, #"invalid \u escape"#), (#"["\uDC00"]"#, 2, #"unpaired surrogate in \u escape"#),
    ("[\"ab\u{1}\"]", 4, "control character in string"), ("  [ 1 , ]", 8, "expected a JSON value"),
    (#"{"a":[1,{"b":[2,}]}"#, 16, "expected a JSON value"),
  ])
  func errorsPointAtTheRightByte(document: String, offset: Int, reason: String) {
    #expect(validationError(document) == JSONSyntaxError(offset: offset, reason: reason))
  }

  @Test func invalidUTF8ErrorsPointAtTheLeadByte() {
    #expect(validationError([0x5B, quote, 0x61, 0xFF, quote, 0x5D]) == JSONSyntaxError(offset: 3, reason: "invalid UTF-8"))
    // Outside a string a non-ASCII byte is simply not JSON.
    #expect(validationError([0x5B, 0xC3, 0xA9, 0x5D]) == JSONSyntaxError(offset: 1, reason: "expected a JSON value"))
  }

  @Test func syntaxErrorsDescribeThemselvesWithA1BasedByte() {
    #expect(JSONSyntaxError(offset: 3, reason: "expected ':'").description == "expected ':' at byte 4")
    #expect("\(validationError("[1,]")!)" == "expected a JSON value at byte 4")
  }

  @Test func kindIsReadFromTheFirstByte() {
    scan(#"{"a":[1,-2,"s",true,false,null]} x"#) { s in
      #expect(s.kind(at: 0) == .object)
      #expect(s.kind(at: 1) == .string)
      #expect(s.kind(at: 5) == .array)
      #expect(s.kind(at: 6) == .number)
      #expect(s.kind(at: 8) == .number)
      #expect(s.kind(at: 11) == .string)
      #expect(s.kind(at: 15) == .bool)
      #expect(s.kind(at: 20) == .bool)
      #expect(s.kind(at: 26) == .null)
      #expect(s.kind(at: 4) == nil)  // ':'
      #expect(s.kind(at: 32) == nil)  // ' '
      #expect(s.kind(at: 33) == nil)  // 'x'
      #expect(s.kind(at: 34) == nil)  // past the end
    }
  }

  @Test func skipValueReturnsTheIndexJustAfterEachValue() throws {
    let document = #"[1, "ab", {"c": [true]}, null, -2.5e3]"#
    try scan(document) { s throws in
      #expect(try s.skipValue(at: 0) == document.utf8.count)
      #expect(try s.skipValue(at: 1) == 2)
      #expect(try s.skipValue(at: 4) == 8)
      #expect(try s.skipValue(at: 10) == 23)
      #expect(try s.skipValue(at: 25) == 29)
      #expect(try s.skipValue(at: 31) == 37)
      #expect(throws: JSONSyntaxError.self) { try s.skipValue(at: 2) }  // ','
      #expect(throws: JSONSyntaxError.self) { try s.skipValue(at: document.utf8.count) }
    }
  }
}

// MARK: - Nesting

@Suite struct JSONScannerNestingTests {
  private static let maximum = JSONScanner.maximumDepth

  private func arrays(_ depth: Int) -> [UInt8] {
    [UInt8](repeating: UInt8(ascii: "["), count: depth) + [UInt8](repeating: UInt8(ascii: "]"), count: depth)
  }

  private func objects(_ depth: Int) -> [UInt8] {
    repeated(Array(#"{"a":"#.utf8), depth) + [UInt8(ascii: "1")]
      + [UInt8](repeating: UInt8(ascii: "}"), count: depth)
  }

  @Test func theMaximumDepthIs512LikeFoundations() {
    #expect(Self.maximum == 512)
    #expect(foundationParse(arrays(512)) != nil)
    #expect(foundationParse(arrays(513)) == nil)
  }

  @Test func arraysUpToTheMaximumDepthAreAccepted() {
    #expect(isValid(arrays(1)))
    #expect(isValid(arrays(Self.maximum - 1)))
    #expect(isValid(arrays(Self.maximum)))
    #expect(validationError(arrays(Self.maximum + 1)) == JSONSyntaxError(offset: Self.maximum, reason: "nesting deeper than 512"))
  }

  @Test func objectsUpToTheMaximumDepthAreAccepted() {
    #expect(isValid(objects(Self.maximum)))
    #expect(validationError(objects(Self.maximum + 1)) == JSONSyntaxError(offset: 5 * Self.maximum, reason: "nesting deeper than 512"))
  }

  @Test func mixedNestingCountsBothKinds() {
    func mixed(_ depth: Int) -> [UInt8] {
      var open: [UInt8] = []
      var close: [UInt8] = []
      for level in 0..<depth {
        if level % 2 == 0 {
          open += Array("[ ".utf8)
          close = Array(" ]".utf8) + close
        } else {
          open += Array(#"{"k" : "#.utf8)
          close = Array("}".utf8) + close
        }
      }
      return open + Array("0".utf8) + close
    }
    #expect(isValid(mixed(Self.maximum)))
    #expect(validationError(mixed(Self.maximum + 1))?.reason == "nesting deeper than 512")
  }

  @Test func millionsOfOpenBracketsAreAnErrorNotACrash() {
    let opens = [UInt8](repeating: UInt8(ascii: "["), count: 1_000_000)
    #expect(validationError(opens) == JSONSyntaxError(offset: Self.maximum, reason: "nesting deeper than 512"))
    #expect(validationError(arrays(100_000)) == JSONSyntaxError(offset: Self.maximum, reason: "nesting deeper than 512"))
    #expect(validationError(objects(100_000)) == JSONSyntaxError(offset: 5 * Self.maximum, reason: "nesting deeper than 512"))
    let braces = repeated(Array(#"{"":"#.utf8), 250_000)
    #expect(validationError(braces)?.reason == "nesting deeper than 512")
  }

  @Test func theWalkersPassTheDepthOn() throws {
    let document = Array("[[0]]".utf8)
    try scan(document) { s throws in
      #expect(try s.forEachElement(ofArrayAt: 0, depth: Self.maximum - 2) { _ in true } == 5)
      #expect(throws: JSONSyntaxError.self) { try s.forEachElement(ofArrayAt: 0, depth: Self.maximum - 1) { _ in true } }
      #expect(throws: JSONSyntaxError.self) { try s.skipValue(at: 0, depth: Self.maximum - 1) }
      #expect(try s.skipValue(at: 0, depth: Self.maximum - 2) == 5)
    }
    try scan(#"{"a":{"b":0}}"#) { s throws in
      #expect(try s.forEachMember(ofObjectAt: 0, depth: Self.maximum - 2) { _, _ in true } == 13)
      #expect(throws: JSONSyntaxError.self) { try s.forEachMember(ofObjectAt: 0, depth: Self.maximum - 1) { _, _ in true } }
    }
  }
}

// MARK: - Walking

@Suite struct JSONScannerWalkingTests {
  @Test func forEachMemberHandsOutEscapedKeysAndExactValues() throws {
    let document = #"{ "a" : 1 , "b\u0041" :[ 2 ,3 ] ,"c":{"d":null} , "e": "x y","":false }"#
    try scan(document) { s throws in
      var keys: [String] = []
      var values: [String] = []
      let end = try s.forEachMember(ofObjectAt: 0) { key, value in
        keys.append(text(s, key))
        values.append(text(s, value))
        return true
      }
      #expect(end == document.utf8.count)
      #expect(keys == ["a", #"b\u0041"#, "c", "e", ""])
      #expect(values == ["1", "[ 2 ,3 ]", #"{"d":null}"#, #""x y""#, "false"])
    }
  }

  @Test func forEachMemberStopsWhenTheBodySaysSo() throws {
    let document = #"{"a":1,"b":[2],"c":3}"#
    try scan(document) { s throws in
      var seen = 0
      let end = try s.forEachMember(ofObjectAt: 0) { key, _ in
        seen += 1
        return !s.key(key, equals: Array("b".utf8))
      }
      #expect(seen == 2)
      #expect(end == 14)  // just after [2]
    }
  }

  @Test func forEachMemberOnAnEmptyObjectCallsNothing() throws {
    for document in ["{}", "{ \n }"] {
      try scan(document) { s throws in
        var calls = 0
        #expect(try s.forEachMember(ofObjectAt: 0) { _, _ in calls += 1; return true } == document.utf8.count)
        #expect(calls == 0)
      }
    }
  }

  @Test(arguments: ["[]", " {}", "1", #""a""#, "", #"{"a":1,}"#, #"{"a":1"#, #"{"a" 1}"#, #"{"a":1 "b":2}"#, "{1:1}", #"{"a":tru}"#])
  func forEachMemberRejectsWhatIsNotAnObject(document: String) {
    _ = scan(document) { s in
      #expect(throws: JSONSyntaxError.self) { try s.forEachMember(ofObjectAt: 0) { _, _ in true } }
    }
  }

  @Test func forEachElementHandsOutExactValues() throws {
    let document = #"[ 1 ,"two", [3 , 4] ,{ "five" :5 },true,null , -6.5e1 ]"#
    try scan(document) { s throws in
      var values: [String] = []
      let end = try s.forEachElement(ofArrayAt: 0) { value in
        values.append(text(s, value))
        return true
      }
      #expect(end == document.utf8.count)
      #expect(values == ["1", #""two""#, "[3 , 4]", #"{ "five" :5 }"#, "true", "null", "-6.5e1"])
      var first: [String] = []
      #expect(try s.forEachElement(ofArrayAt: 0) { first.append(text(s, $0)); return false } == 3)
      #expect(first == ["1"])
    }
    try scan("[ ]") { s throws in
      #expect(try s.forEachElement(ofArrayAt: 0) { _ in Issue.record("called"); return true } == 3)
    }
  }

  @Test(arguments: ["{}", " []", "1", "", "[1,]", "[1", "[1 2]", "[,]", "[1,,2]", "[1}"])
  func forEachElementRejectsWhatIsNotAnArray(document: String) {
    _ = scan(document) { s in
      #expect(throws: JSONSyntaxError.self) { try s.forEachElement(ofArrayAt: 0) { _ in true } }
    }
  }

  @Test func memberFindsTheLastDuplicate() throws {
    try scan(#"{"name":1,"other":2,"name":3}"#) { s throws in
      let found = try #require(try s.member(Array("name".utf8), ofObjectAt: 0))
      #expect(text(s, found) == "3")
      #expect(try s.member(Array("missing".utf8), ofObjectAt: 0) == nil)
      #expect(try s.member(Array("nam".utf8), ofObjectAt: 0) == nil)
      #expect(try s.member(Array("name ".utf8), ofObjectAt: 0) == nil)
    }
    // The last duplicate wins whatever its spelling.
    try scan(#"{"n\u0061me":1,"name":2,"\u006e\u0061\u006d\u0065":3}"#) { s throws in
      #expect(try s.member(Array("name".utf8), ofObjectAt: 0).map { text(s, $0) } == "3")
    }
    try scan(#"{"name":1,"n\u0061me":2}"#) { s throws in
      #expect(try s.member(Array("name".utf8), ofObjectAt: 0).map { text(s, $0) } == "2")
    }
  }

  @Test func memberComparesDecodedKeys() throws {
    try scan(#"{"n\u0061me":"Ann","caf\u00e9":1,"\ud83d\ude00":2,"a\/b":3,"q\"":4,"b\\":5,"":6}"#) { s throws in
      func value(_ name: String) throws -> String? {
        try s.member(Array(name.utf8), ofObjectAt: 0).map { text(s, $0) }
      }
      #expect(try value("name") == #""Ann""#)
      #expect(try value("café") == "1")
      #expect(try value("😀") == "2")
      #expect(try value("a/b") == "3")
      #expect(try value("q\"") == "4")
      #expect(try value("b\\") == "5")
      #expect(try value("") == "6")
      #expect(try value(#"n\u0061me"#) == nil)
      #expect(try value(#"a\/b"#) == nil)
    }
  }

  /// A name that contains a backslash must not match a key whose escaped
  /// bytes happen to spell it.
  @Test(arguments: [
    (#"\n"#, "\n", true), (#"\n"#, #"\n"#, false), (#"\""#, "\"", true), (#"\""#, #"\""#, false),
    (#"\\"#, "\\", true), (#"\\"#, #"\\"#, false), (#"a\/b"#, "a/b", true), (#"a\/b"#, #"a\/b"#, false),
    (#"\u00e9"#, "é", true), (#"\u00E9"#, "é", true), (#"\u00e9"#, #"\u00e9"#, false), ("é", #"\u00e9"#, false),
    (#"\uD83D\uDE00"#, "😀", true), ("", "", true), ("ab", "abc", false), ("abc", "ab", false), ("ab", "ab", true),
    (#"\\u0041"#, #"\u0041"#, true), (#"\\u0041"#, "A", false), (#"a\tb"#, "a\tb", true), (#"a\tb"#, #"a\tb"#, false),
  ])
  func keyEqualsComparesDecodedText(escapedKey: String, name: String, equal: Bool) throws {
    let document = Array(("{\"" + escapedKey + "\":0}").utf8)
    try scan(document) { s throws in
      _ = try s.validateDocument()
      let key = 2..<(2 + escapedKey.utf8.count)
      #expect(s.key(key, equals: Array(name.utf8)) == equal)
      #expect(try (s.member(Array(name.utf8), ofObjectAt: 0) != nil) == equal)
    }
  }

  @Test func elementFindsByIndex() throws {
    try scan(#"[10, 20 ,[30], {"a":40}, "50"]"#) { s throws in
      func element(_ index: Int) throws -> String? { try s.element(index, ofArrayAt: 0).map { text(s, $0) } }
      #expect(try element(0) == "10")
      #expect(try element(1) == "20")
      #expect(try element(2) == "[30]")
      #expect(try element(3) == #"{"a":40}"#)
      #expect(try element(4) == #""50""#)
      #expect(try element(5) == nil)
      #expect(try element(-1) == nil)
    }
    try scan("[]") { s throws in #expect(try s.element(0, ofArrayAt: 0) == nil) }
    _ = try scan("{}") { s throws in #expect(throws: JSONSyntaxError.self) { try s.element(0, ofArrayAt: 0) } }
    _ = try scan("[1,x]") { s throws in #expect(throws: JSONSyntaxError.self) { try s.element(5, ofArrayAt: 0) } }
  }

  private static let document = #"""
    { "origin": {"country": "FR", "tags": ["a", "b", {"x": [1, 2]}]}, "0": "zero", "a.b": 1,
      "list": [{"k": "v"}], "n\u0061me": "Ann", "empty": {}, "n": null }
    """#

  @Test(arguments: [
    ("origin.country", #""FR""#), ("origin.tags.1", #""b""#), ("origin.tags.01", #""b""#), ("origin.tags.2.x.1", "2"),
    ("origin.tags.2.x", "[1, 2]"), ("0", #""zero""#), ("list.0.k", #""v""#), ("name", #""Ann""#), ("empty", "{}"),
    ("n", "null"), ("origin.tags.3", nil), ("origin.tags.x", nil), ("origin.tags.-1", nil), ("origin.country.x", nil),
    ("origin.country.0", nil), ("a.b", nil), ("missing", nil), ("", nil), ("origin.", nil), (".origin", nil),
    ("n.x", nil), ("empty.x", nil), ("list.0.k.0", nil), ("origin.tags.99999999999999999999999", nil),
  ] as [(String, String?)])
  func valueFollowsDottedPaths(path: String, expected: String?) throws {
    let bytes = Array(Self.document.utf8)
    try scan(bytes) { s throws in
      let range = try s.validateDocument()
      let found = try s.value(at: JSONPathComponent.parse(path), in: range)
      #expect(found.map { text(s, $0) } == expected)
    }
  }

  @Test func anEmptyPathIsTheValueItself() throws {
    try scan("  [1]  ") { s throws in
      let range = try s.validateDocument()
      #expect(try s.value(at: [], in: range) == range)
    }
  }

  @Test func pathComponentsIndexArraysOnlyWhenMadeOfASCIIDigits() {
    let parts = JSONPathComponent.parse("tags.0.name")
    #expect(parts.map(\.key) == [Array("tags".utf8), Array("0".utf8), Array("name".utf8)])
    #expect(parts.map(\.index) == [nil, 0, nil])
    #expect(JSONPathComponent.parse("a..b").count == 3)
    #expect(JSONPathComponent.parse("").map(\.key) == [[]])
    #expect(JSONPathComponent("007").index == 7)
    #expect(JSONPathComponent("12").index == 12)
    #expect(JSONPathComponent("-1").index == nil)
    #expect(JSONPathComponent("+1").index == nil)
    #expect(JSONPathComponent("1a").index == nil)
    #expect(JSONPathComponent("１").index == nil)
    #expect(JSONPathComponent("٣").index == nil)
    #expect(JSONPathComponent("").index == nil)
    #expect(JSONPathComponent("99999999999999999999999").index == nil)
  }

  @Test(arguments: [
    ("0", 0), ("-0", 0), ("42", 42), ("-42", -42), ("9223372036854775807", Int.max), ("-9223372036854775808", Int.min),
    ("9223372036854775808", nil), ("-9223372036854775809", nil), ("99999999999999999999", nil), ("1.0", nil),
    ("1e2", nil), ("1E2", nil), ("-1.5", nil), (#""1""#, nil), ("true", nil), ("null", nil), ("[1]", nil),
  ] as [(String, Int?)])
  func integerReadsIntegersThatFit(number: String, expected: Int?) throws {
    try scan(number) { s throws in
      let range = try s.validateDocument()
      #expect(s.integer(at: range) == expected)
    }
  }

  @Test func stringDecodesOnlyStrings() throws {
    try scan(#"["a\nb", 1, null, "\ud83d\ude00", ""]"#) { s throws in
      var strings: [String?] = []
      try s.forEachElement(ofArrayAt: 0) { strings.append(s.string(at: $0)); return true }
      #expect(strings == ["a\nb", nil, nil, "😀", ""])
    }
  }
}

// MARK: - Agreement with Foundation

/// Random JSON for the property tests: values, their text with varied
/// whitespace and escaping, and mutations of it.
enum JSONFuzz {
  /// SplitMix64: small, fast, and the same sequence on every platform.
  struct Generator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func chance(_ oneIn: Int) -> Bool { below(oneIn) == 0 }
  }

  indirect enum Value {
    case null, bool(Bool), number(String), string(String), array([Value]), object([(String, Value)])
  }

  /// A random Unicode scalar, biased towards the ones JSON treats specially.
  static func scalar(using g: inout Generator) -> Unicode.Scalar {
    let specials: [UInt32] = [
      0x22, 0x5C, 0x2F, 0x08, 0x0C, 0x0A, 0x0D, 0x09, 0x00, 0x1F, 0x7F, 0x80, 0xFF, 0x7FF, 0x800, 0xFEFF, 0xFFFD,
      0xFFFE, 0xFFFF, 0x2028, 0x2029, 0x0301, 0xD7FF, 0xE000, 0x10000, 0x1F600, 0x10FFFF,
    ]
    while true {
      let value: UInt32
      switch g.below(10) {
      case 0, 1, 2, 3: value = UInt32(0x20 + g.below(0x5F))
      case 4: value = UInt32(g.below(0x20))
      case 5: value = specials[g.below(specials.count)]
      case 6: value = UInt32(0x80 + g.below(0x780))
      case 7: value = UInt32(0x800 + g.below(0xF800))
      case 8: value = UInt32(0x10000 + g.below(0x100000))
      default: value = [0x22, 0x5C, 0x2F, 0x20][g.below(4)]
      }
      if let scalar = Unicode.Scalar(value) { return scalar }
    }
  }

  static func string(using g: inout Generator) -> String {
    let length = g.chance(4) ? g.below(40) : g.below(6)
    var s = String.UnicodeScalarView()
    for _ in 0..<length { s.append(scalar(using: &g)) }
    return String(s)
  }

  static func digits(_ count: Int, using g: inout Generator) -> String {
    String((0..<count).map { _ in Character(Unicode.Scalar(UInt8(ascii: "0") + UInt8(g.below(10)))) })
  }

  /// A random number, kept within the range of a Double (Foundation's limit).
  static func number(using g: inout Generator) -> String {
    var s = g.chance(3) ? "-" : ""
    if g.chance(12) {
      return s + String(1 + g.below(9)) + digits(18 + g.below(12), using: &g)  // beyond 64 bits
    }
    s += g.chance(4) ? "0" : String(1 + g.below(9)) + digits(g.below(12), using: &g)
    if g.chance(2) { s += "." + digits(1 + g.below(8), using: &g) }
    if g.chance(3) {
      s += g.chance(2) ? "e" : "E"
      s += ["", "+", "-"][g.below(3)]
      let exponent = g.below(250)
      s += (g.chance(5) ? "0" : "") + String(exponent)
    }
    return s
  }

  static func value(depth: Int = 0, using g: inout Generator) -> Value {
    let scalarOnly = depth >= 6
    switch g.below(scalarOnly ? 4 : 6) {
    case 0: return [.null, .bool(true), .bool(false)][g.below(3)]
    case 1: return .number(number(using: &g))
    case 2, 3: return .string(string(using: &g))
    case 4: return .array((0..<g.below(6)).map { _ in value(depth: depth + 1, using: &g) })
    default:
      var keys: Set<String> = []  // canonically distinct, as Foundation's dictionary keys are
      var members: [(String, Value)] = []
      for _ in 0..<g.below(6) {
        let key = string(using: &g)
        if keys.insert(key).inserted { members.append((key, value(depth: depth + 1, using: &g))) }
      }
      return .object(members)
    }
  }

  /// The text of a value as tokens: `spaced` with random insignificant
  /// whitespace, `compact` without any, both with the same escapes.
  struct Text {
    var spaced: [UInt8] = []
    var compact: [UInt8] = []

    mutating func token(_ bytes: [UInt8]) {
      spaced += bytes
      compact += bytes
    }

    mutating func whitespace(using g: inout Generator) {
      guard g.chance(3) else { return }
      for _ in 0...g.below(3) { spaced.append(Array(" \t\n\r".utf8)[g.below(4)]) }
    }
  }

  private static func hex(_ unit: UInt16, using g: inout Generator) -> [UInt8] {
    let digits = Array(String(format: "%04x", unit).utf8)
    // Mix the case digit by digit.
    return [UInt8(ascii: "\\"), UInt8(ascii: "u")] + digits.map { $0 >= UInt8(ascii: "a") && g.chance(2) ? $0 - 32 : $0 }
  }

  private static let shortEscapes: [UInt32: UInt8] = [
    0x22: UInt8(ascii: "\""), 0x5C: UInt8(ascii: "\\"), 0x2F: UInt8(ascii: "/"), 0x08: UInt8(ascii: "b"),
    0x0C: UInt8(ascii: "f"), 0x0A: UInt8(ascii: "n"), 0x0D: UInt8(ascii: "r"), 0x09: UInt8(ascii: "t"),
  ]

  /// A string token, each scalar written raw or escaped at random.
  static func stringToken(_ s: String, using g: inout Generator) -> [UInt8] {
    var out: [UInt8] = [UInt8(ascii: "\"")]
    for scalar in s.unicodeScalars {
      let v = scalar.value
      let short = shortEscapes[v]
      let mustEscape = v < 0x20 || v == 0x22 || v == 0x5C
      if let short, g.chance(mustEscape ? 1 : 3) && !g.chance(4) {
        out += [UInt8(ascii: "\\"), short]
      } else if mustEscape || g.chance(8) {
        for unit in String(scalar).utf16 { out += hex(unit, using: &g) }
      } else {
        out += Array(String(scalar).utf8)
      }
    }
    out.append(UInt8(ascii: "\""))
    return out
  }

  static func write(_ value: Value, to text: inout Text, using g: inout Generator) {
    switch value {
    case .null: text.token(Array("null".utf8))
    case .bool(let b): text.token(Array((b ? "true" : "false").utf8))
    case .number(let n): text.token(Array(n.utf8))
    case .string(let s): text.token(stringToken(s, using: &g))
    case .array(let elements):
      text.token([UInt8(ascii: "[")])
      for (i, element) in elements.enumerated() {
        if i > 0 { text.token([UInt8(ascii: ",")]) }
        text.whitespace(using: &g)
        write(element, to: &text, using: &g)
        text.whitespace(using: &g)
      }
      if elements.isEmpty { text.whitespace(using: &g) }
      text.token([UInt8(ascii: "]")])
    case .object(let members):
      text.token([UInt8(ascii: "{")])
      for (i, (key, element)) in members.enumerated() {
        if i > 0 { text.token([UInt8(ascii: ",")]) }
        text.whitespace(using: &g)
        text.token(stringToken(key, using: &g))
        text.whitespace(using: &g)
        text.token([UInt8(ascii: ":")])
        text.whitespace(using: &g)
        write(element, to: &text, using: &g)
        text.whitespace(using: &g)
      }
      if members.isEmpty { text.whitespace(using: &g) }
      text.token([UInt8(ascii: "}")])
    }
  }

  /// A whole document: the value with whitespace around it.
  static func document(_ value: Value, using g: inout Generator) -> Text {
    var text = Text()
    text.whitespace(using: &g)
    write(value, to: &text, using: &g)
    text.whitespace(using: &g)
    return text
  }

  /// The bytes a mutation puts in: structure, escapes, digits, controls, UTF-8 pieces.
  static func interestingByte(using g: inout Generator) -> UInt8 {
    if g.chance(4) { return UInt8(truncatingIfNeeded: g.next()) }
    let pool = Array(#"{}[]",:\/"0123456789-+.eEtrufalsn bx "#.utf8) + [0x00, 0x01, 0x09, 0x0A, 0x0D, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xF5, 0xFF]
    return pool[g.below(pool.count)]
  }

  /// One random flip, deletion or insertion of a byte.
  static func mutate(_ bytes: [UInt8], using g: inout Generator) -> [UInt8] {
    var out = bytes
    switch g.below(3) {
    case 0 where !out.isEmpty: out[g.below(out.count)] = interestingByte(using: &g)
    case 1 where !out.isEmpty: out.remove(at: g.below(out.count))
    default: out.insert(interestingByte(using: &g), at: g.below(out.count + 1))
    }
    return out
  }

  // MARK: Comparing with Foundation

  /// Whether Foundation reads `bytes` as something other than plain UTF-8:
  /// it skips a byte-order mark and guesses UTF-16 or UTF-32 from NULs in
  /// the first four bytes. RFC 8259 §8.1 requires UTF-8 without a BOM.
  static func foundationGuessesAnotherEncoding(_ bytes: [UInt8]) -> Bool {
    let boms: [[UInt8]] = [[0xEF, 0xBB, 0xBF], [0xFE, 0xFF], [0xFF, 0xFE], [0x00, 0x00, 0xFE, 0xFF]]
    return boms.contains { bytes.starts(with: $0) } || bytes.prefix(4).contains(0)
  }

  /// If the scanner rejects `bytes` only at a `]` or `}` right after a
  /// comma, the index of that comma. Foundation accepts trailing commas;
  /// RFC 8259 §5 and §4 do not.
  static func trailingComma(_ bytes: [UInt8], _ error: JSONSyntaxError) -> Int? {
    guard error.offset < bytes.count, bytes[error.offset] == UInt8(ascii: "]") || bytes[error.offset] == UInt8(ascii: "}")
    else { return nil }
    var i = error.offset - 1
    while i >= 0, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i -= 1 }
    return i >= 0 && bytes[i] == UInt8(ascii: ",") ? i : nil
  }

  /// Whether a valid document holds a number a Double cannot hold, which
  /// Foundation rejects ("not representable") and RFC 8259 §6 allows.
  static func hasNumberBeyondDouble(_ s: JSONScanner, _ range: Range<Int>) throws -> Bool {
    switch s.kind(at: range.lowerBound) {
    case .number?:
      return Double(text(s, range)).map { !$0.isFinite } ?? true
    case .array?:
      var found = false
      try s.forEachElement(ofArrayAt: range.lowerBound) { found = try hasNumberBeyondDouble(s, $0); return !found }
      return found
    case .object?:
      var found = false
      try s.forEachMember(ofObjectAt: range.lowerBound) { _, v in found = try hasNumberBeyondDouble(s, v); return !found }
      return found
    default:
      return false
    }
  }

  private static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

  static func containsBOM(_ bytes: [UInt8]) -> Bool {
    bytes.count >= 3 && (0...(bytes.count - 3)).contains { bytes[$0..<($0 + 3)].elementsEqual(bom) }
  }

  /// Whether the scanner's decoded text and Foundation's are the same.
  ///
  /// swift-corelibs-foundation drops a raw U+FEFF at the start of a string
  /// and right after an escape (it decodes each unescaped run on its own,
  /// as if it were a whole text with a byte-order mark). RFC 8259 makes
  /// U+FEFF inside a string a character like any other, and the scanner
  /// keeps it; where Foundation's text differs, it is compared without any
  /// U+FEFF on both sides.
  static func sameText(_ mine: [UInt8], _ theirs: [UInt8]) -> Bool {
    if mine == theirs { return true }
    guard containsBOM(mine) else { return false }
    func strip(_ b: [UInt8]) -> [UInt8] {
      var out: [UInt8] = []
      var i = 0
      while i < b.count {
        if i + 3 <= b.count && b[i..<(i + 3)].elementsEqual(bom) { i += 3 } else { out.append(b[i]); i += 1 }
      }
      return out
    }
    return strip(mine) == strip(theirs)
  }

  private static func isBoolean(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }

  /// The first difference between the scanned value at `range` and
  /// Foundation's reading of the same text, or nil when they agree: every
  /// string and key decoded to the same bytes, every number the same.
  static func difference(_ s: JSONScanner, _ range: Range<Int>, _ f: Any, path: String = "$") throws -> String? {
    switch s.kind(at: range.lowerBound) {
    case .string?:
      guard let fs = f as? String else { return "\(path): Foundation has \(type(of: f))" }
      let mine = s.decodeString(contents: (range.lowerBound + 1)..<(range.upperBound - 1))
      return sameText(mine, Array(fs.utf8)) ? nil : "\(path): \(mine) != \(Array(fs.utf8))"
    case .number?:
      guard let n = f as? NSNumber, !isBoolean(n) else { return "\(path): Foundation has \(type(of: f))" }
      let mine = Double(text(s, range))!
      let theirs = n.doubleValue
      let close = mine == theirs || abs(mine - theirs) <= 1e-9 * max(abs(mine), abs(theirs))
      return close ? nil : "\(path): \(text(s, range)) != \(n)"
    case .bool?:
      guard let n = f as? NSNumber, isBoolean(n) else { return "\(path): Foundation has \(type(of: f))" }
      return n.boolValue == (s.bytes[range.lowerBound] == UInt8(ascii: "t")) ? nil : "\(path): bool"
    case .null?:
      return f is NSNull ? nil : "\(path): Foundation has \(type(of: f))"
    case .array?:
      guard let fa = f as? [Any] else { return "\(path): Foundation has \(type(of: f))" }
      var elements: [Range<Int>] = []
      try s.forEachElement(ofArrayAt: range.lowerBound) { elements.append($0); return true }
      guard elements.count == fa.count else { return "\(path): \(elements.count) elements != \(fa.count)" }
      for (i, element) in elements.enumerated() {
        if let d = try difference(s, element, fa[i], path: "\(path)[\(i)]") { return d }
      }
      return nil
    case .object?:
      guard let fo = f as? [String: Any] else { return "\(path): Foundation has \(type(of: f))" }
      var members: [(key: [UInt8], value: Range<Int>)] = []
      try s.forEachMember(ofObjectAt: range.lowerBound) { k, v in members.append((s.decodeString(contents: k), v)); return true }
      let keys = members.map { String(decoding: $0.key, as: UTF8.self) }
      guard Set(keys).count == members.count else { return nil }  // duplicates: which one wins is not compared here
      let theirs = fo.map { (key: Array($0.key.utf8), value: $0.value) }
      let bomInKeys = members.contains { containsBOM($0.key) }
      guard fo.count == members.count else {
        return bomInKeys ? nil : "\(path): \(members.count) members != \(fo.count)"
      }
      for (key, member) in zip(keys, members) {
        guard let match = theirs.first(where: { $0.key == member.key }) ?? theirs.first(where: { sameText(member.key, $0.key) })
        else { return "\(path): Foundation lacks key \(key.debugDescription)" }
        if let d = try difference(s, member.value, match.value, path: "\(path).\(key.debugDescription)") { return d }
      }
      return nil
    case nil:
      return "\(path): no value"
    }
  }

  /// The first difference between the scanned value and the generated one.
  static func difference(_ s: JSONScanner, _ range: Range<Int>, _ v: Value, path: String = "$") throws -> String? {
    switch v {
    case .null: return text(s, range) == "null" ? nil : "\(path): null"
    case .bool(let b): return text(s, range) == (b ? "true" : "false") ? nil : "\(path): bool"
    case .number(let n): return text(s, range) == n ? nil : "\(path): \(text(s, range)) != \(n)"
    case .string(let string):
      guard s.kind(at: range.lowerBound) == .string else { return "\(path): not a string" }
      let mine = s.decodeString(contents: (range.lowerBound + 1)..<(range.upperBound - 1))
      return mine == Array(string.utf8) ? nil : "\(path): \(mine) != \(Array(string.utf8))"
    case .array(let elements):
      var ranges: [Range<Int>] = []
      try s.forEachElement(ofArrayAt: range.lowerBound) { ranges.append($0); return true }
      guard ranges.count == elements.count else { return "\(path): count" }
      for (i, (r, e)) in zip(ranges, elements).enumerated() {
        if let d = try difference(s, r, e, path: "\(path)[\(i)]") { return d }
      }
      return nil
    case .object(let members):
      var found: [(Range<Int>, Range<Int>)] = []
      try s.forEachMember(ofObjectAt: range.lowerBound) { found.append(($0, $1)); return true }
      guard found.count == members.count else { return "\(path): count" }
      for ((k, r), (key, e)) in zip(found, members) {
        guard s.decodeString(contents: k) == Array(key.utf8), s.key(k, equals: Array(key.utf8)) else {
          return "\(path): key \(key.debugDescription)"
        }
        guard try s.member(Array(key.utf8), ofObjectAt: range.lowerBound) == r else { return "\(path): member \(key.debugDescription)" }
        if let d = try difference(s, r, e, path: "\(path).\(key.debugDescription)") { return d }
      }
      return nil
    }
  }
}

@Suite struct JSONScannerFoundationAgreementTests {
  /// Valid random documents: the scanner and Foundation both accept them,
  /// read the same strings and numbers, and the compact copy is exact.
  @Test func randomValidDocumentsAreAcceptedAndReadAlike() throws {
    var g = JSONFuzz.Generator(seed: 0x6261_7463_686C_696E)
    for n in 0..<1500 {
      let value = JSONFuzz.value(using: &g)
      let text = JSONFuzz.document(value, using: &g)
      let foundation = try #require(foundationParse(text.spaced), "Foundation rejects #\(n): \(String(decoding: text.spaced, as: UTF8.self))")
      try scan(text.spaced) { s throws in
        let range = try s.validateDocument()
        if let d = try JSONFuzz.difference(s, range, value) { Issue.record("#\(n) differs from the model: \(d)") }
        if let d = try JSONFuzz.difference(s, range, foundation) { Issue.record("#\(n) differs from Foundation: \(d)") }
        var compact: [UInt8] = []
        JSONWriter.appendCompact(s, range, to: &compact)
        #expect(compact == text.compact, "#\(n)")
        let reparsed = try #require(foundationParse(compact), "Foundation rejects the compact copy of #\(n)")
        if let d = try JSONFuzz.difference(s, range, reparsed) { Issue.record("#\(n) compact copy differs: \(d)") }
      }
    }
  }

  /// One flipped, deleted or inserted byte: the scanner and Foundation
  /// agree on accepting or rejecting, but for the classes documented in
  /// ``JSONFuzz`` where Foundation departs from RFC 8259.
  @Test func mutatedDocumentsAreJudgedAlike() throws {
    var g = JSONFuzz.Generator(seed: 42)
    var compared = 0
    var bothAccepted = 0
    var skippedEncoding = 0
    var strippedCommas = 0
    var skippedNumbers = 0
    for n in 0..<1200 {
      let original = JSONFuzz.document(JSONFuzz.value(using: &g), using: &g).spaced
      for m in 0..<4 {
        var mutated = JSONFuzz.mutate(original, using: &g)
        if g.chance(4) { mutated = JSONFuzz.mutate(mutated, using: &g) }
        if JSONFuzz.foundationGuessesAnotherEncoding(mutated) {
          skippedEncoding += 1
          continue
        }
        let foundation = foundationParse(mutated)
        var candidate = mutated
        var error = validationError(candidate)
        while let e = error, let comma = JSONFuzz.trailingComma(candidate, e) {
          candidate.remove(at: comma)
          strippedCommas += 1
          error = validationError(candidate)
        }
        let accepted = error == nil
        if accepted, foundation == nil, try scan(candidate, { try JSONFuzz.hasNumberBeyondDouble($0, $0.validateDocument()) }) {
          skippedNumbers += 1
          continue
        }
        compared += 1
        let shown = String(decoding: mutated, as: UTF8.self).debugDescription
        #expect(accepted == (foundation != nil), "#\(n).\(m): scanner \(accepted), Foundation \(foundation != nil): \(shown) \(mutated)")
        if accepted, let foundation {
          bothAccepted += 1
          try scan(candidate) { s throws in
            if let d = try JSONFuzz.difference(s, try s.validateDocument(), foundation) { Issue.record("#\(n).\(m): \(d): \(shown)") }
          }
        }
      }
    }
    #expect(compared > 4000)
    #expect(bothAccepted > 250)
    #expect(skippedEncoding + skippedNumbers < 250)
    #expect(strippedCommas > 0)
  }

  /// Short random strings over JSON's alphabet: every verdict agrees.
  @Test func randomShortTextsAreJudgedAlike() throws {
    var g = JSONFuzz.Generator(seed: 7)
    let alphabet = Array(#"[]{}",:\/0123456789-+.eEtrufalsn u "#.utf8) + [0x09, 0x0A, 0x0D, 0x01, 0xC3, 0xA9, 0xFF]
    var accepted = 0
    for _ in 0..<10000 {
      var bytes: [UInt8] = []
      for _ in 0..<(1 + g.below(10)) { bytes.append(alphabet[g.below(alphabet.count)]) }
      if JSONFuzz.foundationGuessesAnotherEncoding(bytes) { continue }
      var candidate = bytes
      var error = validationError(candidate)
      while let e = error, let comma = JSONFuzz.trailingComma(candidate, e) {
        candidate.remove(at: comma)
        error = validationError(candidate)
      }
      let mine = error == nil
      let theirs = foundationParse(bytes) != nil
      if mine, !theirs, try scan(candidate, { try JSONFuzz.hasNumberBeyondDouble($0, $0.validateDocument()) }) { continue }
      if mine { accepted += 1 }
      #expect(mine == theirs, "\(String(decoding: bytes, as: UTF8.self).debugDescription) \(bytes)")
    }
    #expect(accepted > 250)
  }

  /// The classes skipped above are real: Foundation does depart there.
  @Test func foundationsDeparturesFromRFC8259AreTheDocumentedOnes() throws {
    #expect(foundationParse(Array("[1,]".utf8)) != nil)
    #expect(foundationParse(Array(#"{"a":1,}"#.utf8)) != nil)
    #expect(!isValid("[1,]"))
    #expect(foundationParse([0xEF, 0xBB, 0xBF, 0x31]) != nil)
    #expect(foundationParse([0x31, 0x00]) != nil)  // read as UTF-16LE "1"
    #expect(foundationParse(Array("1e400".utf8)) == nil)
    #expect(isValid("1e400"))
    // A raw U+FEFF that starts a string (or follows an escape) is dropped.
    #expect(foundationParse(Array("\"\u{FEFF}b\"".utf8)) as? String == "b")
    #expect(try decodedString("\"\u{FEFF}b\"") == Array("\u{FEFF}b".utf8))
  }
}

