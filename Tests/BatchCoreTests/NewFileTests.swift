#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing

@testable import BatchCore

/// Issue 12, item 4: a file batchline creates is new, never what a planted
/// symlink or a stale file points at.
@Suite struct NewFileTests {
  private func text(_ path: String) throws -> String {
    try String(contentsOfFile: path, encoding: .utf8)
  }

  /// A file `precious.txt` in `directory`, and a symlink to it where batchline writes.
  private func plantedSymlink(in directory: String) throws -> (precious: String, planted: String) {
    let precious = directory + "/precious.txt"
    try "precious\n".write(toFile: precious, atomically: false, encoding: .utf8)
    let planted = directory + "/batch_001.jsonl.part"
    try #require(symlink(precious, planted) == 0)
    return (precious, planted)
  }

  /// `createNewFile(path)`'s descriptor (closed) or errno.
  private func created(_ path: String) -> (fd: Int32, error: Int32) {
    let fd = createNewFile(path)
    let error = errno
    if fd >= 0 { close(fd) }
    return (fd, error)
  }

  @Test func aSymlinkOrAFileAlreadyThereIsRefused() throws {
    try withTemporaryDirectory { directory in
      let (precious, planted) = try plantedSymlink(in: directory)
      let dangling = directory + "/.status.json.tmp.AbC123"
      try #require(symlink(directory + "/nowhere", dangling) == 0)
      for path in [planted, dangling, precious] {
        let result = created(path)
        #expect(result.fd < 0 && result.error == EEXIST, "\(path)")
      }
      #expect(try text(precious) == "precious\n")
      #expect(access(directory + "/nowhere", F_OK) != 0)
    }
  }

  @Test func aStaleEntryIsReplacedNotFollowed() throws {
    try withTemporaryDirectory { directory in
      let (precious, planted) = try plantedSymlink(in: directory)
      let fd = createReplacingStale(planted)
      try #require(fd >= 0)
      close(fd)
      var info = stat()
      try #require(lstat(planted, &info) == 0)
      #expect(info.st_mode & S_IFMT == S_IFREG)
      #expect(info.st_size == 0)
      #expect(try text(precious) == "precious\n")
    }
  }
}
