import Foundation

/// The command line of a tool: options with values, flags, and operands.
///
/// Unknown options are usage errors (exit 64). `--` ends the options; a
/// lone `-` is an operand (standard input).
public struct Arguments: Sendable {
  /// Values of the options that take one, by name (`--max-cost`).
  public private(set) var values: [String: String] = [:]
  /// The flags that were given.
  public private(set) var flags: Set<String> = []
  /// The operands, in order.
  public private(set) var operands: [String] = []

  /// Parses `arguments`.
  ///
  /// - Parameters:
  ///   - valued: The options that take a value (`--max-cost 5` or `--max-cost=5`).
  ///   - flags: The options that take none.
  ///   - maxOperands: The most operands accepted.
  /// - Throws: ``ToolError`` 64 for anything else.
  public init(_ arguments: [String], valued: Set<String> = [], flags allowed: Set<String> = [], maxOperands: Int)
    throws
  {
    var rest = arguments[...]
    while let argument = rest.popFirst() {
      if argument == "--" {
        operands.append(contentsOf: rest)
        break
      }
      if argument.hasPrefix("-") && argument != "-" {
        let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
        let name = parts[0]
        if valued.contains(name) {
          if parts.count == 2 {
            values[name] = parts[1]
          } else if let value = rest.popFirst() {
            values[name] = value
          } else {
            throw ToolError.usage("option '\(name)' needs a value")
          }
        } else if allowed.contains(name) && parts.count == 1 {
          flags.insert(name)
        } else {
          throw ToolError.usage("unknown option '\(argument)'")
        }
      } else {
        operands.append(argument)
      }
    }
    guard operands.count <= maxOperands else {
      throw ToolError.usage("too many operands")
    }
  }

  /// The run directory: the first operand, else `batch`.
  public var run: RunDirectory { RunDirectory(operands.first ?? "batch") }

  /// The value of a numeric option.
  ///
  /// - Throws: ``ToolError`` 64 if it is not a number.
  public func number(_ name: String) throws -> Double? {
    guard let text = values[name] else { return nil }
    guard let value = Double(text), value >= 0 else {
      throw ToolError.usage("option '\(name)' needs a number, not '\(text)'")
    }
    return value
  }
}

/// A number from the environment, such as `MAX_COST=5`.
///
/// - Throws: ``ToolError`` 78 if it is set but not a number (a bad setting,
///   as the README's table has it; a bad option is 64).
public func environmentNumber(_ name: String) throws -> Double? {
  guard let text = ProcessInfo.processInfo.environment[name], !text.isEmpty else { return nil }
  guard let value = Double(text), value >= 0 else {
    throw ToolError(.configuration, "\(name) must be a number, not '\(text)'")
  }
  return value
}
