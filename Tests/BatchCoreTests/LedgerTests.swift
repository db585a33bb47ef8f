#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Foundation
import Testing

@testable import BatchCore

/// A ledger with every field set, optional ones included.
private func fullLedger() -> Ledger {
  var ledger = Ledger(
    runId: "run-00112233aabbccdd", createdAt: 1_760_000_000, endpoint: "/v1/chat/completions",
    outputField: "answer", items: ItemsRecord(path: "items.jsonl", count: 3, bytes: 99), files: [])
  ledger.batchline = 1
  ledger.baseUrl = "http://127.0.0.1:8080/v1"
  ledger.tokenLimits = ["gpt-4o-mini": 2_000_000]
  var file = RequestFileRecord(
    inputFilename: InputFile(
      local: "batch_001.jsonl", requests: 2, bytes: 512, sha256: String(repeating: "ab", count: 32),
      uploadStartedAt: 1_760_000_010, remote: "file-in1", isRemoteDeleted: true),
    round: 2, model: "gpt-4o-mini", estimatedInputTokens: 120, maxOutputTokens: 50)
  file.createStartedAt = 1_760_000_020
  file.batchId = "batch_1"
  file.previousBatches = [PreviousBatch(batchId: "batch_0", status: .failed, reason: "token_limit_exceeded")]
  file.status = .completed
  file.requestCounts = Counts(total: 2, completed: 1, failed: 1)
  file.errors = [BatchErrorRecord(code: "invalid_json_line", message: "bad line", param: "body", line: 2)]
  file.usage = UsageRecord(inputTokens: 100, cachedTokens: 20, outputTokens: 30, reasoningTokens: 5)
  file.timings = Timings(validating: 3, inProgress: 60, finalizing: 4)
  var ok = ResultFile(remote: "file-out1")
  ok.local = "batch_001.jsonl"
  ok.bytes = 300
  ok.lines = 1
  ok.isRemoteDeleted = true
  var failed = ResultFile(remote: "file-err1")
  failed.local = "batch_001_error.jsonl"
  failed.bytes = 200
  failed.lines = 1
  failed.isRemoteDeleted = false
  file.outputFilenames = OutputFiles(ok: ok, failed: failed)
  file.sorted = true
  var bare = RequestFileRecord(
    inputFilename: InputFile(local: "batch_002.jsonl", requests: 1, bytes: 10), round: 1, model: "m",
    estimatedInputTokens: 1, maxOutputTokens: nil)
  bare.status = nil
  ledger.files = [file, bare]
  return ledger
}

/// Every key of a JSON value, recursively, with the path of dictionaries to skip.
private func keys(of value: Any, skipping: Set<String>, into out: inout [String]) {
  if let object = value as? [String: Any] {
    for (key, member) in object {
      out.append(key)
      if !skipping.contains(key) { keys(of: member, skipping: skipping, into: &out) }
    }
  } else if let array = value as? [Any] {
    for element in array { keys(of: element, skipping: skipping, into: &out) }
  }
}

@Suite struct LedgerTests {
  @Test func everyFieldRoundTrips() throws {
    let scratch = try ScratchDirectory("ledger")
    let run = try scratch.makeRun()
    let ledger = fullLedger()
    try run.replaceLedger(ledger)
    #expect(run.hasLedger)
    #expect(try run.loadLedger() == ledger)
    #expect(readText(run.ledgerPath).hasSuffix("}\n"))
  }

  @Test func keysAreSnakeCase() throws {
    let scratch = try ScratchDirectory("ledger")
    let run = try scratch.makeRun()
    try run.replaceLedger(fullLedger())
    let value = try JSONSerialization.jsonObject(with: Data(readBytes(run.ledgerPath)))
    var all: [String] = []
    keys(of: value, skipping: ["token_limits"], into: &all)
    let expected: Set<String> = [
      "batchline", "run_id", "created_at", "base_url", "endpoint", "output_field", "items", "path", "count", "bytes",
      "token_limits", "files", "input_filename", "local", "requests", "sha256", "upload_started_at", "remote",
      "is_remote_deleted", "round", "model", "estimated_input_tokens", "max_output_tokens", "create_started_at",
      "batch_id", "previous_batches", "status", "reason", "request_counts", "total", "completed", "failed", "errors",
      "code", "message", "param", "line", "usage", "input_tokens", "cached_tokens", "output_tokens",
      "reasoning_tokens", "timings", "validating", "in_progress", "finalizing", "output_filenames", "ok", "lines",
      "sorted",
    ]
    #expect(Set(all) == expected)
    // The article's names are kept.
    let text = readText(run.ledgerPath)
    for name in ["\"input_filename\"", "\"batch_id\"", "\"status\"", "\"errors\"", "\"output_filenames\""] {
      #expect(text.contains(name))
    }
  }

  /// A batch's status is typed in memory and stays the API's string on disk,
  /// so status.json files written before the type still load.
  @Test func statusIsStoredAsTheAPIString() throws {
    let scratch = try ScratchDirectory("ledger")
    let run = try scratch.makeRun()
    var ledger = fullLedger()
    ledger.files[0].status = .inProgress
    ledger.files[0].timings = nil  // its `in_progress` key would be rewritten below
    ledger.files[0].previousBatches = [PreviousBatch(batchId: "batch_0", status: .cancelled, reason: nil)]
    try run.replaceLedger(ledger)
    let value = try JSONSerialization.jsonObject(with: Data(readBytes(run.ledgerPath))) as? [String: Any]
    let file = (value?["files"] as? [[String: Any]])?.first
    #expect(file?["status"] as? String == "in_progress")
    #expect((file?["previous_batches"] as? [[String: Any]])?.first?["status"] as? String == "cancelled")

    let text = readText(run.ledgerPath).replacingOccurrences(of: "in_progress", with: "expired")
    try text.write(toFile: run.ledgerPath, atomically: true, encoding: .utf8)
    let loaded = try run.loadLedger()
    #expect(loaded.files[0].status == .expired)
    #expect(loaded.files[0].isTerminal)
    #expect(loaded.files[0].previousBatches?.first?.status == .cancelled)
  }

  /// Token limits are keyed by model name, and a model name is data: it must
  /// come back as it was written, whatever its spelling.
  @Test func tokenLimitsKeepModelNamesAsTheyAre() throws {
    let scratch = try ScratchDirectory("ledger")
    let run = try scratch.makeRun()
    var ledger = fullLedger()
    ledger.tokenLimits = ["gpt-4o-mini": 2_000_000, "gpt-4.1": 900_000]
    try run.replaceLedger(ledger)
    #expect(try run.loadLedger().tokenLimits == ledger.tokenLimits)

    // Fine-tuned models and Azure deployments carry underscores and capitals.
    ledger.tokenLimits = ["ft:gpt-4o-mini-2024-07-18:acme:my_suffix:abc123": 5_000, "myDeployment": 7_000]
    ledger.files[0].model = "ft:gpt-4o-mini-2024-07-18:acme:my_suffix:abc123"
    try run.replaceLedger(ledger)
    let loaded = try run.loadLedger()
    #expect(loaded.files[0].model == "ft:gpt-4o-mini-2024-07-18:acme:my_suffix:abc123")
    #expect(loaded.tokenLimits == ledger.tokenLimits)
    #expect(readText(run.ledgerPath).contains("\"myDeployment\""))
  }

  @Test func aDamagedLedgerIsBadDataAndLeftAsItIs() throws {
    let scratch = try ScratchDirectory("ledger")
    let run = try scratch.makeRun()
    for damaged in ["{ \"run_id\": ", "", "[]", #"{"run_id":"r"}"#, "{\"batchline\":1,\"run_id\":5}"] {
      try writeText(damaged, to: run.ledgerPath)
      let before = inode(run.ledgerPath)
      let load = toolError { _ = try run.loadLedger() }
      #expect(load?.status == .dataError)
      #expect(load?.message.hasPrefix("'\(run.ledgerPath)' is damaged (") == true)
      #expect(load?.message.hasSuffix("; it was left as it is") == true)
      let update = toolError { try run.updateLedger { $0.runId = "changed" } }
      #expect(update?.status == .dataError)
      #expect(readText(run.ledgerPath) == damaged)
      #expect(inode(run.ledgerPath) == before)
    }
    #expect(listDirectory(run.path) == ["in", "out", "status.json"])
  }

  @Test func aMissingLedgerIsMissingInput() throws {
    let scratch = try ScratchDirectory("ledger")
    let run = try scratch.makeRun()
    #expect(!run.hasLedger)
    let error = toolError { _ = try run.loadLedger() }
    #expect(error?.status == .noInput)
    #expect(error?.message == "cannot read '\(run.ledgerPath)': No such file; run batch-prepare first")
  }

  @Test func anUnchangedUpdateDoesNotRewriteTheFile() throws {
    let scratch = try ScratchDirectory("ledger")
    let run = try scratch.makeRun()
    try run.replaceLedger(fullLedger())
    let before = inode(run.ledgerPath)
    let value = try run.updateLedger { $0.files.count }
    #expect(value == 2)
    #expect(inode(run.ledgerPath) == before)
    try run.updateLedger { $0.baseUrl = "https://api.openai.com/v1" }
    #expect(inode(run.ledgerPath) != before)
    #expect(try run.loadLedger().baseUrl == "https://api.openai.com/v1")
  }

  @Test func aThrowingUpdateWritesNothing() throws {
    let scratch = try ScratchDirectory("ledger")
    let run = try scratch.makeRun()
    try run.replaceLedger(fullLedger())
    let before = readBytes(run.ledgerPath)
    struct Stop: Error {}
    #expect(throws: Stop.self) {
      try run.updateLedger { ledger in
        ledger.runId = "changed"
        throw Stop()
      }
    }
    #expect(readBytes(run.ledgerPath) == before)
  }

  @Test func concurrentUpdatesLoseNothing() throws {
    let scratch = try ScratchDirectory("ledger")
    let run = try scratch.makeRun()
    var ledger = fullLedger()
    ledger.tokenLimits = [:]
    try run.replaceLedger(ledger)
    let threads = 6
    let each = 15
    let failures = Guarded<[String]>([])
    DispatchQueue.concurrentPerform(iterations: threads) { thread in
      for _ in 0..<each {
        do {
          try run.updateLedger { ledger in
            ledger.tokenLimits!["counter", default: 0] += 1
            ledger.tokenLimits!["thread\(thread)", default: 0] += 1
          }
        } catch {
          failures.mutate { $0.append("\(error)") }
        }
      }
    }
    #expect(failures.value.isEmpty)
    let limits = try #require(try run.loadLedger().tokenLimits)
    #expect(limits["counter"] == threads * each)
    for thread in 0..<threads { #expect(limits["thread\(thread)"] == each) }
    // No temporary file is left beside the ledger.
    #expect(listDirectory(run.path).filter { $0.contains(".tmp.") }.isEmpty)
  }

  @Test func theRunLockIsExclusive() throws {
    let scratch = try ScratchDirectory("ledger")
    let run = try scratch.makeRun()
    let lock = try run.lockRun()
    let error = toolError { _ = try run.lockRun() }
    #expect(error?.status == .tryAgainLater)
    #expect(error?.message == "another batchline tool is working on '\(run.path)'; try again when it ends")
    lock.release()
    let again = try run.lockRun()
    again.release()
  }

  @Test func leftoversOfAKilledToolAreRemoved() throws {
    let scratch = try ScratchDirectory("ledger")
    let run = try scratch.makeRun()
    let keep = ["batch_001.jsonl", "batch_001_error.jsonl"]
    let drop = [".batch_001.jsonl.tmp.AbC123", ".batch_001.jsonl.0123456789ab.upload", "batch_001.jsonl.part"]
    for name in keep + drop {
      try writeText("x", to: run.requestPath(name))
      try writeText("x", to: run.resultPath(name))
    }
    // A killed download's transfers, nested or not.
    try FileManager.default.createDirectory(atPath: run.incomingDirectory + "/sub", withIntermediateDirectories: true)
    try writeText("x", to: run.incomingDirectory + "/0C4F.tmp")
    try writeText("x", to: run.incomingDirectory + "/sub/x.tmp")
    run.removeLeftovers()
    #expect(listDirectory(run.inDirectory) == keep.sorted())
    #expect(listDirectory(run.outDirectory) == keep.sorted())
  }

  @Test func derivedStates() throws {
    var file = RequestFileRecord(
      inputFilename: InputFile(local: "batch_007.jsonl", requests: 1, bytes: 1), round: 1, model: "m",
      estimatedInputTokens: 1, maxOutputTokens: nil)
    #expect(file.stem == "batch_007")
    #expect(!file.isInFlight && !file.isTerminal && !file.isDownloaded)
    file.inputFilename.uploadStartedAt = 1
    #expect(file.isInFlight)  // an upload whose outcome is unknown
    file.inputFilename.remote = "file-1"
    #expect(!file.isInFlight)
    file.createStartedAt = 2
    #expect(file.isInFlight)  // a create whose outcome is unknown
    file.batchId = "batch_1"
    file.status = .inProgress
    #expect(file.isInFlight && !file.isTerminal)
    for status: Batch.Status in [.completed, .failed, .expired, .cancelled] {
      file.status = status
      #expect(file.isTerminal && !file.isInFlight)
    }
    file.status = .cancelling
    #expect(!file.isTerminal)
    file.status = .completed
    #expect(!file.isDownloaded)  // no result ids recorded yet
    file.outputFilenames = OutputFiles(ok: ResultFile(remote: "file-o"), failed: ResultFile(remote: nil))
    #expect(!file.isDownloaded)
    file.outputFilenames?.ok.local = "batch_007.jsonl"
    #expect(file.isDownloaded)
    file.outputFilenames?.failed.remote = "file-e"
    #expect(!file.isDownloaded)
  }

  @Test func runDirectoryPaths() {
    let run = RunDirectory("some/dir///")
    #expect(run.path == "some/dir")
    #expect(run.ledgerPath == "some/dir/status.json")
    #expect(run.itemsPath == "some/dir/items.jsonl")
    #expect(run.promptPath == "some/dir/prompt.json")
    #expect(run.classifiedPath == "some/dir/items_classified.jsonl")
    #expect(run.requestPath("batch_001.jsonl") == "some/dir/in/batch_001.jsonl")
    #expect(run.resultPath("batch_001.jsonl") == "some/dir/out/batch_001.jsonl")
    #expect(RunDirectory("/").path == "/")
  }
}
