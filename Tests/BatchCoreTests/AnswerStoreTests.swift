import Foundation
import Testing

@testable import BatchCore

/// The store of answers: found by digest across segments, written whole,
/// and never trusted when damaged.
@Suite struct AnswerStoreTests {
  private func digest(_ text: String) -> RequestDigest {
    let key = RequestDigest.key(provider: "openai", baseURL: "https://api.openai.com/v1", endpoint: "/v1/chat/completions")
    return Array(text.utf8).withUnsafeBufferPointer { RequestDigest(key: key, body: $0) }
  }

  private func write(_ answers: [(String, String)], to directory: String, name: String) throws {
    let writer = try AnswerSegmentWriter(directory: directory, name: name)
    for (body, line) in answers {
      try Array(line.utf8).withUnsafeBufferPointer { try writer.add($0, digest: digest(body)) }
    }
    try writer.commit()
  }

  private func lookup(_ store: AnswerStore, _ body: String) -> String? {
    store.answer(for: digest(body)).map { String(decoding: $0, as: UTF8.self) }
  }

  @Test func answersAreFoundByDigestInEverySegment() throws {
    let scratch = try ScratchDirectory("answers")
    let directory = scratch.path + "/store"
    // Many records, so that the search by halves has somewhere to go.
    try write((0..<500).map { ("{\"n\":\($0)}", "answer \($0)") }, to: directory, name: "run-a-batch_001")
    try write([("{\"n\":\"other\"}", "another answer")], to: directory, name: "run-b-batch_001")
    let store = AnswerStore(directory: directory)
    #expect(!store.isEmpty)
    for n in [0, 1, 249, 250, 498, 499] { #expect(lookup(store, "{\"n\":\(n)}") == "answer \(n)") }
    #expect(lookup(store, "{\"n\":\"other\"}") == "another answer")
    #expect(lookup(store, "{\"n\":500}") == nil)
    #expect(AnswerStore(directory: scratch.path + "/none").isEmpty)
  }

  @Test func aDamagedSegmentIsLeftOut() throws {
    let scratch = try ScratchDirectory("answers")
    let directory = scratch.path + "/store"
    try write([("{\"n\":1}", "one"), ("{\"n\":2}", "two")], to: directory, name: "good")
    try write([("{\"n\":3}", "three")], to: directory, name: "answers-changed")
    try write([("{\"n\":4}", "four")], to: directory, name: "index-changed")
    // One answer changed in place (same size), one record's offset changed.
    var answers = try Data(contentsOf: URL(fileURLWithPath: directory + "/answers-changed.answers"))
    answers[0] = UInt8(ascii: "T")
    try answers.write(to: URL(fileURLWithPath: directory + "/answers-changed.answers"))
    var index = try Data(contentsOf: URL(fileURLWithPath: directory + "/index-changed.index"))
    index[AnswerStore.headerSize + 32] ^= 1
    try index.write(to: URL(fileURLWithPath: directory + "/index-changed.index"))
    // An answers file whose index was never written is no segment.
    try writeText("orphan\n", to: directory + "/half.answers")

    let store = AnswerStore(directory: directory)
    #expect(lookup(store, "{\"n\":1}") == "one")
    #expect(lookup(store, "{\"n\":3}") == nil)
    #expect(lookup(store, "{\"n\":4}") == nil)
    #expect(store.names == ["good", "answers-changed", "index-changed"])
  }
}
