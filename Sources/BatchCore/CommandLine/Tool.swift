// CommandLine/: the front end every tool shares: arguments, exit statuses
// and the one-line error, notes on standard error.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The version every tool reports with `--version`.
public let batchlineVersion = "0.1.0"

/// The shared front end of the eight tools.
public enum Tool {
  /// Runs `body` with the tool's arguments, then exits.
  ///
  /// `--help` prints `manual` to standard output and exits 0; `--version`
  /// prints the version. A thrown ``ToolError`` is printed as
  /// `name: message` and exits with its status; a usage error also prints
  /// the usage line. Any other error exits 1.
  ///
  /// - Parameters:
  ///   - name: The tool's name, as in its messages (`batch-sort`).
  ///   - manual: The tool's manual: usage line first, then what it reads,
  ///     writes and its exit statuses.
  ///   - body: The work, given the arguments without the program name.
  public static func run(
    name: String, manual: String, _ body: @escaping @Sendable ([String]) async throws -> Void
  ) async -> Never {
    Diagnostics.toolName = name
    // A closed pipe ends a tool quietly, as it ends cat.
    signal(SIGPIPE, SIG_DFL)
    #if canImport(Glibc)
      // One malloc arena for the whole process. glibc gives each thread
      // that allocates its own arena, and the tools' work moves across
      // threads (transfers, the ordered pipeline), which raised peak memory
      // with no gain in speed (docs/PERFORMANCE.md). Swift's Glibc
      // module leaves out malloc.h, hence the lookup; M_ARENA_MAX is -8.
      // A MALLOC_ARENA_MAX the user set wins.
      typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
      if getenv("MALLOC_ARENA_MAX") == nil, let mallopt = dlsym(nil, "mallopt") {
        _ = unsafeBitCast(mallopt, to: MallOpt.self)(-8, 1)
      }
    #endif
    let arguments = Array(CommandLine.arguments.dropFirst())
    if arguments.contains("--help") || arguments.contains("-h") {
      FileHandle.standardOutput.writeAll(manual.hasSuffix("\n") ? manual : manual + "\n")
      exit(ExitStatus.success.rawValue)
    }
    if arguments.contains("--version") {
      FileHandle.standardOutput.writeAll("\(name) \(batchlineVersion)\n")
      exit(ExitStatus.success.rawValue)
    }
    do {
      try await body(arguments)
      exit(ExitStatus.success.rawValue)
    } catch let error as ToolError {
      if error.status == .usage {
        if !error.message.isEmpty { Diagnostics.error(error.message) }
        let usage = manual.split(separator: "\n").first { $0.hasPrefix("usage:") } ?? "usage: \(name)"
        Diagnostics.write(usage + "\n")
      } else {
        Diagnostics.error(error.message)
      }
      exit(error.status.rawValue)
    } catch is CancellationError {
      Diagnostics.error("interrupted")
      exit(130)
    } catch {
      Diagnostics.error("\(error)")
      exit(ExitStatus.failure.rawValue)
    }
  }
}

extension FileHandle {
  /// Writes all of `text`, ignoring errors (used for stdout messages only).
  func writeAll(_ text: String) {
    try? write(contentsOf: Data(text.utf8))
  }
}
