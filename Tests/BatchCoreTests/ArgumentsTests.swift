import Foundation
import Testing

@testable import BatchCore

/// The command line every tool parses.
@Suite struct ArgumentsTests {
  private func parse(_ arguments: [String], maxOperands: Int = 1) throws -> Arguments {
    try Arguments(arguments, valued: ["--max-cost", "--items"], flags: ["--retry", "--once"], maxOperands: maxOperands)
  }

  @Test func valuesFlagsAndOperands() throws {
    let a = try parse(["--max-cost", "5", "--retry", "--items=in.jsonl", "run1"])
    #expect(a.values == ["--max-cost": "5", "--items": "in.jsonl"])
    #expect(a.flags == ["--retry"])
    #expect(a.operands == ["run1"])
    #expect(a.run.path == "run1")
    #expect(try a.number("--max-cost") == 5)
    #expect(try a.number("--items-missing") == nil)
  }

  @Test func theRunIsBatchWithoutAnOperand() throws {
    #expect(try parse([]).run.path == "batch")
  }

  /// `-` is standard input, an operand; after `--` everything is one.
  @Test func aLoneDashAndEverythingAfterDoubleDashAreOperands() throws {
    #expect(try parse(["-"]).operands == ["-"])
    let a = try parse(["--", "--retry", "-x"], maxOperands: 2)
    #expect(a.operands == ["--retry", "-x"])
    #expect(a.flags.isEmpty)
  }

  @Test func mistakesAreUsageErrors() throws {
    let cases: [([String], String)] = [
      (["--nope"], "unknown option '--nope'"),
      (["--retry=yes"], "unknown option '--retry=yes'"),
      (["--max-cost"], "option '--max-cost' needs a value"),
      (["a", "b"], "too many operands"),
    ]
    for (arguments, message) in cases {
      let error = toolError { _ = try parse(arguments) }
      #expect(error?.status == .usage, "\(arguments)")
      #expect(error?.message == message, "\(arguments)")
    }
    for text in ["-1", "five"] {
      let error = toolError { _ = try parse(["--max-cost", text]).number("--max-cost") }
      #expect(error?.status == .usage)
      #expect(error?.message == "option '--max-cost' needs a number, not '\(text)'")
    }
  }
}
