#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing

@testable import BatchCore

/// `item` with the answer added as merge writes it: the item's bytes up to
/// its final `}`, then `,"<field>":<answer>}`.
private func merged(_ item: String, _ answer: String, field: String = "llm") -> String {
  let close = item.lastIndex(of: "}")!
  let body = item[..<close]
  let isEmpty = body.drop { $0 == "{" || $0 == " " }.isEmpty
  return body + (isEmpty ? "" : ",") + "\"\(field)\":" + answer + "}"
}

private func failedItem(_ item: String, status: Int?, code: String?, message: String, field: String = "llm") -> String {
  let status = status.map(String.init) ?? "null"
  let code = code.map { "\"\($0)\"" } ?? "null"
  return merged(item, #"null,"\#(field)_error":{"status":\#(status),"code":\#(code),"message":"\#(message)"}"#, field: field)
}

/// What `body` writes to standard error, while it runs.
///
/// Standard error, not output: Swift Testing reports on standard output, and
/// a report written while the descriptor is redirected would be lost.
private func capturingStandardError(_ body: () throws -> Void) throws -> String {
  let scratch = try ScratchDirectory("stderr")
  let path = scratch.path + "/stderr"
  let saved = dup(2)
  let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
  dup2(fd, 2)
  close(fd)
  defer {
    dup2(saved, 2)
    close(saved)
  }
  try body()
  return readText(path)
}

@Suite struct SortMergeTests {
  // MARK: - Sort

  @Test func sortRestoresInputOrderAndNamesMissingRequests() throws {
    let ids = ["a", "b", "c", "d", "e", "f"]
    let ok = [chatLine("f", #""F""#), chatLine("a", #""A""#), chatLine("e", #""E""#), chatLine("c", #""C""#)]
    let failed = [httpErrorLine("b", status: 500, code: nil, message: "x")]
    let hand = try HandRun(items: [], files: [HandFile(local: "batch_001.jsonl", ids: ids, ok: ok, failed: failed, sorted: false)])
    let file = try hand.run.loadLedger().files[0]
    let report = try sortResults(of: file, in: hand.run)
    #expect(report == SortReport(answered: 4, errors: 1, missing: ["d"], duplicates: 0))
    #expect(hand.out("batch_001.jsonl") == [ok[1], ok[3], ok[2], ok[0]])
    #expect(hand.out("batch_001_error.jsonl") == failed)
  }

  @Test func sortRunMarksTheFilesSorted() throws {
    let hand = try HandRun(
      items: [],
      files: [
        HandFile(local: "batch_001.jsonl", ids: ["a", "b"], ok: [chatLine("b", "1"), chatLine("a", "2")], sorted: false),
        HandFile(local: "batch_002.jsonl", ids: ["c"], status: .inProgress, ok: nil, sorted: false),
      ])
    // The second batch is not finished: it has no results to sort yet.
    try hand.run.updateLedger { $0.files[1].outputFilenames = nil }
    try sortRun(hand.run)
    let ledger = try hand.run.loadLedger()
    #expect(ledger.files.map(\.sorted) == [true, nil])
    #expect(hand.out("batch_001.jsonl") == [chatLine("a", "2"), chatLine("b", "1")])
  }

  @Test func sortDropsRepeatedLinesAndErrorsOfAnsweredRequests() throws {
    let ok = [chatLine("b", #""B""#), chatLine("a", #""A""#), chatLine("b", #""B again""#)]
    let failed = [
      httpErrorLine("a", status: 500, code: "server_error", message: "late"),
      httpErrorLine("c", status: 429, code: nil, message: "slow"),
      httpErrorLine("c", status: 429, code: nil, message: "slow"),
    ]
    let hand = try HandRun(items: [], files: [HandFile(local: "batch_001.jsonl", ids: ["a", "b", "c"], ok: ok, failed: failed, sorted: false)])
    let report = try sortResults(of: try hand.run.loadLedger().files[0], in: hand.run)
    #expect(report.answered == 2)
    #expect(report.errors == 1)
    #expect(report.duplicates == 3)
    #expect(report.missing.isEmpty)
    #expect(hand.out("batch_001.jsonl") == [ok[1], ok[0]])
    #expect(hand.out("batch_001_error.jsonl") == [failed[1]])
  }

  @Test func sortLeavesAFileInOrderAlone() throws {
    let ok = [chatLine("a", "1"), chatLine("b", "2")]
    let hand = try HandRun(items: [], files: [HandFile(local: "batch_001.jsonl", ids: ["a", "b"], ok: ok, sorted: false)])
    let before = inode(hand.run.resultPath("batch_001.jsonl"))
    _ = try sortResults(of: try hand.run.loadLedger().files[0], in: hand.run)
    #expect(inode(hand.run.resultPath("batch_001.jsonl")) == before)
    #expect(hand.out("batch_001.jsonl") == ok)
  }

  @Test func sortRefusesAResultForAnotherRequest() throws {
    let hand = try HandRun(
      items: [], files: [HandFile(local: "batch_001.jsonl", ids: ["a"], ok: [chatLine("a", "1"), chatLine("zz", "2")], sorted: false)])
    let error = toolError { _ = try sortResults(of: try hand.run.loadLedger().files[0], in: hand.run) }
    #expect(error?.status == .dataError)
    #expect(error?.message == "\(hand.run.resultPath("batch_001.jsonl")):2: custom_id 'zz' is not a request of this batch")
    let bad = try HandRun(
      items: [], files: [HandFile(local: "batch_001.jsonl", ids: ["a"], ok: [chatLine("a", "1"), "{not json"], sorted: false)])
    #expect(toolError { _ = try sortResults(of: try bad.run.loadLedger().files[0], in: bad.run) }?.status == .dataError)
  }

  @Test func idsMatchWhateverTheirEscapes() throws {
    // The request file spells the ids with escapes; the server echoes them
    // decoded, and the other way round.
    let hand = try HandRun(
      items: [#"{"n":1}"#, #"{"n":2}"#],
      files: [
        HandFile(
          local: "batch_001.jsonl", ids: ["café \"1\"", "a/b"],
          ok: [
            okLine("a/b", body: #"{"choices":[{"message":{"content":"two"}}]}"#),
            #"{"id":"r1","custom_id":"caf\u00e9 \"1\"","response":{"status_code":200,"body":{"choices":[{"message":{"content":"one"}}]}},"error":null}"#,
          ], sorted: false)
      ])
    try writeText(
      requestLine("PLACEHOLDER1").replacingOccurrences(of: "PLACEHOLDER1", with: #"caf\u00e9 \"1\""#) + "\n"
        + requestLine("PLACEHOLDER2").replacingOccurrences(of: "PLACEHOLDER2", with: #"a\/b"#) + "\n",
      to: hand.run.requestPath("batch_001.jsonl"))
    try sortRun(hand.run)
    #expect(try hand.merge().lines == [#"{"n":1,"llm":"one"}"#, #"{"n":2,"llm":"two"}"#])
  }

  // MARK: - Merge: answers

  @Test func chatAnswersAreAddedToTheItemsBytes() throws {
    let items = [#"{"id":"a", "name" : "Brie"}"#, #"{ }"#, #"{"id":"c","nested":{"k":[1, 2]},"é":"😀"}"#, #"{"id":"d"}"#]
    let answers = [#""Cheese""#, #""Line1\nLine2 \"q\" \u00e9 😀 \/""#, #""""#, "null"]
    let ids = ["1", "2", "3", "4"]
    let hand = try HandRun(
      items: items, files: [HandFile(local: "batch_001.jsonl", ids: ids, ok: zip(ids, answers).map { chatLine($0, $1) })])
    let (report, lines) = try hand.merge()
    // An empty or null text is no answer: a failure with status 200.
    let empty = "the answer has no text (finish_reason: stop)"
    #expect(
      lines == zip(items, answers).prefix(2).map { merged($0, $1) }
        + items.suffix(2).map { failedItem($0, status: 200, code: "stop", message: empty) })
    #expect(lines[1] == #"{ "llm":"Line1\nLine2 \"q\" \u00e9 😀 \/"}"#)
    #expect(readText(hand.run.classifiedPath).hasSuffix("}\n"))
    #expect(report.items == 4 && report.answered == 2 && report.failures == ["stop": 2] && report.retryable == 0)
    for line in lines { #expect(canonicalJSON(line) != nil, "\(line)") }
  }

  @Test func chatToolCallsStandInForAMissingContent() throws {
    let body = #"{"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]}}]}"#
    let hand = try HandRun(items: [#"{"a":1}"#], files: [HandFile(local: "batch_001.jsonl", ids: ["1"], ok: [okLine("1", body: body)])])
    #expect(try hand.merge().lines == [#"{"a":1,"llm":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]}"#])
  }

  @Test func completionsAnswers() throws {
    let body = #"{"id":"cmpl-1","object":"text_completion","model":"gpt-3.5-turbo-instruct","choices":[{"text":" Paris.\n","index":0,"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}"#
    let hand = try HandRun(
      items: [#"{"q":"capital"}"#], files: [HandFile(local: "batch_001.jsonl", ids: ["1"], ok: [okLine("1", body: body)])],
      endpoint: "/v1/completions")
    let (report, lines) = try hand.merge()
    #expect(lines == [#"{"q":"capital","llm":" Paris.\n"}"#])
    #expect(report.tokens["gpt-3.5-turbo-instruct"]?.input == 5)
    #expect(report.tokens["gpt-3.5-turbo-instruct"]?.output == 3)
  }

  @Test func responsesAnswersJoinEveryOutputText() throws {
    let body = #"{"id":"resp_1","object":"response","model":"o4-mini-2025-04-16","output":[{"id":"rs_1","type":"reasoning","summary":[]},{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"output_text","text":"Hello ","annotations":[]},{"type":"refusal","refusal":"no"},{"type":"output_text","text":"\"world\"\n","annotations":[]}]},{"id":"msg_2","type":"message","content":[{"type":"output_text","text":"!"}]}],"usage":{"input_tokens":20,"input_tokens_details":{"cached_tokens":4},"output_tokens":30,"output_tokens_details":{"reasoning_tokens":25},"total_tokens":50}}"#
    let hand = try HandRun(
      items: [#"{"q":1}"#], files: [HandFile(local: "batch_001.jsonl", ids: ["1"], ok: [okLine("1", body: body)])],
      endpoint: "/v1/responses")
    let (report, lines) = try hand.merge()
    #expect(lines == [#"{"q":1,"llm":"Hello \"world\"\n!"}"#])
    var expected = TokenTally()
    expected.input = 20
    expected.cachedInput = 4
    expected.output = 30
    expected.reasoning = 25
    #expect(report.tokens["o4-mini-2025-04-16"] == expected)
  }

  @Test func embeddingsAnswersAreVectors() throws {
    let one = #"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1, -0.2, 3e-5]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":5,"total_tokens":5}}"#
    let two = #"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[1.0,2.0]},{"object":"embedding","index":1,"embedding":[ 3.5 , -4 ]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":7,"total_tokens":7}}"#
    let hand = try HandRun(
      items: [#"{"t":"x"}"#, #"{"t":["y","z"]}"#],
      files: [HandFile(local: "batch_001.jsonl", ids: ["1", "2"], ok: [okLine("1", body: one), okLine("2", body: two)])],
      endpoint: "/v1/embeddings")
    let (report, lines) = try hand.merge()
    #expect(lines == [#"{"t":"x","llm":[0.1,-0.2,3e-5]}"#, #"{"t":["y","z"],"llm":[[1.0,2.0],[3.5,-4]]}"#])
    #expect(report.tokens["text-embedding-3-small"]?.input == 12)
    #expect(report.tokens["text-embedding-3-small"]?.output == 0)
  }

  @Test func aCustomOutputField() throws {
    let hand = try HandRun(
      items: [#"{"a":1}"#, #"{"a":2}"#],
      files: [
        HandFile(
          local: "batch_001.jsonl", ids: ["1", "2"], ok: [chatLine("1", #""yes""#)],
          failed: [httpErrorLine("2", status: 400, code: "invalid_value", message: "bad")])
      ], outputField: "answer")
    #expect(
      try hand.merge().lines == [
        #"{"a":1,"answer":"yes"}"#,
        #"{"a":2,"answer":null,"answer_error":{"status":400,"code":"invalid_value","message":"bad"}}"#,
      ])
  }

  // MARK: - Merge: failures

  @Test func httpErrorsFromTheErrorFile() throws {
    let items = [#"{"n":1}"#, #"{"n":2}"#, #"{"n":3}"#, #"{"n":4}"#]
    let hand = try HandRun(
      items: items,
      files: [
        HandFile(
          local: "batch_001.jsonl", ids: ["1", "2", "3", "4"], ok: [chatLine("1", #""ok""#)],
          failed: [
            httpErrorLine("2", status: 500, code: "server_error", message: "The server had an error"),
            httpErrorLine("3", status: 400, code: nil, message: #"Invalid \"model\""#),
          ])
      ])
    let (report, lines) = try hand.merge()
    #expect(
      lines == [
        merged(items[0], #""ok""#),
        failedItem(items[1], status: 500, code: "server_error", message: "The server had an error"),
        failedItem(items[2], status: 400, code: nil, message: #"Invalid \"model\""#),
        failedItem(
          items[3], status: nil, code: "request_not_run",
          message: "the batch ended without an answer or an error for this request"),
      ])
    #expect(report.items == 4 && report.answered == 1)
    #expect(report.failures == ["server_error": 1, "http_400": 1, "request_not_run": 1])
    #expect(report.retryable == 2)
  }

  @Test func expiredBatches() throws {
    let items = [#"{"n":1}"#, #"{"n":2}"#, #"{"n":3}"#]
    let hand = try HandRun(
      items: items,
      files: [
        HandFile(
          local: "batch_001.jsonl", ids: ["1", "2", "3"], status: .expired, ok: [chatLine("1", #""ok""#)],
          failed: [
            lineErrorLine(
              "2", code: "batch_expired", message: "This request could not be executed before the completion window expired.")
          ])
      ])
    let (report, lines) = try hand.merge()
    #expect(
      lines == [
        merged(items[0], #""ok""#),
        failedItem(
          items[1], status: nil, code: "batch_expired",
          message: "This request could not be executed before the completion window expired."),
        failedItem(items[2], status: nil, code: "batch_expired", message: "the batch expired before this request ran"),
      ])
    #expect(report.failures == ["batch_expired": 2])
    #expect(report.retryable == 2)
  }

  @Test func aFailedBatchFailsEachItemWithItsOwnLinesError() throws {
    let items = [#"{"n":1}"#, #"{"n":2}"#, #"{"n":3}"#, #"{"n":4}"#]
    let hand = try HandRun(
      items: items,
      files: [
        HandFile(local: "batch_001.jsonl", ids: ["1"], ok: [chatLine("1", #""ok""#)]),
        HandFile(
          local: "batch_002.jsonl", ids: ["2", "3", "4"], status: .failed, ok: nil, failed: nil,
          errors: [
            BatchErrorRecord(code: "invalid_request", message: "Model 'x' is not supported", param: "body.model", line: 1),
            BatchErrorRecord(code: "other", message: "second", param: nil, line: 2),
          ]),
      ])
    let (report, lines) = try hand.merge()
    let first = "the batch failed: line 1: Model 'x' is not supported"
    #expect(
      lines == [
        merged(items[0], #""ok""#),
        failedItem(items[1], status: nil, code: "invalid_request", message: first),
        failedItem(items[2], status: nil, code: "other", message: "the batch failed: line 2: second"),
        // Line 3 has no error of its own: the batch's, its first.
        failedItem(items[3], status: nil, code: "invalid_request", message: first),
      ])
    #expect(report.failures == ["invalid_request": 2, "other": 1])
    #expect(report.retryable == 0)
  }

  @Test func aCancelledBatchLeavesRetryableItems() throws {
    let hand = try HandRun(
      items: [#"{"n":1}"#], files: [HandFile(local: "batch_001.jsonl", ids: ["1"], status: .cancelled, ok: nil)])
    let (report, lines) = try hand.merge()
    #expect(
      lines == [
        failedItem(#"{"n":1}"#, status: nil, code: "batch_cancelled", message: "the batch was cancelled before this request ran")
      ])
    #expect(report.retryable == 1)
  }

  // MARK: - Merge: tokens and cost

  @Test func tokenTalliesAndTheCounterLine() throws {
    let items = [#"{"n":1}"#, #"{"n":2}"#, #"{"n":3}"#]
    let hand = try HandRun(
      items: items,
      files: [
        HandFile(
          local: "batch_001.jsonl", ids: ["1", "2", "3"],
          ok: [
            chatLine("1", #""a""#, input: 1_500_000, output: 700_000, cached: 1_000_000, reasoning: 600_000, model: "gpt-5-mini-2025-08-07"),
            chatLine("2", #""b""#, input: 500_000, output: 300_000, cached: 0, reasoning: 100_000, model: "gpt-5-mini-2025-08-07"),
          ],
          failed: [httpErrorLine("3", status: 500, code: nil, message: "x")])
      ])
    // With the items on standard output, the Counter line goes to standard error.
    var report = MergeReport()
    let output = try capturingStandardError { report = try mergeRun(MergeOptions(run: hand.run, output: "-")) }
    var expected = TokenTally()
    expected.input = 2_000_000
    expected.cachedInput = 1_000_000
    expected.output = 1_000_000
    expected.reasoning = 700_000
    #expect(report.tokens == ["gpt-5-mini-2025-08-07": expected])
    // 1M cached at 0.0125, 1M more at 0.125, 1M out at 1.00 per million: 1.1375 USD.
    let cost = expected.cost(at: try #require(PriceTable.bundled.price(for: "gpt-5-mini-2025-08-07")))
    #expect(abs(cost - 1.1375) < 1e-9)
    let lines = output.split(separator: "\n").map(String.init)
    #expect(lines.contains("price: 1.14 USD; items: 2; tokens (llm in: 2000000, llm out: 1000000)"))
    #expect(lines.contains { $0.hasSuffix(": tokens: 2,000,000 in (1,000,000 cached), 1,000,000 out (700,000 reasoning); prices of \(PriceTable.bundled.date)") })
    #expect(lines.contains { $0.hasSuffix(": 1 of 3 items failed (http_500 1); 1 can be retried with make retry") })
    #expect(!FileManager.default.fileExists(atPath: hand.run.classifiedPath))
  }

  // MARK: - Merge: refusals

  @Test func mergeRefusesResultsOutOfOrder() throws {
    let hand = try HandRun(
      items: [#"{"n":1}"#, #"{"n":2}"#],
      files: [HandFile(local: "batch_001.jsonl", ids: ["1", "2"], ok: [chatLine("2", "2"), chatLine("1", "1")], sorted: true)])
    let error = toolError { _ = try hand.merge() }
    #expect(error?.status == .dataError)
    #expect(error?.message.hasSuffix("a result out of input order or for another request; run batch-sort again") == true)
    #expect(!FileManager.default.fileExists(atPath: hand.run.classifiedPath))
    #expect(listDirectory(hand.run.path).filter { $0.contains(".tmp.") }.isEmpty)
  }

  @Test func mergeWantsEveryResultDownloadedAndSorted() throws {
    let unsorted = try HandRun(
      items: [#"{"n":1}"#], files: [HandFile(local: "batch_001.jsonl", ids: ["1"], ok: [chatLine("1", "1")], sorted: false)])
    let error = toolError { _ = try unsorted.merge() }
    #expect(error?.status == .noInput)
    #expect(error?.message == "the results of in/batch_001.jsonl are not sorted yet; run batch-sort")

    let running = try HandRun(
      items: [#"{"n":1}"#], files: [HandFile(local: "batch_001.jsonl", ids: ["1"], status: .inProgress, ok: nil)])
    #expect(toolError { _ = try running.merge() }?.status == .noInput)
  }

  @Test func mergeRefusesItemsThatDoNotMatchTheRequests() throws {
    let more = try HandRun(
      items: [#"{"n":1}"#, #"{"n":2}"#], files: [HandFile(local: "batch_001.jsonl", ids: ["1"], ok: [chatLine("1", "1")])])
    let error = toolError { _ = try more.merge() }
    #expect(error?.status == .dataError)
    #expect(error?.message == "\(more.run.itemsPath):2: more items than requests; run batch-prepare again")

    let fewer = try HandRun(
      items: [#"{"n":1}"#], files: [HandFile(local: "batch_001.jsonl", ids: ["1", "2"], ok: [chatLine("1", "1"), chatLine("2", "2")])])
    #expect(toolError { _ = try fewer.merge() }?.status == .dataError)
    #expect(!FileManager.default.fileExists(atPath: fewer.run.classifiedPath))
  }

  @Test func sortThenMergeOverSeveralFiles() throws {
    let items = (1...7).map { #"{"n":\#($0)}"# }
    let hand = try HandRun(
      items: items,
      files: [
        HandFile(
          local: "batch_001.jsonl", ids: ["1", "2", "3"], ok: [chatLine("3", "3"), chatLine("1", "1")],
          failed: [httpErrorLine("2", status: 503, code: nil, message: "busy")], sorted: false),
        HandFile(
          local: "batch_002.jsonl", ids: ["4", "5", "6", "7"],
          ok: [chatLine("7", "7"), chatLine("5", "5"), chatLine("4", "4"), chatLine("6", "6"), chatLine("5", "55")],
          sorted: false),
      ])
    try sortRun(hand.run)
    let (report, lines) = try hand.merge()
    #expect(
      lines == [
        merged(items[0], "1"), failedItem(items[1], status: 503, code: nil, message: "busy"), merged(items[2], "3"),
        merged(items[3], "4"), merged(items[4], "5"), merged(items[5], "6"), merged(items[6], "7"),
      ])
    #expect(report.answered == 6)
  }
}
