#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A buffered writer over a file descriptor: one `write(2)` per megabyte.
public final class BufferedWriter {
  /// The name used in messages.
  public let name: String
  let fd: Int32
  private var buffer: [UInt8] = []
  private let capacity: Int
  /// Bytes handed to the writer so far.
  public private(set) var bytesWritten = 0

  public init(fd: Int32, name: String, capacity: Int = 1 << 20) {
    self.fd = fd
    self.name = name
    self.capacity = capacity
    buffer.reserveCapacity(capacity + 4096)
  }

  /// Appends bytes, writing the buffer out when it is full.
  @inline(__always)
  public func write(_ bytes: UnsafeBufferPointer<UInt8>) throws {
    bytesWritten += bytes.count
    if buffer.count + bytes.count > capacity {
      try flush()
      if bytes.count > capacity {
        try writeOut(UnsafeRawBufferPointer(bytes))
        return
      }
    }
    buffer.append(contentsOf: bytes)
  }

  /// Appends the bytes of an array.
  @inline(__always)
  public func write(_ bytes: [UInt8]) throws {
    try bytes.withUnsafeBufferPointer { try write($0) }
  }

  /// Appends the UTF-8 bytes of `text`.
  public func write(_ text: String) throws {
    var text = text
    try text.withUTF8 { try write($0) }
  }

  /// Writes out everything buffered.
  public func flush() throws {
    guard !buffer.isEmpty else { return }
    try buffer.withUnsafeBytes { try writeOut($0) }
    buffer.removeAll(keepingCapacity: true)
  }

  /// Writes `bytes` out now, after what is buffered, without copying them
  /// into the buffer: for callers that put large blocks together themselves.
  public func writeDirectly(_ bytes: UnsafeBufferPointer<UInt8>) throws {
    bytesWritten += bytes.count
    try flush()
    if !bytes.isEmpty { try writeOut(UnsafeRawBufferPointer(bytes)) }
  }

  /// Writes out everything buffered and frees the buffer, for a writer that
  /// is done but stays open (prepare keeps every request file until the
  /// end: a megabyte each made its memory grow with the number of items).
  /// A later write makes a new buffer.
  public func releaseBuffer() throws {
    try flush()
    buffer = []
  }

  /// The most bytes handed to one `write(2)`. For a larger write the kernel
  /// caches the file in larger pieces of memory, and finding those made the
  /// system time of writing erratic and up to ten times longer
  /// (docs/PERFORMANCE.md).
  static let largestWrite = 1 << 20

  private func writeOut(_ bytes: UnsafeRawBufferPointer) throws {
    var offset = 0
    while offset < bytes.count {
      let n = systemWrite(fd, bytes.baseAddress! + offset, min(bytes.count - offset, Self.largestWrite))
      if n < 0 {
        if errno == EINTR { continue }
        if errno == EPIPE { exit(141) }  // the reader went away: end quietly
        throw ToolError.system(.failure, "write", name)
      }
      offset += n
    }
  }
}
