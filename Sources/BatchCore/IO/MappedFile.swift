#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular file read through a read-only memory mapping.
///
/// The local steps read every large file whole, some several times (sort
/// reads a result file once to find each line's place and once per output
/// window). Through `read(2)` each pass copies the file out of the page
/// cache; mapped, the page cache's own pages are read in place, at a
/// fraction of the system time (docs/PERFORMANCE.md).
///
/// Mapped pages count toward the resident set size, so the reader gives
/// back (`MADV_DONTNEED`) the pages behind it as it goes: its memory stays
/// at a few megabytes whatever the file's size.
///
/// A mapped file that another program truncates while it is read raises
/// `SIGBUS`; the handler installed with the first mapping reports that and
/// ends the process (temporary files stay behind, targets are untouched).
final class MappedFile: @unchecked Sendable {
  /// The name used in messages.
  let name: String
  /// The file's bytes (nil for an empty file).
  let base: UnsafePointer<UInt8>?
  /// The file's size when it was mapped.
  let count: Int
  /// Bytes before this offset have been given back.
  @exclusivity(unchecked) private var released = 0

  /// How far a reader goes between giving pages back.
  static let releaseStep = 2 << 20

  /// Maps `path` if it is a regular file; nil when it is not (a pipe, a
  /// terminal) or cannot be mapped, for the caller to read it instead.
  ///
  /// - Throws: ``ToolError`` 66 if the file cannot be opened.
  static func map(path: String, displayName: String? = nil) throws -> MappedFile? {
    let name = displayName ?? path
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      throw ToolError.system(.noInput, "read", name)
    }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
    let size = Int(info.st_size)
    guard size > 0 else { return MappedFile(name: name, base: nil, count: 0) }
    _ = installBusErrorHandler
    guard let address = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), address != MAP_FAILED else { return nil }
    return MappedFile(name: name, base: UnsafePointer(address.assumingMemoryBound(to: UInt8.self)), count: size)
  }

  private init(name: String, base: UnsafePointer<UInt8>?, count: Int) {
    self.name = name
    self.base = base
    self.count = count
  }

  deinit {
    if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
  }

  /// The bytes `range` of the file.
  @inline(__always)
  func bytes(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(start: base! + range.lowerBound, count: range.count)
  }

  /// Gives back the pages wholly before `offset` once the reader is
  /// ``releaseStep`` past the last time. Reading them again still works
  /// (they come back from the page cache).
  @inline(__always)
  func release(before offset: Int) {
    guard offset - released >= Self.releaseStep else { return }
    releaseNow(before: offset)
  }

  /// Gives back the pages wholly before `offset` now.
  func releaseNow(before offset: Int) {
    guard let base else { return }
    let page = Int(getpagesize())
    let end = min(offset, count) / page * page
    let start = released / page * page
    if end > start {
      madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
    }
    released = offset
  }

  /// Starts giving pages back from the beginning again (for a new pass).
  func rewind() {
    releaseNow(before: count)
    released = 0
  }
}

/// Reports a mapped file cut short by another program and ends the process.
private let installBusErrorHandler: Void = {
  signal(SIGBUS) { _ in
    let message: StaticString = "batchline: a file was cut short by another program while it was being read\n"
    _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
    _exit(1)
  }
}()
