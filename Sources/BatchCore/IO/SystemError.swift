#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The text of an `errno` value (`No such file or directory`).
func systemReason(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

extension ToolError {
  /// A system call that failed on `path`: `cannot <verb> '<path>': <reason>`.
  ///
  /// - Parameter code: The `errno` value; by default the current one, read
  ///   before anything else runs.
  static func system(_ status: ExitStatus, _ verb: String, _ path: String, errno code: Int32 = errno) -> ToolError {
    ToolError(status, "cannot \(verb) '\(path)': \(systemReason(code))")
  }
}
