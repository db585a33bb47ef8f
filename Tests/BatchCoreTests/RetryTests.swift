import Foundation
import Testing

@testable import BatchCore

/// Round 1 of a run over items 1...8:
/// - batch_001 (completed): 1 answered, 2 HTTP 500, 3 HTTP 429, 4 HTTP 400,
///   5 `batch_expired`, 6 no line at all (never run);
/// - batch_002 (expired): 7 answered, 8 no line (expired before it ran).
private func roundOne() throws -> HandRun {
  let items = (1...8).map { #"{"n":\#($0)}"# }
  return try HandRun(
    items: items,
    files: [
      completedFileWithEveryError(),
      HandFile(local: "batch_002.jsonl", ids: ["7", "8"], status: .expired, ok: [chatLine("7", #""seven""#)]),
    ])
}

/// batch_001 (completed) of items 1...6: 1 answered, 2 HTTP 500, 3 HTTP
/// 429, 4 HTTP 400, 5 `batch_expired`, 6 no line at all (never run).
func completedFileWithEveryError() -> HandFile {
  HandFile(
    local: "batch_001.jsonl", ids: ["1", "2", "3", "4", "5", "6"], ok: [chatLine("1", #""one""#)],
    failed: [
      httpErrorLine("2", status: 500, code: "server_error", message: "boom"),
      httpErrorLine("3", status: 429, code: "rate_limit_exceeded", message: "slow down"),
      httpErrorLine("4", status: 400, code: "invalid_value", message: "bad request"),
      lineErrorLine("5", code: "batch_expired", message: "expired"),
    ])
}

/// Records the results of a retry file as download and sort would.
private func answer(
  _ hand: HandRun, file local: String, ok: [String], failed: [String] = []
) throws {
  let stem = String(local.dropLast(".jsonl".count))
  try writeText(ok.map { $0 + "\n" }.joined(), to: hand.run.resultPath(stem + ".jsonl"))
  if !failed.isEmpty { try writeText(failed.map { $0 + "\n" }.joined(), to: hand.run.resultPath(stem + "_error.jsonl")) }
  try hand.run.updateLedger { ledger in
    let n = ledger.files.firstIndex { $0.inputFilename.local == local }!
    ledger.files[n].inputFilename.remote = "file-in-\(stem)"
    ledger.files[n].batchId = "batch_\(stem)"
    ledger.files[n].status = .completed
    var okFile = ResultFile(remote: "file-out-\(stem)")
    okFile.local = stem + ".jsonl"
    var failedFile = ResultFile(remote: failed.isEmpty ? nil : "file-err-\(stem)")
    if !failed.isEmpty { failedFile.local = stem + "_error.jsonl" }
    ledger.files[n].outputFilenames = OutputFiles(ok: okFile, failed: failedFile)
    ledger.files[n].sorted = true
  }
}

@Suite struct RetryTests {
  @Test func retryWritesExactlyTheRetryableRequestsAsTheNextRound() throws {
    let hand = try roundOne()
    let count = try prepareRetry(hand.run)
    #expect(count == 5)
    #expect(listDirectory(hand.run.inDirectory) == ["batch_001.jsonl", "batch_002.jsonl", "batch_003.jsonl"])
    // The request lines themselves, in input order: 2, 3, 5, 6 and 8; not 4 (a 400).
    #expect(readLines(of: hand.run.requestPath("batch_003.jsonl")) == ["2", "3", "5", "6", "8"].map { requestLine($0) })
    let ledger = try hand.run.loadLedger()
    #expect(ledger.files.count == 3)
    let retry = ledger.files[2]
    #expect(retry.inputFilename.local == "batch_003.jsonl")
    #expect(retry.inputFilename.requests == 5)
    #expect(retry.inputFilename.bytes == readBytes(hand.run.requestPath("batch_003.jsonl")).count)
    #expect(retry.round == 2)
    #expect(retry.model == "gpt-4o-mini")
    #expect(retry.estimatedInputTokens == 50)
    #expect(retry.maxOutputTokens == 50)
    #expect(retry.batchId == nil && retry.inputFilename.remote == nil && retry.status == nil)
    // Round 1 is left as it was.
    #expect(ledger.files[0].round == 1 && ledger.files[1].round == 1)
    #expect(ledger.files[0].batchId == "batch_batch_001")
  }

  @Test func retryFilesSplitAtTheLimits() throws {
    let hand = try roundOne()
    var limits = FileLimits()
    limits.requests = 2
    #expect(try prepareRetry(hand.run, limits: limits) == 5)
    let ledger = try hand.run.loadLedger()
    #expect(ledger.files.map(\.inputFilename.local) == (1...5).map { "batch_00\($0).jsonl" })
    #expect(ledger.files.map(\.round) == [1, 1, 2, 2, 2])
    #expect(ledger.files.dropFirst(2).map(\.inputFilename.requests) == [2, 2, 1])
  }

  @Test func mergeTakesEachAnswerFromWhicheverRoundHasIt() throws {
    let hand = try roundOne()
    try prepareRetry(hand.run)
    // Round 2 answers 2, 3, 6 and 8 (out of order, as a server may), and 5 fails again.
    try answer(
      hand, file: "batch_003.jsonl",
      ok: [chatLine("2", #""two""#), chatLine("3", #""three""#), chatLine("6", #""six""#), chatLine("8", #""eight""#)],
      failed: [httpErrorLine("5", status: 503, code: nil, message: "again")])
    let (report, lines) = try hand.merge()
    let items = (1...8).map { #"{"n":\#($0)}"# }
    let expected: [String] = [
        String(items[0].dropLast()) + #","llm":"one"}"#,
        String(items[1].dropLast()) + #","llm":"two"}"#,
        String(items[2].dropLast()) + #","llm":"three"}"#,
        String(items[3].dropLast()) + #","llm":null,"llm_error":{"status":400,"code":"invalid_value","message":"bad request"}}"#,
        String(items[4].dropLast()) + #","llm":null,"llm_error":{"status":503,"code":null,"message":"again"}}"#,
        String(items[5].dropLast()) + #","llm":"six"}"#,
        String(items[6].dropLast()) + #","llm":"seven"}"#,
        String(items[7].dropLast()) + #","llm":"eight"}"#,
      ]
    #expect(lines == expected)
    #expect(report.answered == 6)
    #expect(report.retryable == 1)

    // Round 3 takes the one retryable failure left, and continues the numbering.
    #expect(try prepareRetry(hand.run) == 1)
    let ledger = try hand.run.loadLedger()
    #expect(ledger.files.last?.inputFilename.local == "batch_004.jsonl")
    #expect(ledger.files.last?.round == 3)
    #expect(readLines(of: hand.run.requestPath("batch_004.jsonl")) == [requestLine("5")])
  }

  @Test func aSuccessAnywhereWinsOverALaterError() throws {
    // A request answered in round 1 and, oddly, failed in round 2 keeps its answer.
    let hand = try HandRun(
      items: [#"{"n":1}"#, #"{"n":2}"#],
      files: [
        HandFile(
          local: "batch_001.jsonl", ids: ["1", "2"], ok: [chatLine("1", #""one""#)],
          failed: [httpErrorLine("2", status: 500, code: nil, message: "first")]),
        HandFile(
          local: "batch_002.jsonl", round: 2, ids: ["1", "2"], ok: nil,
          failed: [
            httpErrorLine("1", status: 500, code: nil, message: "later"),
            httpErrorLine("2", status: 502, code: nil, message: "latest"),
          ]),
      ])
    #expect(
      try hand.merge().lines == [
        #"{"n":1,"llm":"one"}"#, #"{"n":2,"llm":null,"llm_error":{"status":502,"code":null,"message":"latest"}}"#,
      ])
  }

  @Test func nothingToRetryWritesNothing() throws {
    let hand = try HandRun(
      items: [#"{"n":1}"#, #"{"n":2}"#],
      files: [
        HandFile(
          local: "batch_001.jsonl", ids: ["1", "2"], ok: [chatLine("1", #""one""#)],
          failed: [httpErrorLine("2", status: 401, code: "invalid_api_key", message: "no")])
      ])
    let before = readBytes(hand.run.ledgerPath)
    #expect(try prepareRetry(hand.run) == 0)
    #expect(listDirectory(hand.run.inDirectory) == ["batch_001.jsonl"])
    #expect(readBytes(hand.run.ledgerPath) == before)
  }

  @Test func retryWaitsForEveryResult() throws {
    let hand = try roundOne()
    try hand.run.updateLedger { $0.files[1].sorted = nil }
    let error = toolError { try prepareRetry(hand.run) }
    #expect(error?.status == .noInput)
    #expect(listDirectory(hand.run.inDirectory) == ["batch_001.jsonl", "batch_002.jsonl"])
  }

  @Test func whichFailuresAreRetryable() {
    func failure(_ status: Int?, _ code: String?) -> FailureRecord {
      FailureRecord(status: status, code: code, message: [])
    }
    for status in [429, 500, 502, 503] { #expect(failure(status, nil).isRetryable, "\(status)") }
    for status in [400, 401, 403, 404, 409, 422] { #expect(!failure(status, "x").isRetryable, "\(status)") }
    for code in ["batch_expired", "batch_cancelled", "request_timeout", "request_not_run", "token_limit_exceeded"] {
      #expect(failure(nil, code).isRetryable, "\(code)")
    }
    for code in ["invalid_request", "invalid_json_line", "model_not_found"] {
      #expect(!failure(nil, code).isRetryable, "\(code)")
    }
  }
}
