#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing

@testable import BatchCore

/// An in-memory server for the Files and Batches API, behind ``HTTPTransport``.
///
/// It stores uploads, makes batches, answers their requests when told to
/// (or by itself, see ``completeOnRetrieve``), pages its lists, and records
/// every call. Faults: an answer dropped after the server acted, new files
/// and batches hidden from lists for a number of list calls, batches that
/// fail validation with `token_limit_exceeded`.
final class FakeAPI: HTTPTransport, @unchecked Sendable {
  struct StoredFile {
    var id: String
    var filename: String
    var purpose: String
    var content: [UInt8]
    var createdAt: Int
    /// The position in creation order; lists show the highest first.
    var order: Int
    /// How many more list calls leave it out.
    var hiddenForLists = 0
  }

  struct StoredBatch {
    var batch: Batch
    var order: Int
    var hiddenForLists = 0
    var retrieves = 0
    /// Fails validation with `token_limit_exceeded` at the first retrieve.
    var isRefused = false
  }

  struct Call: Sendable, Equatable {
    var method: String
    /// The path after `/v1`, such as `/files` or `/batches/batch_x`.
    var path: String
    var query: [String: String]
    /// The JSON body of a POST /batches, or the upload's file name.
    var detail: String?

    var name: String { "\(method) \(path)" }
  }

  static let baseURL = "https://fake.test/v1"
  static let apiKey = "sk-fake-0123456789abcdefghij"

  private let lock = NSRecursiveLock()
  private var storedFiles: [StoredFile] = []
  private var storedBatches: [StoredBatch] = []
  private var recorded: [Call] = []
  private var counter = 0

  // MARK: Faults and behaviour (set them before the step runs)

  /// The next uploads store the file, then lose the answer (connection lost).
  var dropUploadAnswers = 0
  /// The next batch creations make the batch, then lose the answer.
  var dropCreateAnswers = 0
  /// New files stay out of this many list calls after they are made.
  var hideNewFilesForLists = 0
  /// New batches stay out of this many list calls after they are made.
  var hideNewBatchesForLists = 0
  /// The status a new batch starts in (`in_progress` spares create its validation wait).
  var initialStatus: Batch.Status = .inProgress
  /// The next batches made fail validation at their first retrieve with this message
  /// (code `token_limit_exceeded`).
  var tokenLimitRefusals = 0
  /// The same, for the batches of one request file (by `batchline_file` metadata).
  var tokenLimitRefusalsByFile: [String: Int] = [:]
  var tokenLimitMessage =
    "Enqueued token limit reached for gpt-4o-mini in organization org-fake. Limit: 2,000,000 enqueued tokens. "
    + "Please try again once some in_progress batches have been completed."
  /// A batch that is not finished completes at this retrieve (1: the first), if set.
  var completeOnRetrieve: Int?
  /// Requests whose answer is an HTTP error of this status, by custom_id.
  var failingRequests: [String: Int] = [:]
  /// Called with each call before the fake acts on it (tests read the ledger here).
  var onCall: (@Sendable (Call) -> Void)?

  init() {
    _ = remoteEnvironment
  }

  /// A client that talks to this fake, retrying without sleeping.
  func client(maxAttempts: Int = 2) -> OpenAIClient {
    let configuration = APIConfiguration(
      provider: .openai, baseURL: URL(string: Self.baseURL)!, apiKey: Self.apiKey)
    let policy = HTTPRetryPolicy(maxAttempts: maxAttempts, sleep: { _ in }, random: { $0.lowerBound })
    return OpenAIClient(configuration: configuration, transport: self, retryPolicy: policy, logger: { _ in })
  }

  // MARK: Inspection

  func withLock<R>(_ body: () throws -> R) rethrows -> R {
    lock.lock()
    defer { lock.unlock() }
    return try body()
  }

  var files: [StoredFile] { withLock { storedFiles } }
  var batches: [Batch] { withLock { storedBatches.map(\.batch) } }
  var calls: [Call] { withLock { recorded } }
  func calls(_ name: String) -> [Call] { calls.filter { $0.name == name } }
  func file(_ id: String) -> StoredFile? { withLock { storedFiles.first { $0.id == id } } }
  func batch(_ id: String) -> Batch? { withLock { storedBatches.first { $0.batch.id == id }?.batch } }

  // MARK: Setting the scene

  private func nextID(_ prefix: String) -> String {
    counter += 1
    return prefix + String(counter).leftPadded(to: 4)
  }

  /// Stores a file as if it had been uploaded.
  @discardableResult
  func addFile(
    filename: String, content: [UInt8], purpose: String = "batch", createdAt: Int? = nil, newest: Bool = false
  ) -> String {
    withLock {
      let id = nextID("file-fake")
      let order = newest ? 1_000_000 + counter : counter
      storedFiles.append(
        StoredFile(
          id: id, filename: filename, purpose: purpose, content: content,
          createdAt: createdAt ?? Int(Date().timeIntervalSince1970), order: order))
      return id
    }
  }

  /// Stores a batch; `newest` puts it before everything else in lists.
  @discardableResult
  func addBatch(
    inputFileID: String, endpoint: String = "/v1/chat/completions", metadata: [String: String]?,
    status: Batch.Status = .inProgress, newest: Bool = false
  ) -> String {
    withLock {
      let id = nextID("batch_fake")
      let order = newest ? 1_000_000 + counter : counter
      let batch = Batch(
        id: id, status: status, endpoint: endpoint, inputFileID: inputFileID,
        createdAt: Int(Date().timeIntervalSince1970), requestCounts: RequestCounts(), metadata: metadata)
      storedBatches.append(StoredBatch(batch: batch, order: order))
      return id
    }
  }

  /// Finishes a batch: answers each request of its input file (an HTTP error
  /// for ``failingRequests``) into an output and an error file.
  func complete(_ batchID: String) {
    withLock {
      guard let n = storedBatches.firstIndex(where: { $0.batch.id == batchID }) else { return }
      finish(&storedBatches[n].batch)
    }
  }

  private func finish(_ batch: inout Batch) {
    let input = storedFiles.first { $0.id == batch.inputFileID }?.content ?? []
    var ok = ""
    var failed = ""
    var completed = 0
    var failures = 0
    for line in input.split(separator: 0x0A) {
      guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
        let id = object["custom_id"] as? String
      else { continue }
      let escapedID = jsonEscaped(id)
      if let status = failingRequests[id] {
        failures += 1
        failed += #"{"id":"batch_req_\#(counter)","custom_id":"\#(escapedID)","response":{"status_code":\#(status),"request_id":"req","body":{"error":{"message":"fake failure","type":"server_error","param":null,"code":null}}},"error":null}"# + "\n"
      } else {
        completed += 1
        ok += #"{"id":"batch_req_\#(counter)","custom_id":"\#(escapedID)","response":{"status_code":200,"request_id":"req","body":{"id":"chatcmpl","object":"chat.completion","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"answer to \#(escapedID)"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12}}},"error":null}"# + "\n"
      }
    }
    let now = Int(Date().timeIntervalSince1970)
    if completed > 0 {
      let id = nextID("file-out")
      storedFiles.append(
        StoredFile(id: id, filename: "batch_output.jsonl", purpose: "batch_output", content: Array(ok.utf8), createdAt: now, order: counter))
      batch.outputFileID = id
    }
    if failures > 0 {
      let id = nextID("file-err")
      storedFiles.append(
        StoredFile(id: id, filename: "batch_errors.jsonl", purpose: "batch_output", content: Array(failed.utf8), createdAt: now, order: counter))
      batch.errorFileID = id
    }
    batch.status = .completed
    batch.requestCounts = RequestCounts(total: completed + failures, completed: completed, failed: failures)
    batch.completedAt = now
    batch.usage = BatchUsage(inputTokens: 10 * completed, cachedTokens: 0, outputTokens: 2 * completed, reasoningTokens: 0)
  }

  // MARK: HTTPTransport

  private func call(_ request: HTTPRequest, detail: String? = nil) -> Call {
    var path = request.url.path
    if path.hasPrefix("/v1") { path.removeFirst(3) }
    let items = URLComponents(url: request.url, resolvingAgainstBaseURL: false)?.queryItems ?? []
    let query = Dictionary(items.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { a, _ in a })
    return Call(method: request.method, path: path, query: query, detail: detail)
  }

  private func record(_ call: Call) {
    withLock { recorded.append(call) }
    onCall?(call)
  }

  private static func json<T: Encodable>(_ value: T, status: Int = 200) -> HTTPResponse {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let body = (try? encoder.encode(value)) ?? Data()
    return HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: body)
  }

  private static func error(_ status: Int, _ message: String, code: String? = nil, param: String? = nil) -> HTTPResponse {
    let detail = APIErrorEnvelope.Detail(type: "invalid_request_error", code: code, message: message, param: param)
    return json(APIErrorEnvelope(error: detail), status: status)
  }

  private static var lostConnection: TransportError { TransportError(.connectionLost, "connection lost") }

  func send(_ request: HTTPRequest) async throws -> HTTPResponse {
    var detail: String?
    if let body = request.body { detail = String(decoding: body, as: UTF8.self) }
    let call = call(request, detail: detail)
    record(call)
    return try withLock { try answer(call, body: request.body) }
  }

  private func answer(_ call: Call, body: Data?) throws -> HTTPResponse {
    let parts = call.path.split(separator: "/").map(String.init)
    switch (call.method, parts.count, parts.first) {
    case ("GET", 1, "files"):
      var visible: [StoredFile] = []
      for n in storedFiles.indices.sorted(by: { storedFiles[$0].order > storedFiles[$1].order }) {
        if storedFiles[n].hiddenForLists > 0 {
          storedFiles[n].hiddenForLists -= 1
          continue
        }
        if let purpose = call.query["purpose"], storedFiles[n].purpose != purpose { continue }
        visible.append(storedFiles[n])
      }
      let page = Self.page(visible, id: \.id, query: call.query, defaultLimit: 10_000)
      return Self.json(
        ListPage(
          data: page.items.map(fileObject), firstID: page.items.first?.id, lastID: page.items.last?.id,
          hasMore: page.hasMore))
    case ("GET", 2, "files"):
      guard let file = storedFiles.first(where: { $0.id == parts[1] }) else {
        return Self.error(404, "No such File object: \(parts[1])", param: "id")
      }
      return Self.json(fileObject(file))
    case ("DELETE", 2, "files"):
      guard let n = storedFiles.firstIndex(where: { $0.id == parts[1] }) else {
        return Self.error(404, "No such File object: \(parts[1])", param: "id")
      }
      storedFiles.remove(at: n)
      return Self.json(DeletedFile(id: parts[1], deleted: true))
    case ("POST", 1, "batches"):
      guard let body, let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
        let input = object["input_file_id"] as? String
      else { return Self.error(400, "bad body") }
      guard storedFiles.contains(where: { $0.id == input && $0.purpose == "batch" }) else {
        return Self.error(400, "Cannot find file \(input).", param: "input_file_id")
      }
      let id = nextID("batch_fake")
      var batch = Batch(
        id: id, status: initialStatus, endpoint: object["endpoint"] as? String, inputFileID: input,
        completionWindow: object["completion_window"] as? String, createdAt: Int(Date().timeIntervalSince1970),
        requestCounts: RequestCounts(), metadata: object["metadata"] as? [String: String])
      var stored = StoredBatch(batch: batch, order: counter, hiddenForLists: hideNewBatchesForLists)
      let local = batch.metadata?["batchline_file"] ?? ""
      if let n = tokenLimitRefusalsByFile[local], n > 0 {
        tokenLimitRefusalsByFile[local] = n - 1
        batch.status = .validating
        stored.batch = batch
        stored.isRefused = true
      } else if tokenLimitRefusals > 0 {
        tokenLimitRefusals -= 1
        batch.status = .validating
        stored.batch = batch
        stored.isRefused = true
      }
      storedBatches.append(stored)
      if dropCreateAnswers > 0 {
        dropCreateAnswers -= 1
        throw Self.lostConnection
      }
      return Self.json(batch)
    case ("GET", 2, "batches"):
      guard let n = storedBatches.firstIndex(where: { $0.batch.id == parts[1] }) else {
        return Self.error(404, "No batch found with id '\(parts[1])'.")
      }
      if storedBatches[n].isRefused {
        storedBatches[n].isRefused = false
        storedBatches[n].batch.status = .failed
        storedBatches[n].batch.failedAt = Int(Date().timeIntervalSince1970)
        storedBatches[n].batch.errors = BatchErrors(data: [
          BatchError(code: "token_limit_exceeded", message: tokenLimitMessage, param: nil, line: nil)
        ])
      } else if !storedBatches[n].batch.status.isTerminal {
        storedBatches[n].retrieves += 1
        if let at = completeOnRetrieve, storedBatches[n].retrieves >= at {
          finish(&storedBatches[n].batch)
        }
      }
      return Self.json(storedBatches[n].batch)
    case ("GET", 1, "batches"):
      var visible: [StoredBatch] = []
      for n in storedBatches.indices.sorted(by: { storedBatches[$0].order > storedBatches[$1].order }) {
        if storedBatches[n].hiddenForLists > 0 {
          storedBatches[n].hiddenForLists -= 1
          continue
        }
        visible.append(storedBatches[n])
      }
      let page = Self.page(visible, id: \.batch.id, query: call.query, defaultLimit: 20)
      return Self.json(
        ListPage(
          data: page.items.map(\.batch), firstID: page.items.first?.batch.id, lastID: page.items.last?.batch.id,
          hasMore: page.hasMore))
    default:
      return Self.error(404, "no route for \(call.name)")
    }
  }

  private static func page<T>(_ items: [T], id: KeyPath<T, String>, query: [String: String], defaultLimit: Int)
    -> (items: [T], hasMore: Bool)
  {
    var rest = items[...]
    if let after = query["after"], let n = items.firstIndex(where: { $0[keyPath: id] == after }) {
      rest = items[(n + 1)...]
    }
    let limit = query["limit"].flatMap(Int.init) ?? defaultLimit
    return (Array(rest.prefix(limit)), rest.count > limit)
  }

  private func fileObject(_ file: StoredFile) -> FileObject {
    FileObject(
      id: file.id, bytes: Int64(file.content.count), createdAt: file.createdAt, filename: file.filename,
      purpose: file.purpose, status: "processed")
  }

  func upload(_ request: HTTPRequest, body file: FileBody) async throws -> HTTPResponse {
    let body = [UInt8](file.wholeBody())
    let contentType = request.header("Content-Type") ?? ""
    let boundary = contentType.components(separatedBy: "boundary=").last ?? ""
    let (filename, purpose, content) = Self.parseMultipart(body, boundary: boundary)
    let call = call(request, detail: filename)
    record(call)
    return try withLock {
      let id = nextID("file-fake")
      storedFiles.append(
        StoredFile(
          id: id, filename: filename, purpose: purpose, content: content,
          createdAt: Int(Date().timeIntervalSince1970), order: counter, hiddenForLists: hideNewFilesForLists))
      if dropUploadAnswers > 0 {
        dropUploadAnswers -= 1
        throw Self.lostConnection
      }
      return Self.json(fileObject(storedFiles.last!))
    }
  }

  /// The file name, the purpose and the file bytes of a multipart body.
  static func parseMultipart(_ body: [UInt8], boundary: String) -> (String, String, [UInt8]) {
    let text = String(decoding: body, as: UTF8.self)
    var purpose = ""
    if let range = text.range(of: "name=\"purpose\"\r\n\r\n") {
      purpose = text[range.upperBound...].components(separatedBy: "\r\n").first ?? ""
    }
    var filename = ""
    if let range = text.range(of: "filename=\"") {
      filename = String(text[range.upperBound...].prefix { $0 != "\"" })
    }
    // The file's bytes: after the blank line that ends its part's headers,
    // up to the closing boundary.
    let headEnd = Array("Content-Type: application/jsonl\r\n\r\n".utf8)
    let tail = Array("\r\n--\(boundary)--\r\n".utf8)
    var start = 0
    if let n = search(body, headEnd) { start = n + headEnd.count }
    let end = body.count >= tail.count ? body.count - tail.count : body.count
    return (filename, purpose, Array(body[start..<max(start, end)]))
  }

  private static func search(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
    guard haystack.count >= needle.count else { return nil }
    for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
      if Array(haystack[i..<(i + needle.count)]) == needle { return i }
    }
    return nil
  }

  func download(_ request: HTTPRequest, toFile path: String) async throws -> HTTPDownload {
    let call = call(request)
    record(call)
    let parts = call.path.split(separator: "/").map(String.init)
    let content: [UInt8]? = withLock {
      guard parts.count == 3, parts[0] == "files", parts[2] == "content" else { return nil }
      return storedFiles.first { $0.id == parts[1] }?.content
    }
    guard let content else {
      let body = Array(#"{"error":{"message":"No such File object","type":"invalid_request_error"}}"#.utf8)
      try writeBytes(body, to: path)
      return HTTPDownload(head: HTTPResponseHead(status: 404), bytesWritten: Int64(body.count))
    }
    try writeBytes(content, to: path)
    return HTTPDownload(
      head: HTTPResponseHead(status: 200, headers: ["Content-Length": String(content.count)]),
      bytesWritten: Int64(content.count))
  }
}
