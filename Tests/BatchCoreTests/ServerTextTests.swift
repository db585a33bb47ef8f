import Foundation
import Testing

@testable import BatchCore

@Suite struct ServerTextTests {
  private let payload =
    "\u{1B}]0;owned\u{07}\u{1B}[2J\u{1B}[1;31m\u{9B}2J\u{0}\u{8}\r\u{7F}\u{202E} key=azure-key-0123 leaked=sk-proj-Leak0123456789"

  @Test func controlsAndSecretsAreRemoved() {
    let text = ServerText.clean("bad " + payload, key: "azure-key-0123")
    #expect(!text.unicodeScalars.contains { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) || $0 == "\u{202E}" })
    #expect(!text.contains("azure-key-0123"))
    #expect(!text.contains("sk-proj-Leak"))
    #expect(text.hasPrefix("bad ]0;owned[2J[1;31m2J"))
    #expect(text.contains("key=***"))
  }

  @Test func plainTextIsKeptAndLongTextIsCutWithAnEllipsis() {
    #expect(ServerText.clean("Enqueued token limit reached, ünïcode ✓") == "Enqueued token limit reached, ünïcode ✓")
    #expect(ServerText.clean("line one\nline\ttwo") == "line one line two")
    let long = ServerText.clean(String(repeating: "é", count: 10_000), limit: 50)
    #expect(long.count == 50)
    #expect(long.hasSuffix("…"))
  }

  @Test func aHostileBatchDecodesToSafeText() throws {
    let json = """
      {"id":"batch_1","status":"in_progress\(jsonEscaped(payload))","model":"gpt-4o-mini\(jsonEscaped(payload))",\
      "errors":{"object":"list","data":[{"code":"\\u001b]0;invalid_request\\u0007","message":"boom \(jsonEscaped(payload))"}]}}
      """
    let decoder = JSONDecoder()
    decoder.userInfo[.apiKey] = "azure-key-0123"
    let batch = try decoder.decode(Batch.self, from: Data(json.utf8))
    let texts = [batch.status.rawValue, batch.model!, batch.errors!.data[0].code!, batch.errors!.data[0].message!]
    for text in texts {
      #expect(!text.unicodeScalars.contains { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) })
      #expect(!text.contains("azure-key-0123") && !text.contains("sk-proj-Leak"))
    }
    #expect(!batch.status.isTerminal)
    #expect(batch.status.rawValue.count <= 64)
  }

  @Test func anHTTPErrorMessageIsCleaned() throws {
    let json = #"{"error":{"message":"no \u001b[2J way sk-abc123456","code":"\u001b[2Jbad","type":"x"}}"#
    let detail = try JSONDecoder().decode(APIErrorEnvelope.self, from: Data(json.utf8)).error!
    #expect(detail.message == "no [2J way ***")
    #expect(detail.code == "[2Jbad")
  }

  private func jsonEscaped(_ text: String) -> String {
    let data = try! JSONEncoder().encode(text)
    return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
  }
}
