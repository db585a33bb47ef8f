import Foundation
import Testing

@testable import BatchCore

// MARK: - Test support shared by the API*Tests files

/// A transport that answers from a script and records what it was asked.
final class FakeTransport: HTTPTransport, @unchecked Sendable {
  /// One scripted answer.
  struct Reply: Sendable {
    var status = 200
    var headers: [String: String] = [:]
    var body = Data()
    var error: TransportError? = nil

    static func json(_ status: Int = 200, _ text: String, headers: [String: String] = [:]) -> Reply {
      var all = headers
      all["Content-Type"] = "application/json"
      return Reply(status: status, headers: all, body: Data(text.utf8))
    }

    static func status(_ status: Int, message: String? = nil, headers: [String: String] = [:]) -> Reply {
      guard let message else { return Reply(status: status, headers: headers) }
      let body = #"{"error":{"message":"\#(message)","type":"server_error","param":null,"code":null}}"#
      return .json(status, body, headers: headers)
    }

    static func failure(_ kind: TransportError.Kind, _ reason: String) -> Reply {
      Reply(error: TransportError(kind, reason))
    }
  }

  private let state: Guarded<(replies: [Reply], requests: [HTTPRequest], uploads: [Data])>

  init(_ replies: [Reply]) {
    state = Guarded((replies, [], []))
  }

  /// Every request, in order.
  var requests: [HTTPRequest] { state.value.requests }
  /// The body file of every upload, read while the upload ran.
  var uploads: [Data] { state.value.uploads }

  private func next(_ request: HTTPRequest, upload: Data? = nil) throws -> Reply {
    let reply: Reply = state.mutate { state in
      state.requests.append(request)
      if let upload { state.uploads.append(upload) }
      guard !state.replies.isEmpty else {
        return .json(500, #"{"error":{"message":"the fake has no more replies"}}"#)
      }
      return state.replies.removeFirst()
    }
    if let error = reply.error { throw error }
    return reply
  }

  func send(_ request: HTTPRequest) async throws -> HTTPResponse {
    let reply = try next(request)
    return HTTPResponse(status: reply.status, headers: reply.headers, body: reply.body)
  }

  func upload(_ request: HTTPRequest, body file: FileBody) async throws -> HTTPResponse {
    let body = file.wholeBody()
    let reply = try next(request, upload: body)
    return HTTPResponse(status: reply.status, headers: reply.headers, body: reply.body)
  }

  func download(_ request: HTTPRequest, toFile path: String) async throws -> HTTPDownload {
    let reply = try next(request)
    try reply.body.write(to: URL(fileURLWithPath: path))
    return HTTPDownload(
      head: HTTPResponseHead(status: reply.status, headers: reply.headers), bytesWritten: Int64(reply.body.count))
  }
}

/// A client over a fake transport, with instant, recorded sleeps and a recorded log.
struct ClientHarness {
  let transport: FakeTransport
  let client: OpenAIClient
  let sleeps = Guarded<[Double]>([])
  let log = Guarded<[String]>([])

  static let key = "sk-test-0123456789abcdefghijklmnop"

  init(_ replies: [FakeTransport.Reply], env: [String: String] = [:], maxAttempts: Int = 6) throws {
    transport = FakeTransport(replies)
    var environment = ["OPENAI_API_KEY": Self.key]
    environment.merge(env) { _, new in new }
    let configuration = try APIConfiguration.fromEnvironment(environment)
    let sleeps = self.sleeps
    let log = self.log
    let policy = HTTPRetryPolicy(
      maxAttempts: maxAttempts,
      sleep: { seconds in sleeps.mutate { $0.append(seconds) } },
      random: { $0.upperBound })
    client = OpenAIClient(
      configuration: configuration, transport: transport, retryPolicy: policy,
      logger: { line in log.mutate { $0.append(line) } })
  }
}

let batchJSON = """
  {"id":"batch_abc","object":"batch","endpoint":"/v1/chat/completions","errors":null,\
  "input_file_id":"file-in","completion_window":"24h","status":"validating","output_file_id":null,\
  "error_file_id":null,"created_at":1711471533,"in_progress_at":null,"expires_at":1711557933,\
  "finalizing_at":null,"completed_at":null,"failed_at":null,"expired_at":null,"cancelling_at":null,\
  "cancelled_at":null,"request_counts":{"total":0,"completed":0,"failed":0},"metadata":{"run":"r1"}}
  """

let fileJSON = """
  {"id":"file-52voFe6FU6MWyAwa1Uj39R","bytes":170,"created_at":1787176071,"filename":"batch_001.jsonl",\
  "object":"file","purpose":"batch","status":"processed","expires_at":1789768071,"status_details":null}
  """

func batchesPage(_ ids: [String], hasMore: Bool) -> String {
  let items = ids.map { #"{"id":"\#($0)","object":"batch","status":"completed","created_at":1}"# }
  return #"{"object":"list","data":[\#(items.joined(separator: ","))],"first_id":\#(ids.first.map { "\"\($0)\"" } ?? "null"),"last_id":\#(ids.last.map { "\"\($0)\"" } ?? "null"),"has_more":\#(hasMore)}"#
}

func query(of request: HTTPRequest) -> [String: String] {
  let items = URLComponents(url: request.url, resolvingAgainstBaseURL: false)?.queryItems ?? []
  return Dictionary(items.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { a, _ in a })
}

// MARK: - The client

@Suite struct APIClientTests {
  @Test func createBatchSendsSortedJSONWithBearerKey() async throws {
    let harness = try ClientHarness([.json(200, batchJSON)])
    let batch = try await harness.client.createBatch(
      inputFileID: "file-in", endpoint: "/v1/chat/completions",
      metadata: ["run": "r1", "digest": "sha256-abc"])
    #expect(batch.id == "batch_abc")
    #expect(batch.status == .validating)

    let request = try #require(harness.transport.requests.first)
    #expect(request.method == "POST")
    #expect(request.url.absoluteString == "https://api.openai.com/v1/batches")
    #expect(request.header("Authorization") == "Bearer \(ClientHarness.key)")
    #expect(request.header("api-key") == nil)
    #expect(request.header("Content-Type") == "application/json")
    let body = String(decoding: try #require(request.body), as: UTF8.self)
    #expect(
      body
        == #"{"completion_window":"24h","endpoint":"/v1/chat/completions","input_file_id":"file-in","metadata":{"digest":"sha256-abc","run":"r1"}}"#
    )
  }

  @Test func createBatchOnAzureUsesAPIKeyHeaderAndVersion() async throws {
    let harness = try ClientHarness(
      [.json(200, batchJSON)],
      // The harness's OpenAI key is there too: naming the provider chooses.
      env: [
        "AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com/", "AZURE_OPENAI_API_KEY": "0123456789abcdef",
        "BATCHLINE_PROVIDER": "azure",
      ])
    _ = try await harness.client.createBatch(
      inputFileID: "file-in", endpoint: "/chat/completions", outputExpiresAfter: 1_209_600)
    let request = try #require(harness.transport.requests.first)
    #expect(request.url.absoluteString == "https://res.openai.azure.com/openai/batches?api-version=2025-04-01-preview")
    #expect(request.header("api-key") == "0123456789abcdef")
    #expect(request.header("Authorization") == nil)
    let body = String(decoding: try #require(request.body), as: UTF8.self)
    #expect(
      body
        == #"{"completion_window":"24h","endpoint":"/chat/completions","input_file_id":"file-in","output_expires_after":{"anchor":"created_at","seconds":1209600}}"#
    )
  }

  @Test func createBatchRefusesWhatTheProviderWouldReject() async throws {
    let harness = try ClientHarness([])
    await #expect(throws: ToolError.self) {
      try await harness.client.createBatch(inputFileID: "file-in", endpoint: "/chat/completions")
    }
    await #expect(throws: ToolError.self) {
      try await harness.client.createBatch(
        inputFileID: "file-in", endpoint: "/v1/chat/completions", completionWindow: "48h")
    }
    let tooMany = Dictionary(uniqueKeysWithValues: (0..<17).map { ("k\($0)", "v") })
    await #expect(throws: ToolError.self) {
      try await harness.client.createBatch(inputFileID: "file-in", endpoint: "/v1/embeddings", metadata: tooMany)
    }
    #expect(harness.transport.requests.isEmpty)
  }

  @Test func retrieveCancelAndListUseTheirPaths() async throws {
    let harness = try ClientHarness([
      .json(200, batchJSON), .json(200, batchJSON), .json(200, batchesPage(["batch_1"], hasMore: false)),
      .json(200, fileJSON), .json(200, #"{"object":"list","data":[],"first_id":null,"last_id":null,"has_more":false}"#),
    ])
    _ = try await harness.client.retrieveBatch(id: "batch_abc")
    _ = try await harness.client.cancelBatch(id: "batch_abc")
    _ = try await harness.client.listBatches(after: "batch_0")
    _ = try await harness.client.retrieveFile(id: "file-52voFe6FU6MWyAwa1Uj39R")
    let files = try await harness.client.listFiles(purpose: "batch", order: .asc)
    #expect(files.data.isEmpty && files.lastID == nil)

    let requests = harness.transport.requests
    #expect(requests.map(\.method) == ["GET", "POST", "GET", "GET", "GET"])
    #expect(
      requests.map(\.url.path) == [
        "/v1/batches/batch_abc", "/v1/batches/batch_abc/cancel", "/v1/batches",
        "/v1/files/file-52voFe6FU6MWyAwa1Uj39R", "/v1/files",
      ])
    #expect(query(of: requests[2]) == ["after": "batch_0", "limit": "100"])
    #expect(query(of: requests[4]) == ["purpose": "batch", "limit": "10000", "order": "asc"])
  }

  @Test func allBatchesFollowsTheCursorAcrossPages() async throws {
    let harness = try ClientHarness([
      .json(200, batchesPage(["batch_1", "batch_2"], hasMore: true)),
      .json(200, batchesPage(["batch_3", "batch_4"], hasMore: true)),
      .json(200, batchesPage(["batch_5"], hasMore: false)),
    ])
    let batches = try await harness.client.allBatches()
    #expect(batches.map(\.id) == ["batch_1", "batch_2", "batch_3", "batch_4", "batch_5"])
    let afters = harness.transport.requests.map { query(of: $0)["after"] }
    #expect(afters == [nil, "batch_2", "batch_4"])
  }

  @Test func allBatchesStopsAtTheFirstMatchWithoutFetchingMore() async throws {
    let harness = try ClientHarness([
      .json(200, batchesPage(["batch_1", "batch_2"], hasMore: true)),
      .json(200, batchesPage(["batch_3", "batch_4"], hasMore: true)),
    ])
    let batches = try await harness.client.allBatches(until: { $0.id == "batch_3" })
    #expect(batches.map(\.id) == ["batch_1", "batch_2"])
    #expect(harness.transport.requests.count == 2)
  }

  @Test func allFilesUsesTheLastElementWhenLastIDIsMissing() async throws {
    let page1 = #"{"data":[{"id":"file-a"},{"id":"file-b"}],"has_more":true}"#
    let page2 = #"{"data":[{"id":"file-c"}],"has_more":false}"#
    let harness = try ClientHarness([.json(200, page1), .json(200, page2)])
    let files = try await harness.client.allFiles(purpose: "batch")
    #expect(files.map(\.id) == ["file-a", "file-b", "file-c"])
    #expect(query(of: harness.transport.requests[1])["after"] == "file-b")
    #expect(query(of: harness.transport.requests[1])["purpose"] == "batch")
  }

  @Test func aListThatDoesNotAdvanceIsAnError() async throws {
    let page = batchesPage(["batch_1"], hasMore: true)
    let harness = try ClientHarness([.json(200, page), .json(200, page), .json(200, page)])
    await #expect(throws: ToolError.self) { try await harness.client.allBatches() }
    #expect(harness.transport.requests.count == 2)
  }

  @Test(arguments: ["", "../secrets", "file/1", "file-1?x=2", "file%2F1", "file 1", "fïle", String(repeating: "a", count: 129)])
  func idsThatCouldEscapeThePathAreRefused(id: String) async throws {
    let harness = try ClientHarness([])
    do {
      _ = try await harness.client.retrieveFile(id: id)
      Issue.record("accepted '\(id)'")
    } catch let error as ToolError {
      #expect(error.status == .dataError)
      #expect(error.message.hasPrefix("invalid file id '"))
    }
    await #expect(throws: ToolError.self) { try await harness.client.deleteFile(id: id) }
    await #expect(throws: ToolError.self) { try await harness.client.retrieveBatch(id: id) }
    await #expect(throws: ToolError.self) { try await harness.client.downloadFileContent(id: id, to: "/nonexistent/x") }
    #expect(harness.transport.requests.isEmpty)
  }

  @Test func idsOfTheRealShapesAreAccepted() throws {
    try OpenAIClient.validateID("file-52voFe6FU6MWyAwa1Uj39R", kind: "file")
    try OpenAIClient.validateID("batch_69c3c347282c81908ede48ecc95bf201", kind: "batch")
    try OpenAIClient.validateID(String(repeating: "a", count: 128), kind: "file")
  }

  @Test func uploadSendsTheExactMultipartBodyAndWritesNoFile() async throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let source = directory + "/batch_001.jsonl"
    let content = Data(#"{"custom_id":"1","method":"POST","url":"/v1/chat/completions","body":{}}"#.utf8 + [0x0A])
    try content.write(to: URL(fileURLWithPath: source))

    let harness = try ClientHarness([.json(200, fileJSON)])
    let file = try await harness.client.uploadFile(at: source)
    #expect(file.id == "file-52voFe6FU6MWyAwa1Uj39R")

    let request = try #require(harness.transport.requests.first)
    #expect(request.method == "POST")
    #expect(request.url.absoluteString == "https://api.openai.com/v1/files")
    #expect(request.header("Authorization") == "Bearer \(ClientHarness.key)")
    let contentType = try #require(request.header("Content-Type"))
    #expect(contentType.hasPrefix("multipart/form-data; boundary=batchline-"))
    let boundary = String(contentType.dropFirst("multipart/form-data; boundary=".count))
    #expect(boundary.count == "batchline-".count + 32)

    var expected = Data()
    expected.append(contentsOf: "--\(boundary)\r\n".utf8)
    expected.append(contentsOf: "Content-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n".utf8)
    expected.append(contentsOf: "--\(boundary)\r\n".utf8)
    expected.append(
      contentsOf: "Content-Disposition: form-data; name=\"file\"; filename=\"batch_001.jsonl\"\r\n".utf8)
    expected.append(contentsOf: "Content-Type: application/jsonl\r\n\r\n".utf8)
    expected.append(content)
    expected.append(contentsOf: "\r\n--\(boundary)--\r\n".utf8)
    #expect(harness.transport.uploads == [expected])
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["batch_001.jsonl"])
    #expect(request.header("Content-Length") == String(expected.count))
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["batch_001.jsonl"])
  }

  @Test func uploadWithExpiryAddsTheFormFieldsBeforeTheFile() async throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let source = directory + "/requests.bin"
    try Data([0, 1, 2]).write(to: URL(fileURLWithPath: source))
    let harness = try ClientHarness([.json(200, fileJSON)])
    _ = try await harness.client.uploadFile(at: source, filename: "batch_002.jsonl", expiresAfter: 86_400)
    let body = String(decoding: try #require(harness.transport.uploads.first), as: UTF8.self)
    let purpose = try #require(body.range(of: "name=\"purpose\"\r\n\r\nbatch\r\n"))
    let anchor = try #require(body.range(of: "name=\"expires_after[anchor]\"\r\n\r\ncreated_at\r\n"))
    let seconds = try #require(body.range(of: "name=\"expires_after[seconds]\"\r\n\r\n86400\r\n"))
    let file = try #require(body.range(of: "filename=\"batch_002.jsonl\""))
    #expect(purpose.lowerBound < anchor.lowerBound && anchor.lowerBound < seconds.lowerBound)
    #expect(seconds.lowerBound < file.lowerBound)
  }

  @Test func uploadOfAMissingFileIsMissingInput() async throws {
    let harness = try ClientHarness([])
    do {
      _ = try await harness.client.uploadFile(at: "/nonexistent/batch_001.jsonl")
      Issue.record("no error")
    } catch let error as ToolError {
      #expect(error.status == .noInput)
      #expect(error.message == "cannot read '/nonexistent/batch_001.jsonl': No such file or directory")
    }
  }

  @Test func uploadOverTheProviderLimitIsRefusedBeforeSending() async throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let source = directory + "/batch_001.jsonl"
    try Data(repeating: 0x61, count: 101).write(to: URL(fileURLWithPath: source))
    var profile = ProviderProfile.openAI
    profile.maxBytesPerFile = 100
    let configuration = APIConfiguration(
      provider: .openai, baseURL: URL(string: "https://api.openai.com/v1")!, apiKey: "sk-x", profile: profile)
    let transport = FakeTransport([])
    let client = OpenAIClient(configuration: configuration, transport: transport, logger: { _ in })
    await #expect(throws: ToolError.self) { try await client.uploadFile(at: source) }
    #expect(transport.requests.isEmpty)
  }

  @Test func downloadWritesTheWholeFileAndLeavesNoPart() async throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let destination = directory + "/batch_001.jsonl"
    let content = Data("{\"id\":\"batch_req_1\"}\n".utf8)
    let harness = try ClientHarness([
      FakeTransport.Reply(status: 200, headers: ["Content-Length": String(content.count)], body: content)
    ])
    let bytes = try await harness.client.downloadFileContent(id: "file-out", to: destination)
    #expect(bytes == Int64(content.count))
    #expect(FileManager.default.contents(atPath: destination) == content)
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["batch_001.jsonl"])
    let request = try #require(harness.transport.requests.first)
    #expect(request.method == "GET")
    #expect(request.url.path == "/v1/files/file-out/content")
  }

  @Test func aTruncatedDownloadIsRetriedAndThenReported() async throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let destination = directory + "/out.jsonl"
    try Data("old\n".utf8).write(to: URL(fileURLWithPath: destination))
    let short = FakeTransport.Reply(status: 200, headers: ["Content-Length": "100"], body: Data(repeating: 0x61, count: 50))
    let harness = try ClientHarness([short, short, short], maxAttempts: 3)
    do {
      try await harness.client.downloadFileContent(id: "file-out", to: destination)
      Issue.record("no error")
    } catch let error as APIError {
      #expect(error.failure == .truncated(expected: 100, received: 50))
      #expect(error.isRetryable)
      let tool = error.toolError()
      #expect(tool.status == .tryAgainLater)
      #expect(
        tool.message == "GET /v1/files/file-out/content: download cut short (got 50 of 100 bytes); try again later")
    }
    #expect(harness.transport.requests.count == 3)
    #expect(harness.log.value.count == 2)
    // The old file is untouched and no .part is left behind.
    #expect(FileManager.default.contents(atPath: destination) == Data("old\n".utf8))
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["out.jsonl"])
  }

  @Test func aTruncatedDownloadThatSucceedsOnRetryIsWhole() async throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let destination = directory + "/out.jsonl"
    let full = Data(repeating: 0x62, count: 100)
    let harness = try ClientHarness([
      FakeTransport.Reply(status: 200, headers: ["Content-Length": "100"], body: full.prefix(10)),
      FakeTransport.Reply(status: 200, headers: ["Content-Length": "100"], body: full),
    ])
    #expect(try await harness.client.downloadFileContent(id: "file-out", to: destination) == 100)
    #expect(FileManager.default.contents(atPath: destination) == full)
  }

  @Test func aDownloadErrorReadsTheEnvelopeFromTheBody() async throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let harness = try ClientHarness([.status(404, message: "No such File object: file-gone")])
    do {
      try await harness.client.downloadFileContent(id: "file-gone", to: directory + "/x.jsonl")
      Issue.record("no error")
    } catch let error as APIError {
      #expect(error.status == 404)
      #expect(error.toolError().message == "GET /v1/files/file-gone/content: HTTP 404: No such File object: file-gone")
      #expect(error.toolError().status == .failure)
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
  }

  @Test func anUnwritableDestinationFailsBeforeAnyRequest() async throws {
    let harness = try ClientHarness([])
    await #expect(throws: ToolError.self) {
      try await harness.client.downloadFileContent(id: "file-out", to: "/nonexistent/dir/out.jsonl")
    }
    #expect(harness.transport.requests.isEmpty)
  }

  @Test func anUnreadableSuccessIsAnInvalidResponse() async throws {
    let harness = try ClientHarness([.json(200, "<html>proxy</html>")])
    do {
      _ = try await harness.client.retrieveBatch(id: "batch_abc")
      Issue.record("no error")
    } catch let error as APIError {
      #expect(!error.isRetryable && !error.outcomeUnknown)
      #expect(error.toolError().status == .failure)
      #expect(error.toolError().message.hasPrefix("GET /v1/batches/batch_abc: unexpected response (HTTP 200)"))
    }
  }
}

@Suite struct APIMultipartBodyTests {
  @Test func theBodyIsHeadThenEveryByteThenTail() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let source = directory + "/big.bin"
    var content = Data(count: (1 << 21) + 12_345)
    for index in content.indices { content[index] = UInt8(truncatingIfNeeded: index &* 31) }
    try content.write(to: URL(fileURLWithPath: source))

    let multipart = MultipartBody(
      fields: [("purpose", "batch")], filename: "a\"b.jsonl", boundary: "batchline-0123456789abcdef0123456789abcdef")
    let body = multipart.body(file: source, fileLength: Int64(content.count))
    var expected = Data(
      """
      --batchline-0123456789abcdef0123456789abcdef\r
      Content-Disposition: form-data; name="purpose"\r
      \r
      batch\r
      --batchline-0123456789abcdef0123456789abcdef\r
      Content-Disposition: form-data; name="file"; filename="a%22b.jsonl"\r
      Content-Type: application/jsonl\r
      \r

      """.utf8)
    expected.append(content)
    expected.append(contentsOf: "\r\n--batchline-0123456789abcdef0123456789abcdef--\r\n".utf8)
    #expect(body.wholeBody() == expected)
    #expect(body.length == Int64(expected.count))
    #expect(multipart.contentType == "multipart/form-data; boundary=batchline-0123456789abcdef0123456789abcdef")
  }

  @Test func aDigestCountsTheBytesItHashed() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let content = Data((0..<((1 << 20) + 7)).map { UInt8(truncatingIfNeeded: $0) })
    try content.write(to: URL(fileURLWithPath: directory + "/f"))
    let digest = try SHA256.digest(ofFile: directory + "/f")
    #expect(digest.bytes == Int64(content.count))
    #expect(digest.hex == (try SHA256.hexDigest(ofFile: directory + "/f")))
  }

  @Test func otherNamesAreOctetStreams() {
    #expect(MultipartBody(fields: [], filename: "x.bin").fileContentType == "application/octet-stream")
    #expect(MultipartBody(fields: [], filename: "X.JSONL").fileContentType == "application/jsonl")
  }

  @Test func boundariesAreRandom() {
    let a = MultipartBody.randomBoundary()
    let b = MultipartBody.randomBoundary()
    #expect(a != b)
    #expect(a.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
  }

}
