import Foundation
import Testing

@testable import BatchCore

/// `scripts/emulator.py` of this repository, when it is there.
private let emulatorScript: String? = {
  let here = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
  let script = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("scripts/emulator.py").path
  return FileManager.default.fileExists(atPath: script) ? script : nil
}()

/// The client against the project's emulator, over the real transport: the
/// whole life of one request file, with the faults the emulator can inject.
@Suite(.enabled(if: emulatorScript != nil, "needs scripts/emulator.py"))
struct APIEmulatorTests {
  private static let requests = """
    {"custom_id":"r1","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"one"}]}}
    {"custom_id":"r2","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"two"}]}}
    {"custom_id":"r3","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"three"}]}}

    """

  /// Starts the emulator with `options`.
  private func startEmulator(_ options: [String] = []) throws -> LocalServer {
    let directory = try makeTemporaryDirectory()
    let portFile = directory + "/port"
    return try LocalServer(
      arguments: [try #require(emulatorScript), "--port", "0", "--port-file", portFile, "--speed", "0",
        "--data-dir", directory + "/data"] + options,
      directory: directory, portFile: portFile)
  }

  /// Merges `settings` into the emulator's configuration.
  private func configure(_ server: LocalServer, _ settings: String) async throws {
    let request = HTTPRequest(
      method: "POST", url: URL(string: "http://127.0.0.1:\(server.port)/_emulator/config")!,
      headers: ["Content-Type": "application/json"], body: Data(settings.utf8))
    let response = try await CurlTransport.shared.send(request)
    #expect(response.status == 200, "\(String(decoding: response.body, as: UTF8.self))")
  }

  private func client(_ env: [String: String], log: Guarded<[String]>) throws -> OpenAIClient {
    OpenAIClient(
      configuration: try APIConfiguration.fromEnvironment(env.merging(["BATCHLINE_HTTP_TIMEOUT": "10"]) { a, _ in a }),
      retryPolicy: HTTPRetryPolicy(sleep: { _ in }), logger: { line in log.mutate { $0.append(line) } })
  }

  /// Uploads, creates, waits, downloads and deletes, through faults.
  private func runLifecycle(_ api: OpenAIClient, server: LocalServer, log: Guarded<[String]>) async throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let source = directory + "/batch_001.jsonl"
    try Data(Self.requests.utf8).write(to: URL(fileURLWithPath: source))

    // A 429 on the upload is retried: the server certainly did not act.
    try await configure(server, #"{"http_429_count": 1, "retry_after": 0}"#)
    let file = try await api.uploadFile(at: source)
    #expect(file.bytes == Int64(Self.requests.utf8.count))
    #expect(file.filename == "batch_001.jsonl")
    #expect(log.value.contains { $0.hasPrefix("POST ") && $0.contains(": HTTP 429; retrying in 0s (attempt 2 of 6)") })

    // A create whose answer is lost is not repeated; the batch is found by its metadata.
    try await configure(server, #"{"drop_after_action_count": 1, "fault_actions": ["batch.create"]}"#)
    let endpoint = api.profile.acceptsEndpoint("/v1/chat/completions") ? "/v1/chat/completions" : "/chat/completions"
    do {
      _ = try await api.createBatch(inputFileID: file.id, endpoint: endpoint, metadata: ["run": "emulator-test"])
      Issue.record("the dropped create did not throw")
    } catch let error as APIError {
      #expect(error.outcomeUnknown)
      #expect(error.toolError().status == .tryAgainLater)
      // Noticed at once, not after the idle timeout: nothing was replayed.
      #expect(error.failure == .transport(TransportError(.connectionLost, "connection closed without a valid response")))
    }
    try await configure(server, #"{"fault_actions": []}"#)
    let found = try await api.allBatches().filter { $0.metadata?["run"] == "emulator-test" }
    #expect(found.count == 1)
    let created = try #require(found.first)
    #expect(created.inputFileID == file.id)

    // Polls through 5xx answers until the batch is terminal.
    try await configure(server, #"{"http_5xx_count": 2}"#)
    var batch = try await api.retrieveBatch(id: created.id)
    for _ in 0..<200 where !batch.status.isTerminal {
      try await Task.sleep(nanoseconds: 20_000_000)
      batch = try await api.retrieveBatch(id: created.id)
    }
    #expect(batch.status == .completed)
    #expect(batch.requestCounts?.completed == 3)
    let outputID = try #require(batch.outputFileID)

    // A download cut short is retried, and the file arrives whole.
    try await configure(server, #"{"truncate_download_count": 1}"#)
    let destination = directory + "/out.jsonl"
    let bytes = try await api.downloadFileContent(id: outputID, to: destination)
    let output = try #require(FileManager.default.contents(atPath: destination))
    #expect(Int64(output.count) == bytes)
    #expect(output.split(separator: 0x0A).count == 3)
    #expect(log.value.contains { $0.hasPrefix("GET ") && $0.contains("/content: ") })

    // The upload is listed, and deleting it twice ends in a 404.
    let uploads = try await api.allFiles(purpose: "batch")
    #expect(uploads.contains { $0.id == file.id })
    #expect(try await api.deleteFile(id: file.id).deleted)
    do {
      _ = try await api.deleteFile(id: file.id)
      Issue.record("the second delete did not throw")
    } catch let error as APIError {
      #expect(error.status == 404)
    }
  }

  @Test func theWholeLifeOfABatchOnOpenAI() async throws {
    let server = try startEmulator()
    defer { server.stop() }
    let log = Guarded<[String]>([])
    let api = try client(
      ["OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": "http://127.0.0.1:\(server.port)/v1"], log: log)
    try await runLifecycle(api, server: server, log: log)
  }

  @Test func theWholeLifeOfABatchOnAzure() async throws {
    let server = try startEmulator(["--provider", "azure"])
    defer { server.stop() }
    let log = Guarded<[String]>([])
    let api = try client(
      ["AZURE_OPENAI_ENDPOINT": "http://127.0.0.1:\(server.port)", "AZURE_OPENAI_API_KEY": "azure-test-key"],
      log: log)
    #expect(api.configuration.apiVersion != nil)
    try await runLifecycle(api, server: server, log: log)
  }

  @Test func aRefusedKeyExits77WithoutTheKey() async throws {
    let server = try startEmulator()
    defer { server.stop() }
    let key = "sk-refused-0123456789abcdef"
    let api = try client(
      ["OPENAI_API_KEY": key, "OPENAI_BASE_URL": "http://127.0.0.1:\(server.port)/v1"], log: Guarded([]))
    do {
      _ = try await api.listBatches()
      Issue.record("no error")
    } catch let error as APIError {
      let tool = error.toolError()
      #expect(tool.status == .keyRefused)
      #expect(tool.message == "GET /v1/batches: the API key was refused (HTTP 401)")
      let serverText = error.detail?.message ?? ""
      #expect(!serverText.contains(key))
    }
  }
}
