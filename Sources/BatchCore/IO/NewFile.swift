#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

// Every file batchline writes is created new, never opened over what is
// there: a run directory may be shared, or left world-writable, and a
// symlink planted at `out/batch_001.jsonl.part` or at a temporary name must
// not make a tool truncate the file it points to. `O_EXCL | O_NOFOLLOW`
// refuses both an existing file and a symlink. The mode is 0666 less the
// umask, as for any Unix tool: `umask 077` keeps the results private.

/// Creates `path`, which must not exist, for writing.
///
/// - Parameter mode: The mode before the umask.
/// - Returns: The descriptor, or -1 with `errno` set (`EEXIST` when the path
///   is taken, by a symlink too).
func createNewFile(_ path: String, mode: mode_t = 0o666) -> Int32 {
  open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
}

/// Creates `path` for writing after removing whatever a killed tool (or
/// someone else) left under that name.
///
/// - Returns: The descriptor, or -1 with `errno` set.
func createReplacingStale(_ path: String, mode: mode_t = 0o666) -> Int32 {
  if unlink(path) != 0 && errno != ENOENT { return -1 }
  return createNewFile(path, mode: mode)
}

/// Creates a new file named `prefix` plus six random letters or digits.
///
/// - Returns: The descriptor and the path, or nil with `errno` set.
func createUniqueFile(prefix: String, mode: mode_t = 0o666) -> (fd: Int32, path: String)? {
  let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
  for _ in 0..<100 {
    let path = prefix + String((0..<6).map { _ in letters.randomElement()! })
    let fd = createNewFile(path, mode: mode)
    if fd >= 0 { return (fd, path) }
    if errno != EEXIST { return nil }
  }
  return nil
}
