#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing

@testable import BatchCore

private func contents(_ path: String) throws -> [UInt8] {
  Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

private func write(_ bytes: [UInt8], to path: String) throws {
  try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// Everything in `directory`, hidden files included, sorted.
private func listing(_ directory: String) throws -> [String] {
  try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
}

private func permissions(_ path: String) throws -> mode_t {
  var info = stat()
  try #require(stat(path, &info) == 0)
  return info.st_mode & 0o777
}

@Suite struct BufferedWriterTests {
  /// Opens `path` for writing and runs `body` with a writer of `capacity`.
  private func withWriter(_ path: String, capacity: Int, _ body: (BufferedWriter) throws -> Void) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    try #require(fd >= 0)
    defer { close(fd) }
    try body(BufferedWriter(fd: fd, name: "out", capacity: capacity))
  }

  @Test func bytesArriveExactlyAsWritten() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/out"
      var g = JSONFuzz.Generator(seed: 12)
      var expected: [UInt8] = []
      try withWriter(path, capacity: 16) { writer in
        for _ in 0..<2000 {
          let size = [0, 1, 5, 15, 16, 17, 31, 32, 33, 100][g.below(10)]
          let piece = (0..<size).map { _ in UInt8(truncatingIfNeeded: g.next() & 0x7F) }
          switch g.below(3) {
          case 0: try writer.write(piece)
          case 1: try piece.withUnsafeBufferPointer { try writer.write($0) }
          default: try writer.write(String(decoding: piece, as: UTF8.self))
          }
          expected += piece
        }
        try writer.flush()
        #expect(writer.bytesWritten == expected.count)
      }
      #expect(try contents(path) == expected)
    }
  }

  @Test func nothingIsWrittenUntilTheBufferFillsOrIsFlushed() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/out"
      try withWriter(path, capacity: 8) { writer in
        try writer.write(Array("abcde".utf8))
        #expect(try contents(path) == [])
        try writer.write(Array("fgh".utf8))  // exactly full: still buffered
        #expect(try contents(path) == [])
        try writer.write(Array("i".utf8))  // over: the buffer goes out first
        #expect(try contents(path) == Array("abcdefgh".utf8))
        try writer.write(Array("0123456789".utf8))  // larger than the buffer: straight through, in order
        #expect(try contents(path) == Array("abcdefghi0123456789".utf8))
        try writer.write("é")
        try writer.flush()
        #expect(try contents(path) == Array("abcdefghi0123456789é".utf8))
        try writer.flush()
        #expect(writer.bytesWritten == 21)
      }
    }
  }

  @Test func aWriteErrorNamesTheFile() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/read-only"
      try write([], to: path)
      let fd = open(path, O_RDONLY)
      try #require(fd >= 0)
      defer { close(fd) }
      let writer = BufferedWriter(fd: fd, name: "shown.jsonl", capacity: 4)
      try writer.write(Array("ab".utf8))
      do {
        try writer.flush()
        Issue.record("no error")
      } catch let error as ToolError {
        #expect(error.status == .failure)
        #expect(error.message == "cannot write 'shown.jsonl': Bad file descriptor")
      }
    }
  }
}

@Suite struct AtomicFileTests {
  @Test(arguments: [false, true])
  func commitCreatesTheFile(durable: Bool) throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/target.jsonl"
      let file = try AtomicFile(path: path, durable: durable)
      #expect(file.path == path)
      #expect(file.displayName == path)
      try file.writer.write(Array("hello\n".utf8))
      try file.commit()
      #expect(try contents(path) == Array("hello\n".utf8))
      #expect(try permissions(path) == 0o644)
      #expect(try listing(directory) == ["target.jsonl"])
    }
  }

  @Test func theTemporaryFileIsHiddenBesideTheTarget() throws {
    try withTemporaryDirectory { directory in
      let file = try AtomicFile(path: directory + "/out.jsonl", displayName: "out.jsonl")
      #expect(file.displayName == "out.jsonl")
      #expect(file.temporaryPath.hasPrefix(directory + "/.out.jsonl.tmp."))
      #expect(try listing(directory) == [String(file.temporaryPath.dropFirst(directory.count + 1))])
      file.abandon()
    }
  }

  /// Until the commit the target keeps its old bytes, even with megabytes
  /// already written; the commit swaps in a new file rather than rewriting
  /// the old one, so a reader that had it open still sees the old bytes.
  @Test(arguments: [false, true])
  func commitReplacesTheTargetAtomically(durable: Bool) throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/target"
      try write(Array("old\n".utf8), to: path)
      let oldInode = inode(path)
      let reader = open(path, O_RDONLY)
      try #require(reader >= 0)
      defer { close(reader) }

      let new = [UInt8](repeating: UInt8(ascii: "n"), count: 3 << 20)
      let file = try AtomicFile(path: path, durable: durable)
      try file.writer.write(new)
      try file.writer.flush()
      #expect(try contents(path) == Array("old\n".utf8))
      #expect(try contents(file.temporaryPath).count == new.count)

      try file.commit()
      #expect(try contents(path) == new)
      #expect(inode(path) != oldInode)
      var buffer = [UInt8](repeating: 0, count: 16)
      #expect(read(reader, &buffer, 16) == 4)
      #expect(Array(buffer.prefix(4)) == Array("old\n".utf8))
      #expect(try listing(directory) == ["target"])
    }
  }

  @Test func abandonLeavesTheTargetUntouched() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/target"
      try write(Array("old\n".utf8), to: path)
      let file = try AtomicFile(path: path)
      try file.writer.write([UInt8](repeating: 1, count: 2 << 20))
      try file.writer.flush()
      file.abandon()
      file.abandon()  // harmless
      #expect(try contents(path) == Array("old\n".utf8))
      #expect(try listing(directory) == ["target"])
      // A commit after abandon fails and changes nothing.
      #expect(throws: ToolError.self) { try file.commit() }
      #expect(try contents(path) == Array("old\n".utf8))
      #expect(try listing(directory) == ["target"])
    }
  }

  @Test func aSecondCommitFailsAndChangesNothing() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/target"
      let file = try AtomicFile(path: path, displayName: "target")
      try file.writer.write(Array("one".utf8))
      try file.commit()
      do {
        try file.commit()
        Issue.record("no error")
      } catch let error as ToolError {
        #expect(error.message == "cannot write 'target': already committed or abandoned")
      }
      #expect(try contents(path) == Array("one".utf8))
      #expect(try listing(directory) == ["target"])
    }
  }

  @Test func droppingTheFileWithoutCommitLeavesTheTargetUntouched() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/target"
      try write(Array("old\n".utf8), to: path)
      func writeAndForget() throws -> String {
        let file = try AtomicFile(path: path)
        try file.writer.write(Array("half-written".utf8))
        try file.writer.flush()
        #expect(FileManager.default.fileExists(atPath: file.temporaryPath))
        return file.temporaryPath
      }
      let temporary = try writeAndForget()
      #expect(!FileManager.default.fileExists(atPath: temporary))
      #expect(try contents(path) == Array("old\n".utf8))
      #expect(try listing(directory) == ["target"])

      // Never created: no target, no leftovers.
      try FileManager.default.removeItem(atPath: path)
      _ = try AtomicFile(path: path)
      #expect(try listing(directory) == [])
    }
  }

  @Test func writeReplacesInOneCall() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/status.json"
      try AtomicFile.write(Array("{}".utf8), to: path, durable: true)
      try AtomicFile.write(Array(#"{"a":1}"#.utf8), to: path, durable: false)
      #expect(try contents(path) == Array(#"{"a":1}"#.utf8))
      #expect(try listing(directory) == ["status.json"])
    }
  }

  @Test func aMissingDirectoryIsAnErrorNamingTheFile() throws {
    try withTemporaryDirectory { directory in
      do {
        _ = try AtomicFile(path: directory + "/no/such/file", displayName: "no/such/file")
        Issue.record("no error")
      } catch let error as ToolError {
        #expect(error.status == .failure)
        #expect(error.message == "cannot write 'no/such/file': No such file or directory")
      }
    }
  }

  @Test func aFailedRenameLeavesNothingBehind() throws {
    try withTemporaryDirectory { directory in
      // The target is a directory that is not empty: rename(2) refuses.
      let path = directory + "/taken"
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
      try write(Array("keep".utf8), to: path + "/inside")
      let file = try AtomicFile(path: path, displayName: "taken")
      try file.writer.write(Array("new".utf8))
      do {
        try file.commit()
        Issue.record("no error")
      } catch let error as ToolError {
        #expect(error.status == .failure)
        #expect(error.message.hasPrefix("cannot write 'taken': "))
      }
      #expect(try listing(directory) == ["taken"])
      #expect(try contents(path + "/inside") == Array("keep".utf8))
    }
  }

  @Test(arguments: [
    ("a/b", "a", "b"), ("b", ".", "b"), ("/b", "/", "b"), ("a/b/c.jsonl", "a/b", "c.jsonl"), ("./x", ".", "x"),
    ("/tmp/run/status.json", "/tmp/run", "status.json"),
  ])
  func splitPathSeparatesDirectoryAndName(path: String, directory: String, base: String) {
    let split = splitPath(path)
    #expect(split.directory == directory)
    #expect(split.base == base)
  }
}
