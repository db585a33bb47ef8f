#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Messages on standard error: `tool: message`, one line each.
public enum Diagnostics {
  /// The name in front of every message; set once by ``Tool/run(name:manual:_:)``.
  nonisolated(unsafe) public static var toolName = "batchline"

  /// Whether standard error is a terminal that may show colour and live lines.
  public static var isTerminal: Bool { isatty(2) != 0 }

  /// Whether colour is allowed: a terminal, and `NO_COLOR` unset or empty.
  public static var allowsColor: Bool {
    guard isTerminal else { return false }
    let noColor = ProcessInfo.processInfo.environment["NO_COLOR"] ?? ""
    let term = ProcessInfo.processInfo.environment["TERM"] ?? ""
    return noColor.isEmpty && term != "dumb"
  }

  /// Prints `tool: message` on standard error.
  public static func error(_ message: String) {
    write("\(toolName): \(message)\n")
  }

  /// Prints `tool: message` on standard error (progress and notes).
  public static func note(_ message: String) {
    write("\(toolName): \(message)\n")
  }

  /// Writes `text` to standard error as it is, in one `write(2)` where it fits.
  public static func write(_ text: String) {
    var bytes = Array(text.utf8)
    bytes.withUnsafeMutableBytes { buffer in
      var offset = 0
      while offset < buffer.count {
        let n = systemWrite(2, buffer.baseAddress! + offset, buffer.count - offset)
        if n < 0 {
          if errno == EINTR { continue }
          return
        }
        offset += n
      }
    }
  }
}
