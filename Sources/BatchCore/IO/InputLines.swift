#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The lines of a file, as ``LineReader`` hands them out (without `\n` or
/// `\r\n`, the last one with or without), read through a mapping when the
/// file is a regular file and with ``LineReader`` otherwise.
final class InputLines {
  /// The name used in messages.
  let name: String
  private let mapped: MappedFile?
  private let reader: LineReader?
  @exclusivity(unchecked) private var position = 0
  @exclusivity(unchecked) private var number = 0
  /// How far behind its position the reader keeps the file's pages (for
  /// callers that hold on to lines for a while); pages further back are
  /// given back.
  @exclusivity(unchecked) var keepBehind = 0

  /// - Parameter path: A file, or `-` for standard input.
  /// - Throws: ``ToolError`` 66 if the file cannot be opened.
  init(path: String, displayName: String? = nil) throws {
    if path != "-", let file = try MappedFile.map(path: path, displayName: displayName) {
      name = file.name
      mapped = file
      reader = nil
    } else {
      mapped = nil
      let reader = try LineReader(path: path, displayName: displayName)
      name = reader.name
      self.reader = reader
    }
  }

  /// The 1-based number of the last line handed out.
  var lineNumber: Int { reader?.lineNumber ?? number }
  /// Bytes consumed so far, line endings included.
  var offset: Int { reader?.offset ?? position }

  /// The file when it is mapped, for callers that read parts of it again.
  var file: MappedFile? { mapped }

  /// The next line, or nil at the end. The line is valid until the next
  /// call; in a mapped file, for as long as the file stays mapped (pages
  /// more than ``keepBehind`` bytes back are given back, and read again from
  /// the page cache if used).
  ///
  /// - Throws: ``ToolError`` on a read error (of a file that is not mapped).
  @inline(__always)
  func nextLine() throws -> UnsafeBufferPointer<UInt8>? {
    guard let file = mapped else { return try reader!.nextLine() }
    let start = position
    guard start < file.count, let base = file.base else { return nil }
    file.release(before: start - keepBehind)
    var end = file.count
    var next = end
    if let hit = memchr(base + start, 0x0A, file.count - start) {
      end = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - base
      next = end + 1
    }
    if end > start && base[end - 1] == 0x0D { end -= 1 }
    // Mapped lines cost no buffer, but the same files get the same limit.
    if end - start > LineReader.standardMaxLineBytes {
      throw ToolError.dataError(name, line: number + 1, "line longer than \(describeSize(LineReader.standardMaxLineBytes))")
    }
    position = next
    number += 1
    return UnsafeBufferPointer(start: base + start, count: end - start)
  }
}
