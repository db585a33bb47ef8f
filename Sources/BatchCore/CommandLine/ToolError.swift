import Foundation

/// The exit statuses every tool uses, after sysexits(3).
public enum ExitStatus: Int32, Sendable {
  case success = 0
  case failure = 1
  case usage = 64
  case dataError = 65
  case noInput = 66
  case tryAgainLater = 75
  case keyRefused = 77
  case configuration = 78
}

/// An error that a tool reports on one line of standard error before exiting.
public struct ToolError: Error, Sendable, CustomStringConvertible {
  public var status: ExitStatus
  public var message: String

  public init(_ status: ExitStatus, _ message: String) {
    self.status = status
    self.message = message
  }

  public var description: String { message }

  /// Thrown to print the tool's usage line and exit 64.
  public static func usage(_ message: String = "") -> ToolError {
    ToolError(.usage, message)
  }

  public static func dataError(_ message: String) -> ToolError { ToolError(.dataError, message) }
  public static func noInput(_ message: String) -> ToolError { ToolError(.noInput, message) }

  /// A bad line of a data file: `<file>:<line>: <what is wrong>` (65).
  static func dataError(_ file: String, line: Int, _ what: String) -> ToolError {
    ToolError(.dataError, "\(file):\(line): \(what)")
  }
}
