import Foundation
import Testing

@testable import BatchCore

@Suite struct APIErrorTests {
  @Test func aRefusedKeyExits77WithoutTheServersText() async throws {
    let echo = "Incorrect API key provided: \(ClientHarness.key). You can find your API key at https://platform.openai.com"
    let harness = try ClientHarness([.json(401, #"{"error":{"message":"\#(echo)","type":"invalid_request_error","code":"invalid_api_key"}}"#)])
    do {
      _ = try await harness.client.retrieveBatch(id: "batch_x")
      Issue.record("no error")
    } catch let error as APIError {
      let tool = error.toolError()
      #expect(tool.status == .keyRefused)
      #expect(tool.status.rawValue == 77)
      #expect(tool.message == "GET /v1/batches/batch_x: the API key was refused (HTTP 401)")
      #expect(!"\(error)".contains("sk-"))
      let serverText = error.detail?.message ?? ""
      #expect(!serverText.contains(ClientHarness.key))
    }
    #expect(harness.transport.requests.count == 1)
  }

  @Test func forbiddenIsARefusedKeyToo() {
    let error = APIError(.http(status: 403, detail: nil, retryAfter: nil), method: "POST", path: "/v1/files", kind: .create)
    #expect(error.toolError() .status == .keyRefused)
    #expect(error.toolError().message == "POST /v1/files: the API key was refused (HTTP 403)")
  }

  @Test func serverMessagesAreRedactedAndOnOneLine() async throws {
    let message = "Bad key sk-proj-AbCdEf123456 in\\nrequest."
    let harness = try ClientHarness([.json(400, #"{"error":{"message":"\#(message)","type":"invalid_request_error","param":null,"code":null}}"#)])
    do {
      _ = try await harness.client.createBatch(inputFileID: "file-in", endpoint: "/v1/chat/completions")
      Issue.record("no error")
    } catch let error as APIError {
      let tool = error.toolError()
      #expect(tool.status == .failure)
      #expect(tool.message == "POST /v1/batches: HTTP 400: Bad key *** in request")
      #expect(!error.isRetryable && !error.outcomeUnknown)
    }
  }

  @Test func a429IsRetriedAfterTheWaitTheServerAsks() async throws {
    let harness = try ClientHarness([
      .status(429, message: "Rate limit reached", headers: ["Retry-After": "3"]),
      .json(200, batchJSON),
    ])
    let batch = try await harness.client.createBatch(inputFileID: "file-in", endpoint: "/v1/chat/completions")
    #expect(batch.id == "batch_abc")
    #expect(harness.transport.requests.count == 2)
    #expect(harness.sleeps.value == [3])
    #expect(harness.log.value == ["POST /v1/batches: HTTP 429; retrying in 3s (attempt 2 of 6)"])
  }

  @Test func retryAfterMillisecondsWins() async throws {
    let harness = try ClientHarness([
      .status(429, headers: ["retry-after-ms": "250", "Retry-After": "9"]),
      .json(200, batchJSON),
    ])
    _ = try await harness.client.retrieveBatch(id: "batch_abc")
    #expect(harness.sleeps.value == [0.25])
  }

  @Test func aPaidPostAnswered503IsNotRetriedAndItsOutcomeIsUnknown() async throws {
    let harness = try ClientHarness([.status(503, message: "Service unavailable"), .json(200, batchJSON)])
    do {
      _ = try await harness.client.createBatch(inputFileID: "file-in", endpoint: "/v1/chat/completions")
      Issue.record("no error")
    } catch let error as APIError {
      #expect(error.outcomeUnknown)
      #expect(!error.isRetryable)
      #expect(error.toolError().status == .tryAgainLater)
      #expect(error.toolError().message == "POST /v1/batches: HTTP 503: Service unavailable; try again later")
    }
    #expect(harness.transport.requests.count == 1)
    #expect(harness.sleeps.value.isEmpty)
  }

  @Test func anUploadIsRetriedOnlyWhenTheConnectionWasNeverMade() async throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let source = directory + "/batch_001.jsonl"
    try Data("{}\n".utf8).write(to: URL(fileURLWithPath: source))

    let refused = try ClientHarness([.failure(.cannotConnect, "connection refused"), .json(200, fileJSON)])
    _ = try await refused.client.uploadFile(at: source)
    #expect(refused.transport.requests.count == 2)
    #expect(refused.log.value == ["POST /v1/files: connection refused; retrying in 0.5s (attempt 2 of 6)"])

    for kind in [TransportError.Kind.connectionLost, .timedOut, .other] {
      let lost = try ClientHarness([.failure(kind, "connection lost"), .json(200, fileJSON)])
      do {
        _ = try await lost.client.uploadFile(at: source)
        Issue.record("no error")
      } catch let error as APIError {
        #expect(error.outcomeUnknown)
        #expect(!error.isRetryable)
        #expect(error.toolError().status == .tryAgainLater)
      }
      #expect(lost.transport.requests.count == 1)
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["batch_001.jsonl"])
  }

  @Test func aReadAnswered503IsRetriedUntilItSucceeds() async throws {
    let harness = try ClientHarness([
      .status(503), .failure(.connectionLost, "connection lost"), .json(200, batchJSON),
    ])
    let batch = try await harness.client.retrieveBatch(id: "batch_abc")
    #expect(batch.status == .validating)
    #expect(harness.transport.requests.count == 3)
    // Full jitter with the upper bound chosen: 0.5 s, then 1 s.
    #expect(harness.sleeps.value == [0.5, 1])
    #expect(
      harness.log.value == [
        "GET /v1/batches/batch_abc: HTTP 503; retrying in 0.5s (attempt 2 of 6)",
        "GET /v1/batches/batch_abc: connection lost; retrying in 1s (attempt 3 of 6)",
      ])
  }

  @Test func retriesStopAfterTheLastAttempt() async throws {
    let harness = try ClientHarness(Array(repeating: .status(502, message: "Bad gateway"), count: 10))
    do {
      _ = try await harness.client.retrieveBatch(id: "batch_abc")
      Issue.record("no error")
    } catch let error as APIError {
      #expect(error.isRetryable)
      #expect(error.toolError().message == "GET /v1/batches/batch_abc: HTTP 502: Bad gateway; try again later")
    }
    #expect(harness.transport.requests.count == 6)
    #expect(harness.sleeps.value == [0.5, 1, 2, 4, 8])
  }

  @Test func aDeleteAnswered404AfterARetryIsDone() async throws {
    let harness = try ClientHarness([.status(500), .status(404, message: "No such File object: file-x")])
    let deleted = try await harness.client.deleteFile(id: "file-x")
    #expect(deleted == DeletedFile(id: "file-x", deleted: true))
    #expect(harness.transport.requests.map(\.method) == ["DELETE", "DELETE"])
    #expect(harness.transport.requests[0].url.path == "/v1/files/file-x")
  }

  @Test func aDeleteAnswered404AtOnceIsAnError() async throws {
    let harness = try ClientHarness([.status(404, message: "No such File object: file-x")])
    do {
      _ = try await harness.client.deleteFile(id: "file-x")
      Issue.record("no error")
    } catch let error as APIError {
      #expect(error.status == 404)
      #expect(error.toolError().status == .failure)
    }
  }

  @Test func aDeleteDecodesTheServersAnswer() async throws {
    let harness = try ClientHarness([.json(200, #"{"id":"file-x","object":"file","deleted":true}"#)])
    #expect(try await harness.client.deleteFile(id: "file-x") == DeletedFile(id: "file-x", deleted: true))
  }

  @Test func cancellingAFinishedBatchIsAFinalAnswer() async throws {
    let harness = try ClientHarness([
      .json(409, #"{"error":{"message":"Cannot cancel a batch with status 'completed'.","type":"invalid_request_error","param":null,"code":null}}"#)
    ])
    do {
      _ = try await harness.client.cancelBatch(id: "batch_abc")
      Issue.record("no error")
    } catch let error as APIError {
      #expect(!error.isRetryable)
      #expect(error.toolError().status == .failure)
      #expect(error.toolError().message == "POST /v1/batches/batch_abc/cancel: HTTP 409: Cannot cancel a batch with status 'completed'")
    }
    #expect(harness.transport.requests.count == 1)
  }

  @Test func aTokenLimitIsNeverRetried() async throws {
    let text = "Enqueued token limit reached for gpt-4o-mini in organization org-x. Limit: 2,000,000 enqueued tokens."
    let harness = try ClientHarness([
      .json(429, #"{"error":{"message":"\#(text)","type":"invalid_request_error","code":"token_limit_exceeded"}}"#)
    ])
    do {
      _ = try await harness.client.createBatch(inputFileID: "file-in", endpoint: "/v1/chat/completions")
      Issue.record("no error")
    } catch let error as APIError {
      #expect(error.isTokenLimit)
      #expect(!error.isRetryable && !error.outcomeUnknown)
      #expect(error.toolError().status == .tryAgainLater)
    }
    #expect(harness.transport.requests.count == 1)
  }

  @Test func aRefusedRedirectIsReportedWithItsHost() async throws {
    let harness = try ClientHarness([FakeTransport.Reply(status: 307, headers: ["Location": "https://elsewhere.example/v1/batches"])])
    do {
      _ = try await harness.client.createBatch(inputFileID: "file-in", endpoint: "/v1/chat/completions")
      Issue.record("no error")
    } catch let error as APIError {
      #expect(error.toolError().message == "POST /v1/batches: HTTP 307: redirect to 'elsewhere.example' not followed")
      #expect(error.toolError().status == .failure)
    }
  }

  @Test func theOperationCanBeRenamed() {
    let error = APIError(.transport(TransportError(.timedOut, "timed out")), method: "GET", path: "/v1/batches/b", kind: .read)
    #expect(error.toolError(for: "poll 'batch/in/batch_001.jsonl'").message == "poll 'batch/in/batch_001.jsonl': timed out; try again later")
  }

  @Test func retryRulesByKind() {
    func error(_ status: Int, _ kind: RequestKind) -> APIError {
      APIError(.http(status: status, detail: nil, retryAfter: nil), method: "X", path: "/", kind: kind)
    }
    for status in [408, 409, 429, 500, 502, 503, 504] {
      #expect(error(status, .read).isRetryable, "read \(status)")
      #expect(error(status, .delete).isRetryable, "delete \(status)")
    }
    for status in [400, 401, 403, 404, 422] {
      #expect(!error(status, .read).isRetryable, "read \(status)")
    }
    #expect(!error(409, .cancel).isRetryable)
    #expect(error(503, .cancel).isRetryable)
    #expect(error(429, .create).isRetryable)
    for status in [408, 500, 503] {
      #expect(!error(status, .create).isRetryable)
      #expect(error(status, .create).outcomeUnknown)
      #expect(!error(status, .read).outcomeUnknown)
    }
    #expect(!error(400, .create).outcomeUnknown)
    #expect(!error(429, .create).outcomeUnknown)
  }
}

@Suite struct APIRetryPolicyTests {
  @Test func backoffDoublesUpToTheCap() {
    let policy = HTTPRetryPolicy(maxAttempts: 20, maxTotalTime: 10_000, random: { $0.upperBound })
    let waits = (1...9).map { policy.delay(afterAttempt: $0, retryAfter: nil, elapsed: 0) }
    #expect(waits == [0.5, 1, 2, 4, 8, 16, 30, 30, 30])
  }

  @Test func jitterIsDrawnFromZeroToTheCeiling() {
    let ranges = Guarded<[ClosedRange<Double>]>([])
    let policy = HTTPRetryPolicy(random: { range in ranges.mutate { $0.append(range) }; return range.lowerBound })
    #expect(policy.delay(afterAttempt: 3, retryAfter: nil, elapsed: 0) == 0)
    #expect(ranges.value == [0...2])
  }

  @Test func attemptsAndTimeAreBounded() {
    let policy = HTTPRetryPolicy(maxAttempts: 3, maxTotalTime: 10, random: { $0.upperBound })
    #expect(policy.delay(afterAttempt: 2, retryAfter: nil, elapsed: 0) == 1)
    #expect(policy.delay(afterAttempt: 3, retryAfter: nil, elapsed: 0) == nil)
    #expect(policy.delay(afterAttempt: 1, retryAfter: 5, elapsed: 4) == 5)
    #expect(policy.delay(afterAttempt: 1, retryAfter: 7, elapsed: 4) == nil)
  }

  @Test func retryAfterIsReadInEveryForm() {
    let now = Date(timeIntervalSince1970: 1_700_000_000)
    func wait(_ headers: [String: String]) -> Double? {
      HTTPRetryPolicy.retryAfter(in: HTTPResponseHead(status: 429, headers: headers), now: now)
    }
    #expect(wait([:]) == nil)
    #expect(wait(["Retry-After": "7"]) == 7)
    #expect(wait(["retry-after": "1.5"]) == 1.5)
    #expect(wait(["Retry-After-Ms": "1200"]) == 1.2)
    // 2023-11-14 22:13:20 GMT is `now`; 20 s later:
    #expect(wait(["Retry-After": "Tue, 14 Nov 2023 22:13:40 GMT"]) == 20)
    #expect(wait(["Retry-After": "Tue, 14 Nov 2023 22:13:00 GMT"]) == 0)
    #expect(wait(["Retry-After": "soon"]) == nil)
  }

  @Test func theEnvironmentCanSpeedRetriesUp() throws {
    let policy = try HTTPRetryPolicy.fromEnvironment(["BATCHLINE_RETRY_BASE": "0.01", "BATCHLINE_MAX_ATTEMPTS": "3"])
    #expect(policy.baseDelay == 0.01)
    #expect(policy.maxAttempts == 3)
    let defaults = try HTTPRetryPolicy.fromEnvironment([:])
    #expect(defaults.baseDelay == 0.5 && defaults.maxDelay == 30 && defaults.maxAttempts == 6 && defaults.maxTotalTime == 300)
    #expect(throws: ToolError.self) { try HTTPRetryPolicy.fromEnvironment(["BATCHLINE_RETRY_BASE": "fast"]) }
    #expect(throws: ToolError.self) { try HTTPRetryPolicy.fromEnvironment(["BATCHLINE_MAX_ATTEMPTS": "0"]) }
  }

  @Test func waitsAreFormattedForPeople() {
    #expect(HTTPRetryPolicy.format(0) == "0s")
    #expect(HTTPRetryPolicy.format(0.5) == "0.5s")
    #expect(HTTPRetryPolicy.format(2) == "2s")
    #expect(HTTPRetryPolicy.format(2.04) == "2s")
    #expect(HTTPRetryPolicy.format(3.26) == "3.3s")
    #expect(HTTPRetryPolicy.format(12.6) == "13s")
  }
}
