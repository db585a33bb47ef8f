#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// An advisory `flock(2)` lock on a file or directory, released on close.
public final class FileLock {
  private var fd: Int32

  /// Locks `path`.
  ///
  /// - Parameters:
  ///   - exclusive: An exclusive lock, or a shared one.
  ///   - wait: Whether to wait for the lock, or fail at once.
  public init(path: String, exclusive: Bool, wait: Bool) throws {
    fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      throw ToolError.system(.failure, "open", path)
    }
    var operation = exclusive ? LOCK_EX : LOCK_SH
    if !wait { operation |= LOCK_NB }
    while flock(fd, operation) != 0 {
      if errno == EINTR { continue }
      let reason = systemReason()
      close(fd)
      fd = -1
      throw ToolError(.tryAgainLater, "cannot lock '\(path)': \(reason)")
    }
  }

  /// Releases the lock.
  public func release() {
    if fd >= 0 {
      close(fd)
      fd = -1
    }
  }

  deinit { release() }
}
