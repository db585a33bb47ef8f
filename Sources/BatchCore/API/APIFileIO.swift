#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The few file operations the API client needs, on file descriptors, in
/// bounded memory: uploads and downloads of 200 MB must not grow the heap.
enum APIFileIO {
  /// The size of one read while copying.
  static let chunkSize = 1 << 20

  /// Opens `path` for reading.
  ///
  /// - Throws: ``ToolError`` `.noInput` naming the file.
  static func openForReading(_ path: String) throws -> Int32 {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw ToolError.system(.noInput, "read", path) }
    return fd
  }

  /// Creates `path`, which must not exist (nor be a symlink), for writing with mode 0600.
  ///
  /// - Throws: ``ToolError`` `.failure` naming the file.
  static func createExclusive(_ path: String) throws -> Int32 {
    let fd = createNewFile(path, mode: 0o600)
    guard fd >= 0 else { throw ToolError.system(.failure, "write", path) }
    return fd
  }

  /// Writes all of `bytes` to `fd`.
  static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
    var offset = 0
    while offset < bytes.count {
      let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
      if n < 0 {
        if errno == EINTR { continue }
        throw ToolError.system(.failure, "write", path)
      }
      offset += n
    }
  }

  /// Writes all of `data` to `fd`.
  static func writeAll(_ fd: Int32, _ data: Data, path: String) throws {
    try data.withUnsafeBytes { try writeAll(fd, $0, path: path) }
  }

  /// Copies everything readable from `source` to `destination`, a chunk at a time.
  ///
  /// - Parameter observe: Sees each chunk before it is written.
  /// - Returns: The number of bytes copied.
  static func copyContents(
    from source: Int32, sourcePath: String, to destination: Int32, destinationPath: String,
    observe: (UnsafeRawBufferPointer) -> Void = { _ in }
  ) throws -> Int64 {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
    defer { buffer.deallocate() }
    var total: Int64 = 0
    while true {
      let n = read(source, buffer.baseAddress!, chunkSize)
      if n < 0 {
        if errno == EINTR { continue }
        throw ToolError.system(.noInput, "read", sourcePath)
      }
      if n == 0 { return total }
      let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
      observe(chunk)
      try writeAll(destination, chunk, path: destinationPath)
      total += Int64(n)
    }
  }

  /// Copies the file `source` to `destination`, replacing it, and syncs it.
  static func copy(from source: String, to destination: String) throws {
    let input = try openForReading(source)
    defer { close(input) }
    let output = createReplacingStale(destination)
    guard output >= 0 else { throw ToolError.system(.failure, "write", destination) }
    defer { close(output) }
    _ = try copyContents(from: input, sourcePath: source, to: output, destinationPath: destination)
    guard fsync(output) == 0 else { throw ToolError.system(.failure, "write", destination) }
  }

  /// The size of the file at `path`, or `nil` when it cannot be read.
  static func size(_ path: String) -> Int64? {
    var info = stat()
    return stat(path, &info) == 0 ? Int64(info.st_size) : nil
  }

  /// At most `limit` bytes from the start of the file at `path` (for error bodies).
  static func prefix(of path: String, limit: Int) -> Data {
    guard let handle = FileHandle(forReadingAtPath: path) else { return Data() }
    defer { try? handle.close() }
    return (try? handle.read(upToCount: limit)) ?? Data()
  }

  /// Removes the file at `path` if it exists.
  static func remove(_ path: String) {
    unlink(path)
  }
}
