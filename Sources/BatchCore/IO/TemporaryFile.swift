#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The directory for scratch files: `$TMPDIR`, else `/tmp`.
func temporaryDirectory(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
  guard let directory = environment["TMPDIR"], !directory.isEmpty else { return "/tmp" }
  return directory.hasSuffix("/") && directory.count > 1 ? String(directory.dropLast()) : directory
}

/// Opens a new scratch file in ``temporaryDirectory(_:)`` and unlinks it at
/// once, so that it goes away with the descriptor, even after a crash.
///
/// - Returns: The descriptor, or -1 with `errno` set.
func openScratchFile(prefix: String) -> Int32 {
  var template = Array("\(temporaryDirectory())/\(prefix).XXXXXX".utf8CString)
  let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
  if fd >= 0 { template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) } }
  return fd
}
