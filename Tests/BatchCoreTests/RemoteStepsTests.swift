import Foundation
import Testing

@testable import BatchCore

private let chatTemplate =
  #"{"url":"/v1/chat/completions","custom_id":"{{id}}","body":{"model":"gpt-4o-mini","max_tokens":50,"messages":[{"role":"user","content":"Item: {{name}}"}]}}"#

/// A prepared run and a fake server.
private struct Remote: Sendable {
  let scratch: ScratchDirectory
  let run: RunDirectory
  let api = FakeAPI()
  let client: OpenAIClient

  /// Prepares `items` items, `perFile` requests to a file.
  init(items: Int = 4, perFile: Int = 2) throws {
    scratch = try ScratchDirectory("remote")
    run = try scratch.makeRun()
    let text = (1...items).map { #"{"id":"i\#($0)","name":"n\#($0)"}"# }.joined(separator: "\n") + "\n"
    try writeText(text, to: run.itemsPath)
    try writeText(chatTemplate, to: run.promptPath)
    var options = PrepareOptions(run: run)
    options.limits.requests = perFile
    try prepareRun(options)
    client = api.client()
  }

  var ledger: Ledger { get throws { try run.loadLedger() } }

  func remoteName(_ local: String) throws -> String {
    RemoteRun.remoteName(runId: try ledger.runId, local: local)
  }

  func upload() async throws { try await uploadRun(run, client: client) }
  func create(tokenLimit: Int? = nil) async throws {
    try await createRun(CreateOptions(run: run, tokenLimit: tokenLimit, poll: 0.01), client: client)
  }
  func wait(once: Bool = false) async throws {
    try await waitRun(WaitOptions(run: run, poll: 0.01, once: once), client: client)
  }
  func download() async throws { try await downloadRun(run, client: client) }
  func cleanup() async throws { try await cleanupRun(run, client: client) }
}

/// Polls `condition` every 10 ms for up to 5 s.
private func eventually(_ condition: () -> Bool) async throws -> Bool {
  for _ in 0..<500 {
    if condition() { return true }
    try await Task.sleep(nanoseconds: 10_000_000)
  }
  return condition()
}

@Suite struct RemoteStepsTests {
  // MARK: - Upload

  @Test func uploadRecordsFileIDsAfterWritingTheIntent() async throws {
    let remote = try Remote()
    let run = remote.run
    let seen = Guarded<[String: InputFile]>([:])
    remote.api.onCall = { call in
      guard call.name == "POST /files", let ledger = try? run.loadLedger(),
        let file = ledger.files.first(where: { call.detail?.hasSuffix("-" + $0.inputFilename.local) == true })
      else { return }
      seen.mutate { $0[file.inputFilename.local] = file.inputFilename }
    }
    try await remote.upload()

    let ledger = try remote.ledger
    #expect(remote.api.calls("POST /files").count == 2)
    #expect(remote.api.calls("GET /files").isEmpty)
    for file in ledger.files {
      let local = file.inputFilename.local
      // At the moment of the paid call, the intent and the digest were on disk.
      let before = try #require(seen.value[local])
      #expect(before.uploadStartedAt != nil && before.remote == nil && before.sha256 != nil)
      let id = try #require(file.inputFilename.remote)
      let stored = try #require(remote.api.file(id))
      #expect(stored.filename == "batchline-\(ledger.runId)-\(local)")
      #expect(stored.purpose == "batch")
      #expect(stored.content == readBytes(run.requestPath(local)))
      #expect(file.inputFilename.sha256 == (try SHA256.hexDigest(ofFile: run.requestPath(local))))
      #expect(file.inputFilename.uploadStartedAt != nil)
    }
    #expect(ledger.baseUrl == FakeAPI.baseURL)
    #expect(listDirectory(run.inDirectory) == ["batch_001.jsonl", "batch_002.jsonl"])

    // A rerun has nothing to do.
    try await remote.upload()
    #expect(remote.api.calls("POST /files").count == 2)
    #expect(remote.api.files.count == 2)
  }

  @Test func anUploadWhoseAnswerIsLostIsAdopted() async throws {
    let remote = try Remote(items: 2, perFile: 2)
    remote.api.dropUploadAnswers = 1
    try await remote.upload()
    let files = remote.api.files
    #expect(files.count == 1)
    #expect(try remote.ledger.files[0].inputFilename.remote == files.first?.id)
    #expect(remote.api.calls.map(\.name) == ["POST /files", "GET /files"])
  }

  /// A lost answer whose file the list does not show within the visibility
  /// wait (0 s here) is sent again, as a rerun would; the unlisted copy is an
  /// orphan that cleanup deletes.
  @Test func anUploadNotListedWithinTheWaitIsSentAgainAndItsCopyCleanedUp() async throws {
    let remote = try Remote(items: 2, perFile: 2)
    remote.api.dropUploadAnswers = 1
    remote.api.hideNewFilesForLists = 1
    try await remote.upload()
    #expect(remote.api.calls.map(\.name) == ["POST /files", "GET /files", "POST /files"])
    let copies = remote.api.files.map(\.id)
    #expect(copies.count == 2)
    #expect(try remote.ledger.files[0].inputFilename.remote == copies.last)

    try await remote.create()
    try await remote.cleanup()
    #expect(remote.api.files.map(\.id) == [copies[1]])  // the request file stays while its batch runs
  }

  @Test func aCrashBetweenIntentAndRecordIsAdopted() async throws {
    let remote = try Remote(items: 2, perFile: 2)
    let path = remote.run.requestPath("batch_001.jsonl")
    let digest = try SHA256.hexDigest(ofFile: path)
    try remote.run.updateLedger {
      $0.files[0].inputFilename.uploadStartedAt = RemoteRun.now
      $0.files[0].inputFilename.sha256 = digest
    }
    let name = try remote.remoteName("batch_001.jsonl")
    // Decoys: another run's file, and a cut-off copy of ours (wrong size).
    remote.api.addFile(filename: "batchline-run-ffffffffffffffff-batch_001.jsonl", content: readBytes(path))
    remote.api.addFile(filename: name, content: Array(readBytes(path).prefix(10)))
    let stored = remote.api.addFile(filename: name, content: readBytes(path))
    remote.api.addFile(filename: "unrelated.jsonl", content: readBytes(path), newest: true)

    try await remote.upload()
    #expect(remote.api.calls("POST /files").isEmpty)
    #expect(try remote.ledger.files[0].inputFilename.remote == stored)
    #expect(remote.api.files.count == 4)
    #expect(hiddenFiles(in: remote.run.inDirectory).isEmpty, "no multipart body was written")
  }

  /// An upload interrupted before its answer, of a file changed since: the
  /// copy on the server is of other bytes, so it is neither adopted nor
  /// sent again.
  @Test func aChangedFileIsNotAdopted() async throws {
    let remote = try Remote(items: 2, perFile: 2)
    let path = remote.run.requestPath("batch_001.jsonl")
    try remote.run.updateLedger {
      $0.files[0].inputFilename.uploadStartedAt = RemoteRun.now
      $0.files[0].inputFilename.sha256 = String(repeating: "0", count: 64)
    }
    remote.api.addFile(filename: try remote.remoteName("batch_001.jsonl"), content: readBytes(path))
    let error = await asyncToolError { try await remote.upload() }
    #expect(error?.status == .dataError)
    #expect(remote.api.calls.isEmpty)
    #expect(try remote.ledger.files[0].inputFilename.remote == nil)
  }

  @Test func aSecondCopyLeftByEarlierCrashesIsDeleted() async throws {
    let remote = try Remote(items: 2, perFile: 2)
    let path = remote.run.requestPath("batch_001.jsonl")
    try remote.run.updateLedger { $0.files[0].inputFilename.uploadStartedAt = RemoteRun.now }
    let name = try remote.remoteName("batch_001.jsonl")
    let first = remote.api.addFile(filename: name, content: readBytes(path))
    let second = remote.api.addFile(filename: name, content: readBytes(path))
    try await remote.upload()
    #expect(try remote.ledger.files[0].inputFilename.remote == first)
    #expect(remote.api.file(second) == nil)
    #expect(remote.api.files.map(\.id) == [first])
  }

  @Test func anIntentWithNothingOnTheServerUploadsOnce() async throws {
    let remote = try Remote(items: 2, perFile: 2)
    try remote.run.updateLedger { $0.files[0].inputFilename.uploadStartedAt = RemoteRun.now }
    try await remote.upload()
    #expect(remote.api.calls.map(\.name) == ["GET /files", "POST /files"])
    #expect(remote.api.files.count == 1)
  }

  @Test func aRequestFileChangedSincePrepareIsRefused() async throws {
    let remote = try Remote(items: 2, perFile: 2)
    try remote.run.updateLedger { $0.files[0].inputFilename.sha256 = String(repeating: "0", count: 64) }
    let error = await asyncToolError { try await remote.upload() }
    #expect(error?.status == .dataError)
    #expect(error?.message == "'\(remote.run.requestPath("batch_001.jsonl"))' changed since it was prepared; run batch-prepare again")
    #expect(remote.api.calls.isEmpty)
    #expect(hiddenFiles(in: remote.run.inDirectory).isEmpty, "the multipart body is removed")
  }

  @Test func anotherServerIsRefusedOnceTheRunStarted() async throws {
    let remote = try Remote(items: 2, perFile: 2)
    try await remote.upload()
    try remote.run.updateLedger { $0.baseUrl = "https://api.openai.com/v1" }
    let error = await asyncToolError { try await remote.create() }
    #expect(error?.status == .configuration)
    #expect(error?.message.contains("belongs to a run against 'https://api.openai.com/v1'") == true)
    #expect(remote.api.calls("POST /batches").isEmpty)
  }

  // MARK: - Create

  @Test func createTagsEachBatchAndWritesTheIntentFirst() async throws {
    let remote = try Remote()
    try await remote.upload()
    let run = remote.run
    let intents = Guarded<[Int?]>([])
    remote.api.onCall = { call in
      guard call.name == "POST /batches", let ledger = try? run.loadLedger() else { return }
      let local = call.detail.flatMap { $0.contains("batch_001") ? "batch_001.jsonl" : "batch_002.jsonl" }
      let file = ledger.files.first { $0.inputFilename.local == local }
      intents.mutate { $0.append(file?.batchId == nil ? file?.createStartedAt : nil) }
    }
    try await remote.create()

    let ledger = try remote.ledger
    let posts = remote.api.calls("POST /batches")
    #expect(posts.count == 2)
    #expect(intents.value.count == 2 && intents.value.allSatisfy { $0 != nil })
    for (post, file) in zip(posts, ledger.files) {
      let body = try #require(try JSONSerialization.jsonObject(with: Data((post.detail ?? "").utf8)) as? [String: Any])
      #expect(body["input_file_id"] as? String == file.inputFilename.remote)
      #expect(body["endpoint"] as? String == "/v1/chat/completions")
      #expect(body["completion_window"] as? String == "24h")
      let metadata = body["metadata"] as? [String: String]
      #expect(metadata?["batchline_run"] == ledger.runId)
      #expect(metadata?["batchline_file"] == file.inputFilename.local)
      #expect(metadata?["batchline_sha256"] == file.inputFilename.sha256)
      #expect(file.inputFilename.sha256?.count == 64)
      let batch = try #require(remote.api.batch(file.batchId ?? ""))
      #expect(batch.inputFileID == file.inputFilename.remote)
      #expect(file.status == .inProgress)
    }
    // A rerun makes no second batch.
    try await remote.create()
    #expect(remote.api.calls("POST /batches").count == 2)
  }

  @Test func createWantsEveryFileUploaded() async throws {
    let remote = try Remote()
    let error = await asyncToolError { try await remote.create() }
    #expect(error?.status == .noInput)
    #expect(error?.message == "in/batch_001.jsonl is not uploaded yet; run batch-upload")
  }

  @Test func aCreateWhoseAnswerIsLostIsFoundByItsMetadata() async throws {
    let remote = try Remote(items: 2, perFile: 2)
    try await remote.upload()
    let runId = try remote.ledger.runId
    // 150 newer batches of others put ours on the second page of the list.
    for n in 0..<150 {
      remote.api.addBatch(inputFileID: "file-other", metadata: ["batchline_run": "run-other\(n)", "batchline_file": "batch_001.jsonl"], newest: true)
    }
    remote.api.dropCreateAnswers = 1
    try await remote.create()

    let ours = remote.api.batches.filter { $0.metadata?["batchline_run"] == runId }
    #expect(ours.count == 1)
    #expect(remote.api.calls("POST /batches").count == 1)
    #expect(try remote.ledger.files[0].batchId == ours.first?.id)
    let lists = remote.api.calls("GET /batches")
    #expect(lists.count >= 2)
    #expect(lists.last?.query["after"] != nil)
  }

  @Test func aCrashBetweenCreateIntentAndRecordIsAdopted() async throws {
    let remote = try Remote(items: 2, perFile: 2)
    try await remote.upload()
    let ledger = try remote.ledger
    let file = ledger.files[0]
    try remote.run.updateLedger { $0.files[0].createStartedAt = RemoteRun.now }
    let batch = remote.api.addBatch(
      inputFileID: file.inputFilename.remote!,
      metadata: [
        "batchline_run": ledger.runId, "batchline_file": "batch_001.jsonl", "batchline_sha256": file.inputFilename.sha256!,
      ])
    try await remote.create()
    #expect(remote.api.calls("POST /batches").isEmpty)
    #expect(try remote.ledger.files[0].batchId == batch)
    #expect(try remote.ledger.files[0].status == .inProgress)
  }

  @Test func aCreateIntentWithNoBatchOnTheServerCreatesOnce() async throws {
    let remote = try Remote(items: 2, perFile: 2)
    try await remote.upload()
    try remote.run.updateLedger { $0.files[0].createStartedAt = RemoteRun.now }
    try await remote.create()
    #expect(remote.api.calls("POST /batches").count == 1)
    #expect(remote.api.batches.count == 1)
    #expect(try remote.ledger.files[0].batchId == remote.api.batches.first?.id)
  }

  /// Files estimated at 1.5 M tokens each, against a limit of 2 M learned from
  /// a refusal: the refused file goes in again once the other one finishes.
  @Test func aTokenLimitRefusalTeachesTheLimitAndIsMadeAgain() async throws {
    let remote = try Remote(items: 4, perFile: 2)
    try await remote.upload()
    try remote.run.updateLedger { ledger in
      for n in ledger.files.indices { ledger.files[n].estimatedInputTokens = 1_500_000 }
    }
    remote.api.tokenLimitRefusalsByFile = ["batch_002.jsonl": 1]
    remote.api.completeOnRetrieve = 2
    let statuses = Guarded<[[String]]>([])
    let api = remote.api
    api.onCall = { call in
      guard call.name == "POST /batches" else { return }
      statuses.mutate { $0.append(api.batches.map(\.status.rawValue)) }
    }
    let start = Date()
    try await remote.create()
    let elapsed = Date().timeIntervalSince(start)

    let ledger = try remote.ledger
    #expect(ledger.tokenLimits?["gpt-4o-mini"] == 2_000_000)
    let refused = ledger.files[1]
    let previous = try #require(refused.previousBatches?.first)
    #expect(refused.previousBatches?.count == 1)
    #expect(previous.status == .failed)
    #expect(previous.reason == "token_limit_exceeded")
    #expect(refused.batchId != nil && refused.batchId != previous.batchId)
    #expect(refused.errors == nil)
    #expect(remote.api.calls("POST /batches").count == 3)
    // The refused file went in again only after the first batch had finished.
    #expect(statuses.value.last == ["completed", "failed"])
    #expect(ledger.files[0].status == .completed)
    // POLL (0.01 s here) caps every pause between polls: without the cap the
    // capacity wait alone would pause 60 s; a busy machine takes a second or two.
    #expect(elapsed < 10)
  }

  @Test func createSubmitsOnlyWhatFitsAKnownLimit() async throws {
    let remote = try Remote(items: 3, perFile: 1)
    try await remote.upload()
    try remote.run.updateLedger { ledger in
      for n in ledger.files.indices { ledger.files[n].estimatedInputTokens = 1_000 }
    }
    // Two files fit under 90 % of 2,500 tokens; the third waits.
    let task = Task { try await remote.create(tokenLimit: 2_500) }
    let api = remote.api
    #expect(try await eventually { api.calls("POST /batches").count == 2 })
    try await Task.sleep(nanoseconds: 100_000_000)
    #expect(api.calls("POST /batches").count == 2)
    task.cancel()
    await #expect(throws: CancellationError.self) { try await task.value }

    var ledger = try remote.ledger
    #expect(ledger.tokenLimits == ["gpt-4o-mini": 2_500])
    #expect(ledger.files.map { $0.batchId != nil } == [true, true, false])
    #expect(ledger.files[2].createStartedAt == nil)

    // Once the first batch finishes, a rerun submits the third (the limit is in the ledger now).
    api.complete(ledger.files[0].batchId!)
    try await remote.create()
    ledger = try remote.ledger
    #expect(api.calls("POST /batches").count == 3)
    #expect(ledger.files.allSatisfy { $0.batchId != nil })
    #expect(ledger.files[0].status == .completed)
  }

  @Test func theLimitInARefusal() {
    #expect(
      enqueuedLimit(
        in: "Enqueued token limit reached for gpt-4o-mini in organization org-abc. Limit: 2,000,000 enqueued tokens. Please try again once some in_progress batches have been completed."
      ) == 2_000_000)
    #expect(enqueuedLimit(in: "Limit: 90000 enqueued tokens") == 90_000)
    #expect(enqueuedLimit(in: "Limit: 1_500_000") == 1_500_000)
    #expect(enqueuedLimit(in: "Limit: 40,000,000,000 enqueued tokens") == 40_000_000_000)
    #expect(enqueuedLimit(in: "Limit: many") == nil)
    #expect(enqueuedLimit(in: "enqueued token limit reached") == nil)
    #expect(enqueuedLimit(in: nil) == nil)
  }

  // MARK: - Wait

  /// A round of polling writes status.json once, after all its reads: no
  /// read of a round sees the ledger rewritten by an earlier read of it.
  @Test func waitWritesTheLedgerOncePerRound() async throws {
    let remote = try Remote(items: 6, perFile: 2)
    try await remote.upload()
    try await remote.create()
    remote.api.completeOnRetrieve = 2
    let ledgerPath = remote.run.ledgerPath
    let seen = Guarded<[UInt64]>([])
    remote.api.onCall = { call in
      guard call.method == "GET", call.path.hasPrefix("/batches/") else { return }
      var info = stat()
      _ = stat(ledgerPath, &info)
      seen.mutate { $0.append(UInt64(info.st_ino)) }
    }
    try await remote.wait()
    // Two rounds of three reads; the batches complete in the second.
    #expect(seen.value.count == 6)
    #expect(Set(seen.value[3..<6]).count == 1, "status.json rewritten in the middle of a round")
    #expect(try remote.ledger.files.allSatisfy { $0.status == .completed })
  }

  @Test func waitRecordsStatusCountsUsageAndResultIDs() async throws {
    let remote = try Remote(items: 4, perFile: 2)
    try await remote.upload()
    try await remote.create()
    remote.api.failingRequests = ["i2": 500]
    remote.api.completeOnRetrieve = 3
    try await remote.wait()
    let ledger = try remote.ledger
    let first = ledger.files[0]
    let batch = try #require(remote.api.batch(first.batchId!))
    #expect(first.status == .completed)
    #expect(first.requestCounts == Counts(total: 2, completed: 1, failed: 1))
    #expect(first.outputFilenames?.ok.remote == batch.outputFileID)
    #expect(first.outputFilenames?.failed.remote == batch.errorFileID)
    #expect(first.outputFilenames?.ok.local == nil)
    #expect(first.usage == UsageRecord(inputTokens: 10, cachedTokens: 0, outputTokens: 2, reasoningTokens: 0))
    #expect(ledger.files[1].requestCounts == Counts(total: 2, completed: 2, failed: 0))
    #expect(ledger.files[1].outputFilenames?.failed.remote == nil)
    #expect(ledger.files.allSatisfy { $0.isTerminal })
  }

  @Test func waitOnceExits75WhileBatchesRun() async throws {
    let remote = try Remote(items: 4, perFile: 2)
    try await remote.upload()
    try await remote.create()
    let error = await asyncToolError { try await remote.wait(once: true) }
    #expect(error?.status == .tryAgainLater)
    #expect(error?.message == "2 batches are still running; run again later")
    #expect(remote.api.calls("GET /batches/\(try remote.ledger.files[0].batchId!)").count == 1)

    remote.api.complete(try remote.ledger.files[0].batchId!)
    let one = await asyncToolError { try await remote.wait(once: true) }
    #expect(one?.message == "1 batch is still running; run again later")
    #expect(try remote.ledger.files[0].status == .completed)

    remote.api.complete(try remote.ledger.files[1].batchId!)
    try await remote.wait(once: true)
    #expect(try remote.ledger.files.allSatisfy { $0.isTerminal })
  }

  @Test func waitWantsEveryBatchCreated() async throws {
    let remote = try Remote(items: 2, perFile: 2)
    try await remote.upload()
    let error = await asyncToolError { try await remote.wait() }
    #expect(error?.status == .noInput)
    #expect(error?.message == "in/batch_001.jsonl has no batch yet; run batch-create")
  }

  // MARK: - Download

  @Test func downloadWritesTheResultFilesAndRecordsThem() async throws {
    let remote = try Remote(items: 4, perFile: 2)
    try await remote.upload()
    try await remote.create()
    remote.api.failingRequests = ["i2": 500]
    remote.api.completeOnRetrieve = 1
    try await remote.wait()
    try await remote.download()

    let ledger = try remote.ledger
    let first = ledger.files[0]
    let ok = try #require(first.outputFilenames?.ok)
    let failed = try #require(first.outputFilenames?.failed)
    #expect(ok.local == "batch_001.jsonl")
    #expect(failed.local == "batch_001_error.jsonl")
    #expect(readBytes(remote.run.resultPath("batch_001.jsonl")) == remote.api.file(ok.remote!)?.content)
    #expect(readBytes(remote.run.resultPath("batch_001_error.jsonl")) == remote.api.file(failed.remote!)?.content)
    #expect(ok.bytes == readBytes(remote.run.resultPath("batch_001.jsonl")).count)
    #expect(ok.lines == 1 && failed.lines == 1)
    #expect(ledger.files[1].outputFilenames?.ok.lines == 2)
    #expect(ledger.files.allSatisfy { $0.isDownloaded })
    #expect(listDirectory(remote.run.outDirectory) == ["batch_001.jsonl", "batch_001_error.jsonl", "batch_002.jsonl"])

    // A rerun downloads nothing again.
    let before = remote.api.calls.count
    try await remote.download()
    #expect(remote.api.calls.count == before)
  }

  @Test func aShortDownloadIsFetchedAgain() async throws {
    let remote = try Remote(items: 2, perFile: 2)
    try await remote.upload()
    try await remote.create()
    remote.api.completeOnRetrieve = 1
    try await remote.wait()
    // The batch says 3 answers; the file has 2.
    try remote.run.updateLedger { $0.files[0].requestCounts?.completed = 3 }
    try await remote.download()
    let id = try #require(try remote.ledger.files[0].outputFilenames?.ok.remote)
    #expect(remote.api.calls("GET /files/\(id)/content").count == 2)
    #expect(try remote.ledger.files[0].outputFilenames?.ok.lines == 2)
  }

  @Test func downloadWaitsForTheBatches() async throws {
    let remote = try Remote(items: 2, perFile: 2)
    try await remote.upload()
    try await remote.create()
    let error = await asyncToolError { try await remote.download() }
    #expect(error?.status == .noInput)
    #expect(error?.message == "the batch of in/batch_001.jsonl has not finished; run batch-wait")
  }

  // MARK: - Cleanup

  @Test func cleanupDeletesOnlyWhatIsSafeAndTheRunsOrphans() async throws {
    let remote = try Remote(items: 3, perFile: 1)
    let api = remote.api
    try await remote.upload()
    try await remote.create()
    let ledger = try remote.ledger
    // batch_001 finishes and is downloaded; batch_002 runs; batch_003
    // finishes but its output is not downloaded yet.
    api.failingRequests = ["i1": 500]
    api.complete(ledger.files[0].batchId!)
    api.complete(ledger.files[2].batchId!)
    _ = try? await remote.wait(once: true)
    // Download batch_001's results by hand (download itself waits for every batch).
    let results = try #require(try remote.ledger.files[0].outputFilenames)
    let errorFile = try #require(results.failed.remote)
    try writeBytes(try #require(api.file(errorFile)?.content), to: remote.run.resultPath("batch_001_error.jsonl"))
    try remote.run.updateLedger { $0.files[0].outputFilenames?.failed.local = "batch_001_error.jsonl" }
    let after = try remote.ledger
    #expect(after.files[0].isDownloaded && !after.files[1].isTerminal && !after.files[2].isDownloaded)

    let runName = try remote.remoteName("batch_001.jsonl")
    let orphan = api.addFile(filename: runName, content: [1])
    let otherRun = api.addFile(filename: "batchline-run-ffffffffffffffff-batch_001.jsonl", content: [1])
    let unrelated = api.addFile(filename: "mine.jsonl", content: [1])
    let othersOutput = api.addFile(filename: "batch_output.jsonl", content: [1], purpose: "batch_output")

    try await remote.cleanup()
    let first = after.files[0]
    let deleted = [first.inputFilename.remote!, first.outputFilenames!.failed.remote!, orphan]
    #expect(first.outputFilenames?.ok.remote == nil)
    let kept = [
      after.files[1].inputFilename.remote!, after.files[2].inputFilename.remote!,
      after.files[2].outputFilenames!.ok.remote!, otherRun, unrelated, othersOutput,
    ]
    #expect(Set(api.files.map(\.id)) == Set(kept))
    for id in deleted { #expect(api.file(id) == nil) }
    let cleaned = try remote.ledger
    #expect(cleaned.files[0].inputFilename.isRemoteDeleted == true)
    #expect(cleaned.files[0].outputFilenames?.failed.isRemoteDeleted == true)
    #expect(cleaned.files[1].inputFilename.isRemoteDeleted == nil)
    #expect(cleaned.files[2].inputFilename.isRemoteDeleted == nil)
    #expect(api.calls.filter { $0.method == "DELETE" }.count == 3)

    // A rerun deletes nothing more.
    try await remote.cleanup()
    #expect(api.calls.filter { $0.method == "DELETE" }.count == 3)
  }

  @Test func cleanupKeepsARequestFileNotSubmittedYet() async throws {
    let remote = try Remote(items: 2, perFile: 1)
    try await remote.upload()
    // batch_002 is uploaded and waits for capacity (as after a token-limit
    // refusal, or a create killed before it), so it has no batch now.
    try remote.run.updateLedger { ledger in
      ledger.files[1].previousBatches = [PreviousBatch(batchId: "batch_old", status: .failed, reason: "token_limit_exceeded")]
    }
    let waiting = try remote.ledger.files[1].inputFilename.remote!
    try await remote.cleanup()
    let flag = try remote.ledger.files[1].inputFilename.isRemoteDeleted
    #expect(remote.api.file(waiting) != nil)
    #expect(flag == nil)
  }

  @Test func forgettingARunKeepsTheUsersFilesAndRefusesWhileBatchesRun() async throws {
    let remote = try Remote(items: 2, perFile: 1)
    try await remote.upload()
    try await remote.create()
    let error = await asyncToolError { try await forgetRun(remote.run, client: remote.client) }
    #expect(error?.status == .failure)
    #expect(error?.message == "'\(remote.run.ledgerPath)' has 2 batches in flight; wait for them with batch-wait \(remote.run.path) before starting over")
    #expect(remote.run.hasLedger)

    for file in try remote.ledger.files { remote.api.complete(file.batchId!) }
    try await remote.wait()
    try await remote.download()
    try writeText("{}", to: remote.run.pricesPath)
    try writeText("{}\n", to: remote.run.classifiedPath)
    // Not while another tool works on the run.
    let lock = try remote.run.lockRun()
    #expect(await asyncToolError { try await forgetRun(remote.run, client: remote.client) }?.status == .tryAgainLater)
    #expect(remote.run.hasLedger)
    lock.release()
    // With a key, the run's remote files go first: none is left behind.
    let remoteFiles = try remote.ledger.remoteFileIDs
    #expect(remoteFiles.count == 4 && remoteFiles.allSatisfy { remote.api.file($0) != nil })
    try await forgetRun(remote.run, client: remote.client)
    #expect(remoteFiles.allSatisfy { remote.api.file($0) == nil })
    #expect(listDirectory(remote.run.path) == ["in", "items.jsonl", "out", "prices.json", "prompt.json"])
    #expect(listDirectory(remote.run.inDirectory).isEmpty && listDirectory(remote.run.outDirectory).isEmpty)
  }

  /// Once every batch has ended and its results are on disk, the network
  /// steps call nothing, so a finished run is sorted and merged again
  /// offline; a token-limit refusal or a missing download keeps them busy.
  @Test func aSettledRunNeedsNoCall() async throws {
    let remote = try Remote(items: 4, perFile: 2)
    remote.api.completeOnRetrieve = 1
    try await remote.upload()
    try await remote.create()
    try await remote.wait()
    #expect(try remote.ledger.files.allSatisfy { $0.isTerminal && !$0.isSettled }, "results not on disk yet")
    try await remote.download()
    #expect(try remote.ledger.files.allSatisfy(\.isSettled))
    let calls = remote.api.calls.count
    try await remote.upload()
    try await remote.create()
    try await remote.wait()
    try await remote.download()
    #expect(remote.api.calls.count == calls)
    #expect(try RemoteRun.openUnlessSettled(remote.run, client: remote.client) == nil)

    var refused = try remote.ledger.files[0]
    refused.status = .failed
    refused.errors = [BatchErrorRecord(code: "token_limit_exceeded", message: "Enqueued token limit reached", param: nil, line: nil)]
    #expect(!refused.isSettled)
    refused.errors = [BatchErrorRecord(code: "invalid_request", message: "bad line", param: nil, line: 1)]
    #expect(refused.isSettled)
  }

  // MARK: - The whole run, and a retry, against the fake

  @Test func aWholeRunAndARetryLeaveNothingOnTheServer() async throws {
    let remote = try Remote(items: 5, perFile: 2)
    let api = remote.api
    api.completeOnRetrieve = 1
    api.failingRequests = ["i2": 500, "i5": 400]
    try await remote.upload()
    try await remote.create()
    try await remote.wait()
    try await remote.download()
    try sortRun(remote.run)
    var report = try mergeRun(MergeOptions(run: remote.run))
    #expect(report.answered == 3)
    #expect(report.retryable == 1)
    try await remote.cleanup()
    #expect(api.files.isEmpty)

    // make retry: the 500 goes in again and is answered; the 400 stays.
    api.failingRequests = [:]
    #expect(try prepareRetry(remote.run) == 1)
    try await remote.upload()
    try await remote.create()
    try await remote.wait()
    try await remote.download()
    try sortRun(remote.run)
    report = try mergeRun(MergeOptions(run: remote.run))
    #expect(report.answered == 4)
    let lines = readLines(of: remote.run.classifiedPath)
    #expect(lines.count == 5)
    #expect(lines[1] == #"{"id":"i2","name":"n2","llm":"answer to i2"}"#)
    #expect(lines[4].hasPrefix(#"{"id":"i5","name":"n5","llm":null,"llm_error":{"status":400,"#))
    try await remote.cleanup()
    #expect(api.files.isEmpty)
    #expect(api.batches.count == 4)
    let retryPost = try #require(api.calls("POST /batches").last?.detail)
    #expect(retryPost.contains(#""batchline_round":"2""#))
    #expect(retryPost.contains(#""batchline_file":"batch_004.jsonl""#))
    let ledger = try remote.ledger
    #expect(ledger.files.map(\.round) == [1, 1, 1, 2])
    #expect(ledger.files.allSatisfy { $0.inputFilename.isRemoteDeleted == true })
  }
}

/// The names in `directory` that start with a dot: temporary files.
private func hiddenFiles(in directory: String) -> [String] {
  ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix(".") }
}
