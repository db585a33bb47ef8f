// API/: the Files and Batches API over HTTP: configuration and providers,
// the client and its transport, HTTP retries, the models of what the server
// sends, and RemoteRun, a run opened by a tool that calls the API.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The order of a file listing, by creation time.
public enum ListOrder: String, Sendable {
  /// Oldest first.
  case asc
  /// Newest first (the API's default).
  case desc
}

/// A client for the OpenAI Files and Batches API, and compatible providers.
///
/// Each method is one API call, retried by ``HTTPRetryPolicy`` where that is
/// safe (see ``APIError/isRetryable``), with each retry noted through the
/// logger. A method throws ``APIError`` when the request failed for good,
/// ``ToolError`` for a bad argument or a local file problem, and
/// `CancellationError` when the task is cancelled.
///
/// The two calls that create something paid, ``uploadFile(at:filename:purpose:expiresAfter:)``
/// and ``createBatch(inputFileID:endpoint:completionWindow:metadata:outputExpiresAfter:)``,
/// are never repeated when the server may have acted: they throw an error whose
/// ``APIError/outcomeUnknown`` is true, and the caller reconciles by listing.
public final class OpenAIClient: Sendable {
  /// Where the API is, the key, and the provider's profile.
  public let configuration: APIConfiguration
  /// What moves the bytes.
  public let transport: any HTTPTransport
  /// When to retry.
  public let retryPolicy: HTTPRetryPolicy
  /// Receives one line per retry, without the tool name (`Diagnostics.note` adds it).
  public let logger: @Sendable (String) -> Void

  /// Creates a client.
  ///
  /// - Parameters:
  ///   - configuration: The configuration.
  ///   - transport: The transport; the process's shared ``CurlTransport`` by default.
  ///   - retryPolicy: The retry policy.
  ///   - logger: Where retry notes go; standard error by default.
  public init(
    configuration: APIConfiguration, transport: any HTTPTransport = CurlTransport.shared,
    retryPolicy: HTTPRetryPolicy = HTTPRetryPolicy(),
    logger: @escaping @Sendable (String) -> Void = { Diagnostics.note($0) }
  ) {
    self.configuration = configuration
    self.transport = transport
    self.retryPolicy = retryPolicy
    self.logger = logger
  }

  /// Creates a client from the environment: ``APIConfiguration/fromEnvironment(_:)``
  /// and ``HTTPRetryPolicy/fromEnvironment(_:)``.
  ///
  /// - Parameters:
  ///   - env: The environment; the process's by default.
  ///   - transport: The transport; the shared ``CurlTransport`` by default.
  ///   - logger: Where retry notes go; standard error by default.
  /// - Returns: The client.
  /// - Throws: ``ToolError`` `.configuration` (exit 78) when the key is missing or a value is invalid.
  public static func fromEnvironment(
    _ env: [String: String] = ProcessInfo.processInfo.environment,
    transport: any HTTPTransport = CurlTransport.shared,
    logger: @escaping @Sendable (String) -> Void = { Diagnostics.note($0) }
  ) throws -> OpenAIClient {
    OpenAIClient(
      configuration: try APIConfiguration.fromEnvironment(env), transport: transport,
      retryPolicy: try HTTPRetryPolicy.fromEnvironment(env), logger: logger)
  }

  /// The provider's limits and capabilities.
  public var profile: ProviderProfile { configuration.profile }

  // MARK: - Files

  /// Uploads a file, streaming it from disk: ``prepareUpload(at:filename:purpose:expiresAfter:)``
  /// then ``uploadFile(_:)``.
  ///
  /// The multipart body (`purpose`, then the file) is sent with a
  /// `Content-Length`, the file read as it goes out, so memory stays flat
  /// for a 200 MB file and nothing is copied. The upload is retried only
  /// after a 429 or a connection that was never made.
  ///
  /// The corresponding API call is `POST /v1/files`.
  ///
  /// - Parameters:
  ///   - path: The file to upload.
  ///   - filename: The name the server records; the last component of `path` by default.
  ///   - purpose: The purpose, `batch` by default.
  ///   - expiresAfter: Seconds after creation when the server should delete
  ///     the file (`expires_after`), or `nil` for the provider's default.
  /// - Returns: The new file object.
  /// - Throws: ``APIError`` (check ``APIError/outcomeUnknown`` before
  ///   uploading again); ``ToolError`` `.noInput` when the file cannot be read,
  ///   `.dataError` when it is larger than the provider accepts.
  public func uploadFile(
    at path: String, filename: String? = nil, purpose: String = "batch", expiresAfter: Int? = nil
  ) async throws -> FileObject {
    let upload = try prepareUpload(at: path, filename: filename, purpose: purpose, expiresAfter: expiresAfter)
    return try await uploadFile(upload)
  }

  /// Hashes the file at `path` and describes the multipart body that sends it.
  ///
  /// The digest is of exactly the bytes that go out: the upload sends the
  /// file's first ``FileBody/fileLength`` bytes, the count hashed here, and
  /// fails if the file has become shorter.
  ///
  /// - Parameters: As for ``uploadFile(at:filename:purpose:expiresAfter:)``.
  /// - Returns: The body and the SHA-256 of the file at `path`.
  /// - Throws: ``ToolError`` `.noInput` when the file cannot be read,
  ///   `.dataError` when it is larger than the provider accepts.
  public func prepareUpload(
    at path: String, filename: String? = nil, purpose: String = "batch", expiresAfter: Int? = nil
  ) throws -> PreparedUpload {
    guard let size = APIFileIO.size(path) else {
      throw ToolError.system(.noInput, "read", path)
    }
    if purpose == profile.uploadPurpose && size > profile.maxBytesPerFile {
      throw ToolError(
        .dataError,
        "'\(path)' is \(size) bytes, more than the \(profile.maxBytesPerFile) a batch file may have here; "
          + "run batch-prepare again with the same provider settings (or BATCHLINE_MAX_BYTES)")
    }
    let name = filename ?? (path as NSString).lastPathComponent
    var fields: [(name: String, value: String)] = [("purpose", purpose)]
    if let expiresAfter {
      fields.append((profile.fileExpiryFields[0], "created_at"))
      fields.append((profile.fileExpiryFields[1], String(expiresAfter)))
    }
    let multipart = MultipartBody(fields: fields, filename: name)
    let digest = try SHA256.digest(ofFile: path)
    return PreparedUpload(
      body: multipart.body(file: path, fileLength: digest.bytes), contentType: multipart.contentType,
      sha256: digest.hex)
  }

  /// Sends a prepared upload; see ``uploadFile(at:filename:purpose:expiresAfter:)``.
  ///
  /// The corresponding API call is `POST /v1/files`.
  ///
  /// - Returns: The new file object.
  /// - Throws: ``APIError`` (check ``APIError/outcomeUnknown`` before uploading again).
  public func uploadFile(_ upload: PreparedUpload) async throws -> FileObject {
    var request = makeRequest("POST", "files", contentType: upload.contentType)
    request.headers["Content-Length"] = String(upload.body.length)
    request.timeout = configuration.transferTimeout
    request.deadline = configuration.transferDeadline
    request.requiresFreshConnection = true
    return try await perform(request, kind: .create) { request in
      try await self.transport.upload(request, body: upload.body)
    }
  }

  /// Lists files, one page.
  ///
  /// The corresponding API call is `GET /v1/files`.
  ///
  /// - Parameters:
  ///   - purpose: Only files with this purpose (`batch`, `batch_output`).
  ///   - after: The cursor: the id of the last file of the previous page.
  ///   - limit: The page size; the profile's by default (10,000 on OpenAI).
  ///   - order: By creation time; the server's default (newest first) when `nil`.
  /// - Returns: The page.
  /// - Throws: ``APIError``; ``ToolError`` `.dataError` for an invalid cursor.
  public func listFiles(
    purpose: String? = nil, after: String? = nil, limit: Int? = nil, order: ListOrder? = nil
  ) async throws -> ListPage<FileObject> {
    if let after { try Self.validateID(after, kind: "file") }
    let query: [(String, String?)] = [
      ("purpose", purpose), ("after", after), ("limit", (limit ?? profile.fileListPageLimit).map(String.init)),
      ("order", order?.rawValue),
    ]
    return try await sendJSON(makeRequest("GET", "files", query: query), kind: .read)
  }

  /// Lists every file, following the cursor across pages.
  ///
  /// - Parameters:
  ///   - purpose: Only files with this purpose.
  ///   - stop: Called on each file in server order (newest first); listing
  ///     ends, without that file, at the first one for which it returns true.
  /// - Returns: The files.
  /// - Throws: ``APIError``, or ``ToolError`` when the server's cursor does not advance.
  public func allFiles(purpose: String? = nil, until stop: (FileObject) -> Bool = { _ in false })
    async throws -> [FileObject]
  {
    try await collectPages(path: "files", until: stop) { after in
      try await self.listFiles(purpose: purpose, after: after)
    }
  }

  /// Retrieves a file's metadata.
  ///
  /// The corresponding API call is `GET /v1/files/{file_id}`.
  ///
  /// - Parameter id: The file id.
  /// - Returns: The file object.
  /// - Throws: ``APIError`` (404 when there is no such file); ``ToolError`` `.dataError` for an invalid id.
  public func retrieveFile(id: String) async throws -> FileObject {
    try Self.validateID(id, kind: "file")
    return try await sendJSON(makeRequest("GET", "files/\(id)"), kind: .read)
  }

  /// Deletes a file.
  ///
  /// A 404 on a retry counts as done: the earlier attempt deleted it.
  ///
  /// The corresponding API call is `DELETE /v1/files/{file_id}`.
  ///
  /// - Parameter id: The file id.
  /// - Returns: The deletion record.
  /// - Throws: ``APIError`` (404 when the first attempt finds no such file);
  ///   ``ToolError`` `.dataError` for an invalid id.
  public func deleteFile(id: String) async throws -> DeletedFile {
    try Self.validateID(id, kind: "file")
    let request = makeRequest("DELETE", "files/\(id)")
    return try await withRetries(request, kind: .delete) { attempt in
      let response = try await self.exchange(request, kind: .delete) { try await self.transport.send($0) }
      if response.status == 404 && attempt > 1 {
        return DeletedFile(id: id, deleted: true)
      }
      return try self.decode(response, request: request, kind: .delete)
    }
  }

  /// Downloads a file's content to `destination`, streaming it to disk.
  ///
  /// The body goes to `destination + ".part"`, is checked against the
  /// `Content-Length` (a short body is retried as a truncated download),
  /// flushed to disk, and then renamed onto `destination`, so that
  /// `destination` is either the whole file or untouched.
  ///
  /// The corresponding API call is `GET /v1/files/{file_id}/content`.
  ///
  /// - Parameters:
  ///   - id: The file id.
  ///   - destination: Where the content goes; replaced if it exists.
  /// - Returns: The number of bytes written.
  /// - Throws: ``APIError``; ``ToolError`` `.dataError` for an invalid id,
  ///   `.failure` when the destination cannot be written.
  @discardableResult
  public func downloadFileContent(id: String, to destination: String) async throws -> Int64 {
    try Self.validateID(id, kind: "file")
    let part = destination + ".part"
    // Fail on an unwritable destination now, not after six retried downloads.
    let probe = createReplacingStale(part)
    guard probe >= 0 else {
      throw ToolError.system(.failure, "write", part)
    }
    close(probe)
    var finished = false
    defer { if !finished { APIFileIO.remove(part) } }

    var request = makeRequest("GET", "files/\(id)/content", accept: nil)
    request.timeout = configuration.transferTimeout
    request.deadline = configuration.transferDeadline
    let bytes = try await withRetries(request, kind: .read) { _ in
      let download = try await self.exchange(request, kind: .read) { request in
        try await self.transport.download(request, toFile: part)
      }
      let head = download.head
      guard head.isSuccess else {
        let body = APIFileIO.prefix(of: part, limit: 65_536)
        throw self.httpError(head, body: body, request: request, kind: .read)
      }
      // A decoded (gzip) body is longer than its Content-Length; libcurl
      // itself reports a cut-off compressed body as an error.
      let encoding = head.header("content-encoding")?.lowercased() ?? "identity"
      if encoding == "identity", let text = head.header("content-length"),
        let expected = Int64(text.trimmingCharacters(in: .whitespaces)), expected != download.bytesWritten
      {
        throw APIError(
          .truncated(expected: expected, received: download.bytesWritten),
          method: request.method, path: request.url.path, kind: .read)
      }
      return download.bytesWritten
    }
    try syncFile(part)
    try rename(part, onto: destination)
    finished = true
    return bytes
  }

  // MARK: - Batches

  /// Creates a batch from an uploaded request file.
  ///
  /// The request is retried only after a 429 or a connection that was never
  /// made. After a 5xx, a timeout or a lost connection the batch may exist:
  /// the error's ``APIError/outcomeUnknown`` is true, and the caller should
  /// look for it (``allBatches(until:)``, matching `metadata`) before creating it again.
  ///
  /// The corresponding API call is `POST /v1/batches`.
  ///
  /// - Parameters:
  ///   - inputFileID: The uploaded request file.
  ///   - endpoint: The endpoint of its requests, such as `/v1/chat/completions`.
  ///   - completionWindow: The window; the profile's default (`24h`) when `nil`.
  ///   - metadata: Up to 16 string pairs to find the batch by later.
  ///   - outputExpiresAfter: Seconds after which the server deletes the
  ///     result files (`output_expires_after`), or `nil` for its default.
  /// - Returns: The new batch, usually `validating`.
  /// - Throws: ``APIError``; ``ToolError`` `.dataError` when an argument breaks the provider's rules.
  public func createBatch(
    inputFileID: String, endpoint: String, completionWindow: String? = nil,
    metadata: [String: String]? = nil, outputExpiresAfter: Int? = nil
  ) async throws -> Batch {
    try Self.validateID(inputFileID, kind: "file")
    guard profile.acceptsEndpoint(endpoint) else {
      throw ToolError(
        .dataError,
        "endpoint '\(Self.printable(endpoint))' is not one the \(configuration.provider.rawValue) batch API accepts")
    }
    let window = completionWindow ?? profile.defaultCompletionWindow
    guard profile.acceptsCompletionWindow(window) else {
      let provider = configuration.provider.rawValue
      throw ToolError(
        .dataError, "completion window '\(Self.printable(window))' is not one the \(provider) batch API accepts")
    }
    if let metadata { try validateMetadata(metadata) }

    let body = CreateBatchBody(
      inputFileID: inputFileID, endpoint: endpoint, completionWindow: window, metadata: metadata,
      outputExpiresAfter: outputExpiresAfter.map { .init(anchor: "created_at", seconds: $0) })
    var request = makeRequest("POST", "batches", body: try Self.encode(body), contentType: "application/json")
    request.requiresFreshConnection = true
    return try await sendJSON(request, kind: .create)
  }

  /// Retrieves a batch.
  ///
  /// The corresponding API call is `GET /v1/batches/{batch_id}`.
  ///
  /// - Parameter id: The batch id.
  /// - Returns: The batch.
  /// - Throws: ``APIError``; ``ToolError`` `.dataError` for an invalid id.
  public func retrieveBatch(id: String) async throws -> Batch {
    try Self.validateID(id, kind: "batch")
    return try await sendJSON(makeRequest("GET", "batches/\(id)"), kind: .read)
  }

  /// Asks for a batch to be cancelled; it goes to `cancelling`, then `cancelled`.
  ///
  /// The corresponding API call is `POST /v1/batches/{batch_id}/cancel`.
  ///
  /// - Parameter id: The batch id.
  /// - Returns: The batch.
  /// - Throws: ``APIError`` (409 when the batch already finished);
  ///   ``ToolError`` `.dataError` for an invalid id.
  public func cancelBatch(id: String) async throws -> Batch {
    try Self.validateID(id, kind: "batch")
    return try await sendJSON(makeRequest("POST", "batches/\(id)/cancel"), kind: .cancel)
  }

  /// Lists batches, newest first, one page.
  ///
  /// The corresponding API call is `GET /v1/batches`.
  ///
  /// - Parameters:
  ///   - after: The cursor: the id of the last batch of the previous page.
  ///   - limit: The page size; the profile's by default (100, the API's maximum).
  /// - Returns: The page.
  /// - Throws: ``APIError``; ``ToolError`` `.dataError` for an invalid cursor.
  public func listBatches(after: String? = nil, limit: Int? = nil) async throws -> ListPage<Batch> {
    if let after { try Self.validateID(after, kind: "batch") }
    let query: [(String, String?)] = [("after", after), ("limit", String(limit ?? profile.batchListPageLimit))]
    return try await sendJSON(makeRequest("GET", "batches", query: query), kind: .read)
  }

  /// Lists every batch, newest first, following the cursor across pages.
  ///
  /// - Parameter stop: Called on each batch in order; listing ends, without
  ///   that batch, at the first one for which it returns true (for example
  ///   `{ ($0.createdAt ?? .max) < runStart }`).
  /// - Returns: The batches.
  /// - Throws: ``APIError``, or ``ToolError`` when the server's cursor does not advance.
  public func allBatches(until stop: (Batch) -> Bool = { _ in false }) async throws -> [Batch] {
    try await collectPages(path: "batches", until: stop) { after in
      try await self.listBatches(after: after)
    }
  }

  // MARK: - Requests

  /// The request for `path` under the base URL, with the key and the usual headers.
  private func makeRequest(
    _ method: String, _ path: String, query: [(String, String?)] = [], body: Data? = nil,
    contentType: String? = nil, accept: String? = "application/json"
  ) -> HTTPRequest {
    var headers = configuration.authorizationHeaders
    headers["User-Agent"] = "batchline/\(batchlineVersion)"
    if let accept { headers["Accept"] = accept }
    if let contentType { headers["Content-Type"] = contentType }
    return HTTPRequest(
      method: method, url: configuration.url(path, query: query), headers: headers, body: body,
      timeout: configuration.requestTimeout)
  }

  /// Sends a JSON request, with retries, and decodes the answer.
  private func sendJSON<T: Decodable>(_ request: HTTPRequest, kind: RequestKind) async throws -> T {
    try await perform(request, kind: kind) { try await self.transport.send($0) }
  }

  /// Runs `send` with retries and decodes a successful answer.
  private func perform<T: Decodable>(
    _ request: HTTPRequest, kind: RequestKind, _ send: (HTTPRequest) async throws -> HTTPResponse
  ) async throws -> T {
    try await withRetries(request, kind: kind) { _ in
      let response = try await self.exchange(request, kind: kind, send)
      return try self.decode(response, request: request, kind: kind)
    }
  }

  /// Calls the transport, turning its errors into ``APIError``.
  private func exchange<R>(
    _ request: HTTPRequest, kind: RequestKind, _ send: (HTTPRequest) async throws -> R
  ) async throws -> R {
    do {
      return try await send(request)
    } catch let error as TransportError {
      throw APIError(.transport(error), method: request.method, path: request.url.path, kind: kind)
    }
  }

  /// Decodes a 2xx answer as `T`, or throws the ``APIError`` of any other status.
  private func decode<T: Decodable>(_ response: HTTPResponse, request: HTTPRequest, kind: RequestKind) throws -> T {
    guard response.head.isSuccess else {
      throw httpError(response.head, body: response.body, request: request, kind: kind)
    }
    guard !response.isTruncated else {
      throw APIError(
        .invalidResponse(status: response.status, reason: "the answer is larger than \(response.body.count >> 20) MiB"),
        method: request.method, path: request.url.path, kind: kind)
    }
    do {
      return try serverDecoder().decode(T.self, from: response.body)
    } catch {
      let reason = "not a valid \(String(describing: T.self)) object (\(Self.decodingReason(error)))"
      throw APIError(
        .invalidResponse(status: response.status, reason: reason), method: request.method,
        path: request.url.path, kind: kind)
    }
  }

  /// A decoder whose server text is cleaned and redacted of this client's key
  /// (``ServerText``).
  private func serverDecoder() -> JSONDecoder {
    let decoder = JSONDecoder()
    decoder.userInfo[.apiKey] = configuration.apiKey
    return decoder
  }

  /// The ``APIError`` of an error status, with the server's message cleaned and redacted.
  private func httpError(_ head: HTTPResponseHead, body: Data, request: HTTPRequest, kind: RequestKind) -> APIError {
    var detail = (try? serverDecoder().decode(APIErrorEnvelope.self, from: body))?.error
    if detail == nil, (300..<400).contains(head.status) {
      let location = head.header("location").flatMap { URL(string: $0)?.host }.map { ServerText.clean($0, limit: 100) } ?? "elsewhere"
      detail = APIErrorEnvelope.Detail(message: "redirect to '\(location)' not followed")
    }
    return APIError(
      .http(status: head.status, detail: detail, retryAfter: HTTPRetryPolicy.retryAfter(in: head)),
      method: request.method, path: request.url.path, kind: kind)
  }

  /// Runs `attempt` until it succeeds, fails for good, or the policy gives up.
  private func withRetries<T>(
    _ request: HTTPRequest, kind: RequestKind, _ attempt: (Int) async throws -> T
  ) async throws -> T {
    let start = retryPolicy.clock()
    var number = 1
    while true {
      do {
        return try await attempt(number)
      } catch let error as APIError {
        guard error.isRetryable,
          let wait = retryPolicy.delay(
            afterAttempt: number, retryAfter: error.retryAfter, elapsed: retryPolicy.clock() - start)
        else { throw error }
        logger(
          "\(error.operation): \(error.summary); retrying in \(HTTPRetryPolicy.format(wait)) "
            + "(attempt \(number + 1) of \(retryPolicy.maxAttempts))")
        try await retryPolicy.sleep(wait)
        number += 1
      }
    }
  }

  /// Pages through a list until `has_more` is false or `stop` says so.
  private func collectPages<T>(
    path: String, until stop: (T) -> Bool, _ page: (String?) async throws -> ListPage<T>
  ) async throws -> [T] {
    var items: [T] = []
    var cursor: String? = nil
    var seen = Set<String>()
    while true {
      let current = try await page(cursor)
      for item in current.data {
        if stop(item) { return items }
        items.append(item)
      }
      guard current.hasMore == true else { return items }
      guard let next = current.lastID ?? Self.lastID(of: current.data), seen.insert(next).inserted else {
        // A server that says "more" without a new cursor would loop forever.
        let operation = "GET \(configuration.url(path).path)"
        throw ToolError(.failure, "\(operation): the list does not advance past '\(cursor ?? "")'")
      }
      cursor = next
    }
  }

  /// The id of the last element of a page, for servers that send no `last_id`.
  private static func lastID<T>(of data: [T]) -> String? {
    switch data.last {
    case let batch as Batch: return batch.id
    case let file as FileObject: return file.id
    default: return nil
    }
  }

  // MARK: - Validation and encoding

  /// Throws unless `id` is 1 to 128 of `A-Z a-z 0-9 _ -`.
  ///
  /// Ids come from files and servers and go into URL paths; anything else
  /// (`/`, `..`, `?`, `%`) could point a request somewhere else.
  ///
  /// - Parameters:
  ///   - id: The id.
  ///   - kind: What it names, for the message (`file`, `batch`).
  /// - Throws: ``ToolError`` `.dataError`: `invalid file id 'x'`.
  public static func validateID(_ id: String, kind: String) throws {
    let bytes = id.utf8
    let valid =
      !bytes.isEmpty && bytes.count <= 128
      && bytes.allSatisfy { byte in
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
          || byte == 0x5F || byte == 0x2D
      }
    guard valid else { throw ToolError(.dataError, "invalid \(kind) id '\(printable(id))'") }
  }

  /// Checks metadata against the profile's limits before the server does.
  private func validateMetadata(_ metadata: [String: String]) throws {
    if metadata.count > profile.maxMetadataPairs {
      throw ToolError(.dataError, "metadata has \(metadata.count) pairs, more than \(profile.maxMetadataPairs)")
    }
    for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
      if key.isEmpty || key.count > profile.maxMetadataKeyLength {
        throw ToolError(
          .dataError, "metadata key '\(Self.printable(key))' must have 1 to \(profile.maxMetadataKeyLength) characters")
      }
      if value.count > profile.maxMetadataValueLength {
        throw ToolError(
          .dataError,
          "metadata value of '\(Self.printable(key))' is longer than \(profile.maxMetadataValueLength) characters")
      }
    }
  }

  /// `text` for a message: control characters replaced, at most `limit` characters.
  static func printable(_ text: String, limit: Int = 80) -> String {
    let scalars = text.unicodeScalars.map { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) ? "?" : $0 }
    let clean = String(String.UnicodeScalarView(scalars))
    return clean.count > limit ? String(clean.prefix(limit - 3)) + "..." : clean
  }

  /// The JSON of a request body: sorted keys (the encoder's order is random
  /// per process on Linux) and `/` unescaped, so bodies are reproducible.
  static func encode<T: Encodable>(_ value: T) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(value)
  }

  /// A short reason for a decoding failure.
  private static func decodingReason(_ error: Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, _): return "no '\(key.stringValue)'"
    case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
      let path = context.codingPath.map(\.stringValue).joined(separator: ".")
      return path.isEmpty ? "wrong type" : "wrong type at '\(path)'"
    case DecodingError.dataCorrupted: return "not JSON"
    default: return "unreadable"
    }
  }
}

/// The body of `POST /v1/batches`.
private struct CreateBatchBody: Encodable {
  struct ExpiresAfter: Encodable {
    var anchor: String
    var seconds: Int
  }

  var inputFileID: String
  var endpoint: String
  var completionWindow: String
  var metadata: [String: String]?
  var outputExpiresAfter: ExpiresAfter?

  enum CodingKeys: String, CodingKey {
    case endpoint, metadata
    case inputFileID = "input_file_id"
    case completionWindow = "completion_window"
    case outputExpiresAfter = "output_expires_after"
  }
}
