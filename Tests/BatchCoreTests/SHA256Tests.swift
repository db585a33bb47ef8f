import Foundation
import Testing

@testable import BatchCore

/// The digest by the portable code; the test fails if OpenSSL's differs.
private func digest(_ bytes: [UInt8]) -> String {
  var portable = SHA256(portableOnly: true)
  var native = SHA256()
  bytes.withUnsafeBytes {
    portable.update($0)
    native.update($0)
  }
  let result = portable.finalizeHex()
  #expect(native.finalizeHex() == result)
  return result
}

private func digest(_ text: String) -> String { digest(Array(text.utf8)) }

@Suite struct SHA256Tests {
  /// FIPS 180-2 appendix B and the NIST examples.
  @Test(arguments: [
    ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    ),
    (
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
    ),
  ])
  func fipsVectors(message: String, expected: String) {
    #expect(digest(message) == expected)
  }

  @Test func oneMillionAs() {
    let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
    #expect(digest(message) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  /// Systems with libcurl have libcrypto, so the fast path is the one that
  /// runs on Linux with glibc.
  @Test func openSSLIsUsedOnLinux() {
    #if canImport(Glibc)
      #expect(SHA256().usesOpenSSL)
    #endif
    #expect(!SHA256(portableOnly: true).usesOpenSSL)
  }

  /// A copy taken mid-message goes on independently of the original.
  @Test(arguments: [false, true]) func copiesAreIndependent(portableOnly: Bool) {
    var first = SHA256(portableOnly: portableOnly)
    Array("ab".utf8).withUnsafeBytes { first.update($0) }
    var second = first
    Array("c".utf8).withUnsafeBytes { first.update($0) }
    Array("d".utf8).withUnsafeBytes { second.update($0) }
    #expect(first.finalizeHex() == digest("abc"))
    #expect(second.finalizeHex() == digest("abd"))
    // Finishing the original leaves a copy's message as it was.
    var original = SHA256(portableOnly: portableOnly)
    Array("ab".utf8).withUnsafeBytes { original.update($0) }
    var copy = original
    #expect(original.finalizeHex() == digest("ab"))
    Array("c".utf8).withUnsafeBytes { copy.update($0) }
    #expect(copy.finalizeHex() == digest("abc"))
  }

  /// The same bytes fed in uneven pieces give the same digest.
  @Test(arguments: [false, true]) func piecesMakeNoDifference(portableOnly: Bool) {
    var g = JSONFuzz.Generator(seed: 1)
    let message = (0..<100_000).map { _ in UInt8(truncatingIfNeeded: g.next()) }
    let whole = digest(message)
    for _ in 0..<3 {
      var hasher = SHA256(portableOnly: portableOnly)
      var i = 0
      while i < message.count {
        let n = min(message.count - i, [0, 1, 7, 55, 56, 63, 64, 65, 1000, 4096][g.below(10)])
        message.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[i..<(i + n)])) }
        i += n
      }
      #expect(hasher.finalizeHex() == whole)
    }
  }

  /// Lengths around the 56-byte padding boundary and the 64-byte block.
  @Test(arguments: [
    (1, "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"),
    (55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
    (56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
    (57, "f13b2d724659eb3bf47f2dd6af1accc87b81f09f59f2b75e5c0bed6589dfe8c6"),
    (63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"),
    (64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
    (65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"),
    (111, "6374f73208854473827f6f6a3f43b1f53eaa3b82c21c1a6d69a2110b2a79baad"),
    (119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"),
    (120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"),
    (127, "c57e9278af78fa3cab38667bef4ce29d783787a2f731d4e12200270f0c32320a"),
    (128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e"),
    (129, "c12cb024a2e5551cca0e08fce8f1c5e314555cc3fef6329ee994a3db752166ae"),
    (1000, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"),
  ])
  func paddingBoundaries(length: Int, expected: String) {
    let message = [UInt8](repeating: UInt8(ascii: "a"), count: length)
    #expect(digest(message) == expected)
    // Byte by byte, through the partial-block path.
    for portableOnly in [false, true] {
      var hasher = SHA256(portableOnly: portableOnly)
      for byte in message { [byte].withUnsafeBytes { hasher.update($0) } }
      #expect(hasher.finalizeHex() == expected)
    }
  }

  @Test func everyByteValue() {
    let message = Array([[UInt8]](repeating: Array(0...255), count: 10).joined())
    #expect(digest(message) == "e392378f849d67bbb1a7bbec84f1098ae3faa751049c009a850130ce6073d91a")
  }

  @Test func aRandomFileHashesAsSha256sumDoes() throws {
    let directory = NSTemporaryDirectory() + "SHA256Tests." + UUID().uuidString
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/random.bin"
    var g = JSONFuzz.Generator(seed: 3)
    var bytes = [UInt8](repeating: 0, count: 3 * 1_000_000 + 17)  // not a whole number of 1 MiB reads nor of blocks
    bytes.withUnsafeMutableBytes { raw in
      let words = raw.bindMemory(to: UInt64.self)
      for i in words.indices { words[i] = g.next() }
    }
    try Data(bytes).write(to: URL(fileURLWithPath: path))

    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    process.arguments = [path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let reference = String(decoding: output, as: UTF8.self).prefix(64)
    #expect(reference.count == 64)

    #expect(try SHA256.hexDigest(ofFile: path) == String(reference))
  }

  @Test func aMissingFileIsNoInput() {
    let path = NSTemporaryDirectory() + "SHA256Tests.missing." + UUID().uuidString
    do {
      _ = try SHA256.hexDigest(ofFile: path)
      Issue.record("no error")
    } catch let error as ToolError {
      #expect(error.status == .noInput)
      #expect(error.message == "cannot read '\(path)': No such file or directory")
    } catch {
      Issue.record("\(error)")
    }
  }

  @Test func wordsKeepTheirLeadingZeros() {
    // The second word of this digest is 003ccbc6.
    #expect(digest("batchline 14") == "c9baceab003ccbc665d6c6fb3cea6138d01a6b1d317e61b0f8b2cd477bb12f8e")
  }
}
