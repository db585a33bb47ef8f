#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing

@testable import BatchCore

/// A line as read, with where the reader stood just after it.
private struct ReadLine: Equatable {
  var bytes: [UInt8]
  var lineNumber: Int
  var offset: Int
}

/// Every line of `bytes`, read back from a file through a reader with `bufferSize`.
private func readLines(_ bytes: [UInt8], bufferSize: Int = 1 << 20) throws -> [ReadLine] {
  try withTemporaryDirectory { directory in
    let path = directory + "/input.jsonl"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let reader = try LineReader(path: path, bufferSize: bufferSize)
    #expect(reader.lineNumber == 0 && reader.offset == 0)
    var lines: [ReadLine] = []
    try reader.forEachLine { line in
      lines.append(ReadLine(bytes: Array(line), lineNumber: reader.lineNumber, offset: reader.offset))
      return true
    }
    #expect(try reader.nextLine() == nil)
    #expect(reader.offset == bytes.count)
    return lines
  }
}

/// The lines a reader must hand out, computed the simple way.
private func expectedLines(_ bytes: [UInt8]) -> [[UInt8]] {
  var parts = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
  if parts.last == [] { parts.removeLast() }  // a final newline ends the last line, it does not start one
  return parts.map { $0.last == 0x0D ? Array($0.dropLast()) : $0 }
}

@Suite struct LineReaderTests {
  @Test(arguments: [
    ("a\nb\nc\n", ["a", "b", "c"]), ("a\nb", ["a", "b"]), ("a\r\nb\r\n", ["a", "b"]), ("a\r\nb", ["a", "b"]),
    ("a\rb\n", ["a\rb"]), ("a\n\nb\n", ["a", "", "b"]), ("\n", [""]), ("", []), ("\r\n", [""]), ("\n\n", ["", ""]),
    ("abc\r", ["abc"]), ("a\r\r\n", ["a\r"]), ("\r", [""]), ("x\n\r\n\ny", ["x", "", "", "y"]), ("\r\n\r\n", ["", ""]),
    ("é😀\n\u{0}\n", ["é😀", "\u{0}"]), ("{\"a\":1}\n{\"b\":2}\n", ["{\"a\":1}", "{\"b\":2}"]), ("no newline at all", ["no newline at all"]),
  ] as [(String, [String])])
  func linesLoseTheirEndings(text: String, expected: [String]) throws {
    for bufferSize in [1, 2, 3, 4, 7, 64, 1 << 20] {
      let lines = try readLines(Array(text.utf8), bufferSize: bufferSize)
      #expect(lines.map { String(decoding: $0.bytes, as: UTF8.self) } == expected, "buffer \(bufferSize)")
      #expect(lines.map(\.lineNumber) == Array(0..<expected.count).map { $0 + 1 })
    }
  }

  @Test func lineNumbersAndOffsetsCountEveryByte() throws {
    let lines = try readLines(Array("ab\r\ncd\n\nlast".utf8), bufferSize: 3)
    #expect(lines == [
      ReadLine(bytes: Array("ab".utf8), lineNumber: 1, offset: 4),
      ReadLine(bytes: Array("cd".utf8), lineNumber: 2, offset: 7),
      ReadLine(bytes: [], lineNumber: 3, offset: 8),
      ReadLine(bytes: Array("last".utf8), lineNumber: 4, offset: 12),
    ])
  }

  @Test func aLineOfThreeMegabytesIsReadWhole() throws {
    var long = [UInt8](repeating: 0, count: 3 << 20)
    for i in long.indices { long[i] = UInt8(ascii: "a") + UInt8(i % 26) }
    let bytes = Array("first\n".utf8) + long + Array("\r\nsecond\n".utf8) + long + Array("\ntail".utf8)
    let lines = try readLines(bytes)
    #expect(lines.count == 5)
    #expect(lines.map(\.bytes.count) == [5, long.count, 6, long.count, 4])
    #expect(lines[1].bytes == long)
    #expect(lines[3].bytes == long)
    #expect(lines[3].offset == 6 + long.count + 2 + 7 + long.count + 1)
    #expect(lines.last?.bytes == Array("tail".utf8))
  }

  /// Tiny lines, blank lines and CRLF endings against small buffers, so
  /// that every line and every `\r\n` straddles a boundary somewhere.
  @Test(arguments: [1, 2, 3, 5, 8, 13, 64, 4096])
  func manyTinyLinesAcrossBufferBoundaries(bufferSize: Int) throws {
    var g = JSONFuzz.Generator(seed: UInt64(bufferSize))
    var bytes: [UInt8] = []
    for _ in 0..<5000 {
      for _ in 0..<g.below(12) {
        let pool = Array("abc{}\":,\r é".utf8)
        bytes.append(pool[g.below(pool.count)])
      }
      if bytes.last == 0x0D { bytes.append(UInt8(ascii: "x")) }  // a \r just before the ending would be taken for CRLF
      bytes += g.chance(3) ? [0x0D, 0x0A] : [0x0A]
    }
    bytes += Array("last line without newline".utf8)
    let lines = try readLines(bytes, bufferSize: bufferSize)
    let expected = expectedLines(bytes)
    #expect(lines.count == 5001)
    #expect(lines.map(\.bytes) == expected)
    #expect(lines.map(\.lineNumber) == Array(1...expected.count))
    // Offsets: each line's bytes and ending, added up.
    var offset = 0
    var offsetsMatch = true
    for line in lines {
      offset += line.bytes.count
      if offset < bytes.count, bytes[offset] == 0x0D { offset += 1 }
      if offset < bytes.count, bytes[offset] == 0x0A { offset += 1 }
      if line.offset != offset { offsetsMatch = false }
    }
    #expect(offsetsMatch)
    #expect(offset == bytes.count)
  }

  @Test func stoppingEarlyLeavesTheRestToRead() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/three"
      try Data("one\ntwo\nthree\n".utf8).write(to: URL(fileURLWithPath: path))
      let reader = try LineReader(path: path, bufferSize: 4)
      var seen: [String] = []
      try reader.forEachLine { line in
        seen.append(String(decoding: line, as: UTF8.self))
        return seen.count < 2
      }
      #expect(seen == ["one", "two"])
      #expect(reader.lineNumber == 2)
      #expect(reader.offset == 8)
      let next = try #require(try reader.nextLine())
      #expect(String(decoding: next, as: UTF8.self) == "three")
      #expect(try reader.nextLine() == nil)
      #expect(try reader.nextLine() == nil)
      #expect(reader.lineNumber == 3)
    }
  }

  @Test func aLineLongerThanTheLimitIsBadDataWithItsLine() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/long"
      try Data(("short\n" + String(repeating: "x", count: 100) + "\nafter\n").utf8).write(to: URL(fileURLWithPath: path))
      let reader = try LineReader(path: path, displayName: "out/batch_001.jsonl", bufferSize: 16, maxLineBytes: 64)
      #expect(try reader.nextLine().map { String(decoding: $0, as: UTF8.self) } == "short")
      let error = toolError { _ = try reader.nextLine() }
      #expect(error?.status == .dataError)
      #expect(error?.message == "out/batch_001.jsonl:2: line longer than 64 bytes")
    }
  }

  @Test func aMissingFileIsNoInput() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/missing.jsonl"
      do {
        _ = try LineReader(path: path)
        Issue.record("no error")
      } catch let error as ToolError {
        #expect(error.status == .noInput)
        #expect(error.message == "cannot read '\(path)': No such file or directory")
      }
      do {
        _ = try LineReader(path: path, displayName: "items.jsonl")
        Issue.record("no error")
      } catch let error as ToolError {
        #expect(error.status == .noInput)
        #expect(error.message == "cannot read 'items.jsonl': No such file or directory")
      }
    }
  }

  @Test func aDirectoryFailsOnRead() throws {
    try withTemporaryDirectory { directory in
      let reader = try LineReader(path: directory, displayName: "dir")
      do {
        _ = try reader.nextLine()
        Issue.record("no error")
      } catch let error as ToolError {
        #expect(error.status == .failure)
        #expect(error.message == "cannot read 'dir': Is a directory")
      }
    }
  }

  @Test func theNameIsThePathOrTheDisplayName() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/f"
      try Data().write(to: URL(fileURLWithPath: path))
      #expect(try LineReader(path: path).name == path)
      #expect(try LineReader(path: path, displayName: "shown").name == "shown")
      #expect(try LineReader(path: path).nextLine() == nil)
    }
  }

  /// `-` reads standard input, here a file put on descriptor 0 for the test.
  @Test func aDashReadsStandardInput() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/stdin"
      try Data("x\r\ny\n\nz".utf8).write(to: URL(fileURLWithPath: path))
      let file = open(path, O_RDONLY)
      try #require(file >= 0)
      let saved = dup(0)
      try #require(saved >= 0)
      dup2(file, 0)
      close(file)
      defer {
        dup2(saved, 0)
        close(saved)
      }
      let reader = try LineReader(path: "-", bufferSize: 2)
      #expect(reader.name == "<stdin>")
      var lines: [String] = []
      try reader.forEachLine { lines.append(String(decoding: $0, as: UTF8.self)); return true }
      #expect(lines == ["x", "y", "", "z"])
      #expect(try LineReader(path: "-", displayName: "stdin").name == "stdin")
    }
    // Standard input stays open after its reader is gone.
    #expect(fcntl(0, F_GETFD) != -1)
  }
}
