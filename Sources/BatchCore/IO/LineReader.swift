// IO/: bytes in and out of files: line readers (read(2) or mapped),
// the buffered writer, files written whole (AtomicFile, the durable rename),
// scratch files, SHA-256, and the errors system calls turn into.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file or standard input line by line through one reused buffer.
///
/// Lines are handed out as borrowed byte buffers without their `\n` (and
/// without a `\r` before it), valid only during the call. Memory is the
/// buffer, whatever the file's size: the buffer grows only for a line longer
/// than itself.
public final class LineReader {
  /// The name used in messages: the path as given, or `<stdin>`.
  public let name: String
  private let fd: Int32
  private let ownsDescriptor: Bool
  private var buffer: UnsafeMutableRawBufferPointer
  private var start = 0
  private var filled = 0
  private var isAtEnd = false
  /// The 1-based number of the last line handed out.
  public private(set) var lineNumber = 0
  /// Bytes consumed so far, line endings included.
  public private(set) var offset = 0
  /// The longest line read; a longer one is bad data, not a reason to grow the buffer again.
  public let maxLineBytes: Int

  /// The longest line of an items, request or result file: a request file is
  /// at most 200 MB, and a line that long is a broken or hostile file.
  public static let standardMaxLineBytes = 256 << 20

  /// Opens `path` for reading; `-` means standard input.
  ///
  /// - Throws: ``ToolError`` with status 66 if the file cannot be opened.
  public init(
    path: String, displayName: String? = nil, bufferSize: Int = 1 << 20, maxLineBytes: Int = standardMaxLineBytes
  ) throws {
    self.maxLineBytes = max(bufferSize, maxLineBytes)
    if path == "-" {
      fd = 0
      ownsDescriptor = false
      name = displayName ?? "<stdin>"
    } else {
      let opened = open(path, O_RDONLY | O_CLOEXEC)
      guard opened >= 0 else {
        throw ToolError.system(.noInput, "read", displayName ?? path)
      }
      fd = opened
      ownsDescriptor = true
      name = displayName ?? path
    }
    buffer = .allocate(byteCount: bufferSize, alignment: 16)
  }

  deinit {
    buffer.deallocate()
    if ownsDescriptor { close(fd) }
  }

  /// Calls `body` with each line in turn until the input ends or `body`
  /// returns false.
  ///
  /// - Throws: ``ToolError`` (status 1) on a read error, or what `body` throws.
  public func forEachLine(_ body: (UnsafeBufferPointer<UInt8>) throws -> Bool) throws {
    while let line = try nextLine() {
      if try !body(line) { return }
    }
  }

  /// The next line, or nil at the end of the input.
  public func nextLine() throws -> UnsafeBufferPointer<UInt8>? {
    while true {
      let base = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
      if start < filled, let hit = memchr(base + start, 0x0A, filled - start) {
        let newline = UnsafeMutablePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - base
        var lineEnd = newline
        if lineEnd > start && base[lineEnd - 1] == 0x0D { lineEnd -= 1 }
        let line = UnsafeBufferPointer(start: base + start, count: lineEnd - start)
        offset += newline + 1 - start
        start = newline + 1
        lineNumber += 1
        return line
      }
      if isAtEnd {
        guard start < filled else { return nil }
        // The last line has no newline.
        var lineEnd = filled
        if base[lineEnd - 1] == 0x0D { lineEnd -= 1 }
        let line = UnsafeBufferPointer(start: base + start, count: lineEnd - start)
        offset += filled - start
        start = filled
        lineNumber += 1
        return line
      }
      try refill()
    }
  }

  /// Moves the partial line to the front (growing the buffer if it is full)
  /// and reads more.
  private func refill() throws {
    if start > 0 {
      let remaining = filled - start
      if remaining > 0 {
        memmove(buffer.baseAddress!, buffer.baseAddress! + start, remaining)
      }
      filled = remaining
      start = 0
    } else if filled == buffer.count {
      guard buffer.count < maxLineBytes else {
        throw ToolError.dataError(name, line: lineNumber + 1, "line longer than \(describeSize(maxLineBytes))")
      }
      let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: min(buffer.count * 2, maxLineBytes), alignment: 16)
      bigger.copyMemory(from: UnsafeRawBufferPointer(buffer))
      buffer.deallocate()
      buffer = bigger
    }
    while true {
      let n = read(fd, buffer.baseAddress! + filled, buffer.count - filled)
      if n < 0 {
        if errno == EINTR { continue }
        throw ToolError.system(.failure, "read", name)
      }
      if n == 0 { isAtEnd = true }
      filled += n
      return
    }
  }
}

/// `n` bytes for a message: `256 MiB`, or `300 bytes` below a mebibyte.
func describeSize(_ n: Int) -> String {
  n >= 1 << 20 && n % (1 << 20) == 0 ? "\(n >> 20) MiB" : "\(n) bytes"
}
