#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// How hard files are pushed to the disk before they replace their target.
public enum Durability {
  /// Whether every file is synced (`BATCHLINE_FSYNC=all`), or only those
  /// that cannot be made again: the ledger, downloaded results (and, before
  /// cleanup deletes their remote copies, the local results).
  ///
  /// Request files, sorted results and the merged items are derived from
  /// files that are synced; a rename gives them all-or-nothing replacement
  /// against a killed process, and syncing hundreds of megabytes would make
  /// the local steps as slow as the disk (about 100 MB/s here).
  public static let syncsEveryFile: Bool = {
    ProcessInfo.processInfo.environment["BATCHLINE_FSYNC"] == "all"
  }()
}

/// A file written whole or not at all: bytes go to a temporary file beside
/// the target, which replaces the target only on ``commit()``.
///
/// A process killed half-way leaves at most a hidden `.name.tmp.*` file,
/// never a partial target.
public final class AtomicFile {
  /// The path of the file being replaced.
  public let path: String
  /// The name used in messages.
  public let displayName: String
  /// The temporary file that becomes the target on commit.
  public let temporaryPath: String
  /// The writer for the new contents.
  public let writer: BufferedWriter
  private var isOpen = true

  /// Whether ``commit()`` syncs the data before the rename.
  public let isDurable: Bool

  /// Creates a temporary file in the target's directory.
  ///
  /// - Parameter durable: Sync before the rename, whatever the policy; by
  ///   default, only when ``Durability/syncsEveryFile`` is set.
  /// - Throws: ``ToolError`` if the directory is not writable.
  public init(path: String, displayName: String? = nil, durable: Bool = Durability.syncsEveryFile) throws {
    self.isDurable = durable
    self.path = path
    self.displayName = displayName ?? path
    let (directory, base) = splitPath(path)
    guard let (fd, temporary) = createUniqueFile(prefix: "\(directory)/.\(base).tmp.") else {
      throw ToolError.system(.failure, "write", self.displayName)
    }
    temporaryPath = temporary
    writer = BufferedWriter(fd: fd, name: self.displayName)
  }

  deinit {
    if isOpen { abandon() }
  }

  /// Flushes and renames the temporary file onto the target; a durable
  /// file is synced first, and its directory after, so that the rename
  /// itself survives a crash.
  public func commit() throws {
    // A second close of the descriptor could close whatever file reused its number.
    guard isOpen else { throw ToolError(.failure, "cannot write '\(displayName)': already committed or abandoned") }
    try writer.flush()
    guard !isDurable || fsync(writer.fd) == 0 else {
      throw ToolError.system(.failure, "write", displayName)
    }
    close(writer.fd)
    isOpen = false
    do {
      try rename(temporaryPath, onto: path, displayName: displayName, durable: isDurable)
    } catch {
      unlink(temporaryPath)
      throw error
    }
  }

  /// Deletes the temporary file; the target is left as it was.
  public func abandon() {
    guard isOpen else { return }
    close(writer.fd)
    unlink(temporaryPath)
    isOpen = false
  }

  /// Writes `bytes` to `path` whole or not at all.
  public static func write(_ bytes: [UInt8], to path: String, displayName: String? = nil, durable: Bool) throws {
    let file = try AtomicFile(path: path, displayName: displayName, durable: durable)
    try file.writer.write(bytes)
    try file.commit()
  }
}
