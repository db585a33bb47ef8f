#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Renames `source` onto `destination` in one step; when `durable`, syncs
/// the directory after, so that the rename itself survives a crash. The
/// one durable replace: ``AtomicFile`` and the downloads both use it.
///
/// - Throws: ``ToolError`` naming `displayName` (the destination by default).
func rename(_ source: String, onto destination: String, displayName: String? = nil, durable: Bool = true) throws {
  guard rename(source, destination) == 0 else { throw ToolError.system(.failure, "write", displayName ?? destination) }
  if durable { syncDirectory(of: destination) }
}

/// Splits a path into its directory (`.` when none) and its last component.
func splitPath(_ path: String) -> (directory: String, base: String) {
  guard let slash = path.lastIndex(of: "/") else { return (".", path) }
  let directory = String(path[..<slash])
  return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
}

/// Fsyncs the directory that holds `path`, making a rename in it durable.
func syncDirectory(of path: String) {
  let fd = open(splitPath(path).directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
  if fd >= 0 {
    fsync(fd)
    close(fd)
  }
}

/// Pushes a file's data to the disk.
///
/// - Throws: ``ToolError`` if the file cannot be opened or synced.
public func syncFile(_ path: String) throws {
  let fd = open(path, O_RDONLY | O_CLOEXEC)
  guard fd >= 0 else { throw ToolError.system(.failure, "sync", path) }
  defer { close(fd) }
  guard fsync(fd) == 0 else { throw ToolError.system(.failure, "sync", path) }
}
