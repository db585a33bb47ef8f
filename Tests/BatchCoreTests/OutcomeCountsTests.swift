import Foundation
import Testing

@testable import BatchCore

/// make status, wait's total line and merge count the same items answered,
/// failed and retryable, whatever ended the batches.
@Suite struct OutcomeCountsTests {
  /// batch_001 completed with per-request errors (500, 429, 400, an
  /// expired line) and a request never run; batch_002 expired halfway;
  /// batch_003 failed validation; batch_004 was cancelled.
  private func mixedRun() throws -> HandRun {
    try HandRun(
      items: (1...12).map { #"{"n":\#($0)}"# },
      files: [
        completedFileWithEveryError(),
        HandFile(local: "batch_002.jsonl", ids: ["7", "8"], status: .expired, ok: [chatLine("7", #""seven""#)]),
        HandFile(
          local: "batch_003.jsonl", ids: ["9", "10"], status: .failed, ok: nil,
          errors: [BatchErrorRecord(code: "invalid_request", message: "bad line", param: nil, line: 1)]),
        HandFile(local: "batch_004.jsonl", ids: ["11", "12"], status: .cancelled, ok: [chatLine("11", #""eleven""#)]),
      ])
  }

  private func mergeCounts(_ run: RunDirectory) throws -> OutcomeCounts {
    let report = try mergeRun(MergeOptions(run: run))
    return OutcomeCounts(answered: report.answered, failed: report.items - report.answered, retryable: report.retryable)
  }

  @Test func statusAndMergeAgreeOnEveryOutcome() throws {
    let hand = try mixedRun()
    let fromLedger = OutcomeCounts(try hand.run.loadLedger(), run: hand.run)
    let merged = try mergeCounts(hand.run)
    #expect(merged == OutcomeCounts(answered: 3, failed: 9, retryable: 6))
    #expect(fromLedger == merged)
    #expect(try statusSummary(hand.run).contains("3 answered, 9 failed (6 retryable) of 12 items"))
  }

  @Test func aRetryRoundCountsEachItemOnce() throws {
    let hand = try mixedRun()
    #expect(try prepareRetry(hand.run) == 6)
    let local = try hand.run.loadLedger().files.last!.inputFilename.local
    let stem = String(local.dropLast(".jsonl".count))
    // Of the six resubmitted (2, 3, 5, 6, 8, 12), four come back answered.
    try writeText(["2", "3", "5", "6"].map { chatLine($0, #""again""#) + "\n" }.joined(), to: hand.run.resultPath(stem + ".jsonl"))
    try hand.run.updateLedger { ledger in
      let n = ledger.files.count - 1
      ledger.files[n].batchId = "batch_retry"
      ledger.files[n].status = .completed
      ledger.files[n].requestCounts = Counts(total: 6, completed: 4, failed: 0)
      var ok = ResultFile(remote: "file-out-retry")
      ok.local = stem + ".jsonl"
      ledger.files[n].outputFilenames = OutputFiles(ok: ok, failed: ResultFile(remote: nil))
      ledger.files[n].sorted = true
    }
    let merged = try mergeCounts(hand.run)
    #expect(merged == OutcomeCounts(answered: 7, failed: 5, retryable: 2))
    #expect(OutcomeCounts(try hand.run.loadLedger(), run: hand.run) == merged)
  }
}
