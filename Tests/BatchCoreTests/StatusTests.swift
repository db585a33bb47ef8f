import Foundation
import Testing

@testable import BatchCore

/// `make status` (`batch-wait --status`): one screen from status.json alone.
@Suite struct StatusTests {
  @Test func summaryShowsEachFileAndTheTotals() throws {
    let hand = try HandRun(
      items: [#"{"n":1}"#, #"{"n":2}"#, #"{"n":3}"#],
      files: [
        HandFile(
          local: "batch_001.jsonl", ids: ["1", "2"], ok: [chatLine("1", #""a""#), chatLine("2", #""b""#)],
          model: "my-model"),
        HandFile(
          local: "batch_002.jsonl", ids: ["3"], status: .failed, ok: nil,
          errors: [
            BatchErrorRecord(code: "invalid_request", message: "bad line", param: nil, line: 3),
            BatchErrorRecord(code: "invalid_request", message: "another", param: nil, line: 4),
          ],
          sorted: false, model: "my-model"),
      ])
    let run = hand.run
    try writeText(#"{"date":"2030-01-01","models":{"my-model":{"input":1,"output":2}}}"#, to: run.pricesPath)
    try run.updateLedger { ledger in
      ledger.baseUrl = "http://127.0.0.1:1"
      ledger.files[0].usage = UsageRecord(
        inputTokens: 2_000_000, cachedTokens: 0, outputTokens: 500_000, reasoningTokens: 0)
      ledger.files[1].previousBatches = [PreviousBatch(batchId: "batch_old", status: .failed, reason: "token_limit_exceeded")]
    }

    let lines = try statusSummary(run).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    #expect(
      lines == [
        "run run-0123456789abcdef against http://127.0.0.1:1, 3 items, endpoint /v1/chat/completions",
        "batch_001 r1 completed, sorted 2+0/2 batch_batch_001 in:file-in-batch_001 out:file-out-batch_001 3.00 USD",
        "batch_002 r1 failed, downloaded 0+0/1 batch_batch_002 in:file-in-batch_002 error: line 3: bad line (+1 more) (1 earlier batch refused)",
        "total: 2/2 batches finished, 2 answered, 1 failed (0 retryable) of 3 items, 3.00 USD so far (prices of 2030-01-01)",
        "",
      ])
  }

  /// Before a batch exists, a file's state is the last step it went through.
  @Test func summaryNamesTheStepOfFilesWithoutABatch() throws {
    let hand = try HandRun(items: [#"{"n":1}"#], files: [HandFile(local: "batch_001.jsonl", ids: ["1"], ok: nil)])
    let run = hand.run
    func firstFileLine() throws -> String {
      try statusSummary(run).split(separator: "\n").map(String.init)[1]
    }
    try run.updateLedger { ledger in
      ledger.files[0].status = nil
      ledger.files[0].batchId = nil
      ledger.files[0].requestCounts = nil
      ledger.files[0].outputFilenames = nil
    }
    #expect(try firstFileLine() == "batch_001 r1 uploaded 0/1 - in:file-in-batch_001")
    try run.updateLedger { $0.files[0].inputFilename.remote = nil }
    #expect(try firstFileLine() == "batch_001 r1 prepared 0/1 - in:-")
    try run.updateLedger { $0.files[0].batchId = "batch_9" }
    #expect(try firstFileLine() == "batch_001 r1 created 0/1 batch_9 in:-")

    let summary = try statusSummary(run)
    #expect(summary.hasPrefix("run run-0123456789abcdef against (no server yet), 1 items, endpoint /v1/chat/completions\n"))
    #expect(summary.hasSuffix("total: 0/1 batches finished, 0 answered, 0 failed (0 retryable), 1 pending of 1 items, no usage reported yet\n"))
  }

  @Test func summaryOfARunWithoutALedgerIsMissingInput() throws {
    let scratch = try ScratchDirectory("status")
    let run = try scratch.makeRun()
    #expect(toolError { _ = try statusSummary(run) }?.status == .noInput)
  }
}
