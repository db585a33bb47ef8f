import Foundation

/// Token tallies by model, keyed by the model's bytes so that the name is
/// decoded once per model, not once per line.
struct ModelTallies {
  private var keys: [[UInt8]] = []
  private var names: [String] = []
  private var tallies: [TokenTally] = []
  private var scratch: [UInt8] = []

  /// Adds a tally for the model whose name is the escaped string contents `escaped`.
  mutating func add(_ tally: TokenTally, escapedModel escaped: UnsafeBufferPointer<UInt8>) {
    if !escaped.contains(UInt8(ascii: "\\")) {
      add(tally, key: escaped)
      return
    }
    scratch.removeAll(keepingCapacity: true)
    JSONScanner(escaped).appendDecodedString(contents: 0..<escaped.count, to: &scratch)
    let decoded = scratch
    decoded.withUnsafeBufferPointer { add(tally, key: $0) }
  }

  /// Adds a tally for the model `name`.
  mutating func add(_ tally: TokenTally, model name: String) {
    var name = name
    name.withUTF8 { add(tally, key: $0) }
  }

  private mutating func add(_ tally: TokenTally, key: UnsafeBufferPointer<UInt8>) {
    for n in keys.indices.reversed() where keys[n].count == key.count {
      let same = keys[n].withUnsafeBufferPointer { key.count == 0 || memcmp($0.baseAddress!, key.baseAddress!, key.count) == 0 }
      if same {
        tallies[n] += tally
        return
      }
    }
    keys.append(Array(key))
    names.append(String(decoding: key, as: UTF8.self))
    tallies.append(tally)
  }

  func forEach(_ body: (String, TokenTally) -> Void) {
    for n in names.indices { body(names[n], tallies[n]) }
  }
}
