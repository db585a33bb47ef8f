import Foundation

// The API's objects, decoded tolerantly. The spec types many optional fields
// as plain strings, but real responses send null; Azure sends "" for absent
// file ids, ISO dates for timestamps and capitalised statuses; every provider
// may add fields. So every optional field is nullable, ids treat "" as
// absent, a timestamp that is not a number becomes nil (or is parsed when it
// is an ISO date), and unknown fields are ignored. Only the fields without
// which an object is meaningless (`id`, a batch's `status`) are required.

/// A file stored by the API (`OpenAIFile`): an uploaded request file or a result file.
public struct FileObject: Codable, Sendable, Equatable {
  /// The id, such as `file-52voFe6FU6MWyAwa1Uj39R`.
  public var id: String
  /// `file`.
  public var object: String?
  /// The size in bytes.
  public var bytes: Int64?
  /// When it was created, in Unix seconds.
  public var createdAt: Int?
  /// When it expires, in Unix seconds.
  public var expiresAt: Int?
  /// The name it was uploaded with.
  public var filename: String?
  /// `batch` for request files, `batch_output` for output and error files.
  public var purpose: String?
  /// Deprecated processing status: `uploaded`, `processed` or `error`.
  public var status: String?
  /// Deprecated details of an `error` status.
  public var statusDetails: String?

  enum CodingKeys: String, CodingKey {
    case id, object, bytes, filename, purpose, status
    case createdAt = "created_at"
    case expiresAt = "expires_at"
    case statusDetails = "status_details"
  }

  /// Creates a file object (for tests and local bookkeeping).
  public init(
    id: String, object: String? = "file", bytes: Int64? = nil, createdAt: Int? = nil,
    expiresAt: Int? = nil, filename: String? = nil, purpose: String? = nil,
    status: String? = nil, statusDetails: String? = nil
  ) {
    self.id = id
    self.object = object
    self.bytes = bytes
    self.createdAt = createdAt
    self.expiresAt = expiresAt
    self.filename = filename
    self.purpose = purpose
    self.status = status
    self.statusDetails = statusDetails
  }

  /// Decodes a file object, tolerating nulls, strings for numbers and unknown fields.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    id = try c.decode(String.self, forKey: .id)
    object = c.apiString(.object)
    bytes = c.apiInt(.bytes).map(Int64.init)
    createdAt = c.apiTimestamp(.createdAt)
    expiresAt = c.apiTimestamp(.expiresAt)
    filename = decoder.serverText(c.apiString(.filename))
    purpose = decoder.serverText(c.apiString(.purpose))
    status = decoder.serverText(c.apiString(.status))
    statusDetails = decoder.serverText(c.apiString(.statusDetails))
  }
}

/// A batch (`Batch`): one input file being run against one endpoint.
public struct Batch: Codable, Sendable, Equatable {
  /// The lifecycle state of a batch.
  ///
  /// Decoded without regard to case (Azure has sent `Validating`), with the
  /// American spellings `canceled`/`canceling` accepted; any other value is
  /// kept in ``other(_:)`` rather than failing the decode.
  public enum Status: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The input file is being checked.
    case validating
    /// Validation failed; see ``Batch/errors``. Terminal.
    case failed
    /// Requests are running.
    case inProgress
    /// Requests are done and the result files are being written.
    case finalizing
    /// Done; the result files can be downloaded (some requests may still have failed). Terminal.
    case completed
    /// The completion window ran out; finished answers are in the output file. Terminal.
    case expired
    /// A cancel was asked for and is taking effect.
    case cancelling
    /// Cancelled; finished answers are in the output file. Terminal.
    case cancelled
    /// A status this code does not know, kept as sent.
    case other(String)

    /// Creates the status for an API string, ignoring case.
    ///
    /// - Parameter rawValue: The status as the API sends it (`in_progress`).
    public init(rawValue: String) {
      switch rawValue.lowercased() {
      case "validating": self = .validating
      case "failed": self = .failed
      case "in_progress": self = .inProgress
      case "finalizing": self = .finalizing
      case "completed": self = .completed
      case "expired": self = .expired
      case "cancelling", "canceling": self = .cancelling
      case "cancelled", "canceled": self = .cancelled
      // An unknown status is printed and stored: it gets no say over the terminal.
      default: self = .other(ServerText.clean(rawValue, limit: 64))
      }
    }

    /// The status as the API spells it (`in_progress`).
    public var rawValue: String {
      switch self {
      case .validating: return "validating"
      case .failed: return "failed"
      case .inProgress: return "in_progress"
      case .finalizing: return "finalizing"
      case .completed: return "completed"
      case .expired: return "expired"
      case .cancelling: return "cancelling"
      case .cancelled: return "cancelled"
      case .other(let value): return value
      }
    }

    /// Whether the batch will not change any more: completed, failed, expired or cancelled.
    public var isTerminal: Bool {
      switch self {
      case .completed, .failed, .expired, .cancelled: return true
      default: return false
      }
    }

    /// The ``rawValue``.
    public var description: String { rawValue }

    /// Decodes a status string.
    public init(from decoder: any Decoder) throws {
      let text = try decoder.singleValueContainer().decode(String.self)
      self.init(rawValue: decoder.serverText(text, limit: 64) ?? text)
    }

    /// Encodes the ``rawValue``.
    public func encode(to encoder: any Encoder) throws {
      var container = encoder.singleValueContainer()
      try container.encode(rawValue)
    }
  }

  /// The id, such as `batch_69c3c347282c81908ede48ecc95bf201`.
  public var id: String
  /// `batch`.
  public var object: String?
  /// The endpoint its requests go to (`/v1/chat/completions`); Azure may send null.
  public var endpoint: String?
  /// The model, as a dated snapshot name; null while validating.
  public var model: String?
  /// The validation errors of a failed batch.
  public var errors: BatchErrors?
  /// The uploaded request file.
  public var inputFileID: String?
  /// `24h`.
  public var completionWindow: String?
  /// The lifecycle state.
  public var status: Status
  /// The file of successful answers; nil when none succeeded.
  public var outputFileID: String?
  /// The file of failed requests; nil when none failed.
  public var errorFileID: String?
  /// When it was created, in Unix seconds.
  public var createdAt: Int?
  /// When it started running.
  public var inProgressAt: Int?
  /// When its completion window ends.
  public var expiresAt: Int?
  /// When it started finalizing.
  public var finalizingAt: Int?
  /// When it completed.
  public var completedAt: Int?
  /// When it failed.
  public var failedAt: Int?
  /// When it expired.
  public var expiredAt: Int?
  /// When a cancel was asked for.
  public var cancellingAt: Int?
  /// When it was cancelled.
  public var cancelledAt: Int?
  /// How many requests there are and how many finished each way.
  public var requestCounts: RequestCounts?
  /// The tokens used (batches created after September 2025).
  public var usage: BatchUsage?
  /// The metadata given at creation; non-string values are dropped.
  public var metadata: [String: String]?

  enum CodingKeys: String, CodingKey {
    case id, object, endpoint, model, errors, status, usage, metadata
    case inputFileID = "input_file_id"
    case completionWindow = "completion_window"
    case outputFileID = "output_file_id"
    case errorFileID = "error_file_id"
    case createdAt = "created_at"
    case inProgressAt = "in_progress_at"
    case expiresAt = "expires_at"
    case finalizingAt = "finalizing_at"
    case completedAt = "completed_at"
    case failedAt = "failed_at"
    case expiredAt = "expired_at"
    case cancellingAt = "cancelling_at"
    case cancelledAt = "cancelled_at"
    case requestCounts = "request_counts"
  }

  /// Creates a batch (for tests and local bookkeeping).
  public init(
    id: String, status: Status, endpoint: String? = nil, inputFileID: String? = nil,
    completionWindow: String? = "24h", outputFileID: String? = nil, errorFileID: String? = nil,
    createdAt: Int? = nil, requestCounts: RequestCounts? = nil, metadata: [String: String]? = nil,
    errors: BatchErrors? = nil, usage: BatchUsage? = nil, model: String? = nil
  ) {
    self.id = id
    self.object = "batch"
    self.status = status
    self.endpoint = endpoint
    self.inputFileID = inputFileID
    self.completionWindow = completionWindow
    self.outputFileID = outputFileID
    self.errorFileID = errorFileID
    self.createdAt = createdAt
    self.requestCounts = requestCounts
    self.metadata = metadata
    self.errors = errors
    self.usage = usage
    self.model = model
  }

  /// Decodes a batch, tolerating nulls, `""` ids, ISO timestamps and unknown fields.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    id = try c.decode(String.self, forKey: .id)
    status = try c.decode(Status.self, forKey: .status)
    object = c.apiString(.object)
    endpoint = decoder.serverText(c.apiString(.endpoint))
    model = decoder.serverText(c.apiString(.model), limit: 100)
    errors = try? c.decodeIfPresent(BatchErrors.self, forKey: .errors)
    inputFileID = c.apiID(.inputFileID)
    completionWindow = decoder.serverText(c.apiString(.completionWindow))
    outputFileID = c.apiID(.outputFileID)
    errorFileID = c.apiID(.errorFileID)
    createdAt = c.apiTimestamp(.createdAt)
    inProgressAt = c.apiTimestamp(.inProgressAt)
    expiresAt = c.apiTimestamp(.expiresAt)
    finalizingAt = c.apiTimestamp(.finalizingAt)
    completedAt = c.apiTimestamp(.completedAt)
    failedAt = c.apiTimestamp(.failedAt)
    expiredAt = c.apiTimestamp(.expiredAt)
    cancellingAt = c.apiTimestamp(.cancellingAt)
    cancelledAt = c.apiTimestamp(.cancelledAt)
    requestCounts = try? c.decodeIfPresent(RequestCounts.self, forKey: .requestCounts)
    usage = try? c.decodeIfPresent(BatchUsage.self, forKey: .usage)
    if let values = try? c.decodeIfPresent([String: LenientString].self, forKey: .metadata) {
      metadata = values.compactMapValues(\.value)
    } else {
      metadata = nil
    }
  }
}

/// How many requests a batch has, and how many finished each way.
public struct RequestCounts: Codable, Sendable, Equatable {
  /// All requests in the input file (0 while validating).
  public var total: Int
  /// Requests that succeeded.
  public var completed: Int
  /// Requests that failed.
  public var failed: Int

  /// Creates request counts.
  public init(total: Int = 0, completed: Int = 0, failed: Int = 0) {
    self.total = total
    self.completed = completed
    self.failed = failed
  }

  /// Decodes request counts; a missing or null count is 0.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    total = c.apiInt(.total) ?? 0
    completed = c.apiInt(.completed) ?? 0
    failed = c.apiInt(.failed) ?? 0
  }
}

/// The validation errors of a batch: `{"object": "list", "data": [...]}`.
public struct BatchErrors: Codable, Sendable, Equatable {
  /// `list`.
  public var object: String?
  /// The errors, one per bad line, or one for the whole batch.
  public var data: [BatchError]

  /// Creates a list of errors.
  public init(data: [BatchError], object: String? = "list") {
    self.object = object
    self.data = data
  }

  /// Decodes the list; a bare array is accepted too.
  public init(from decoder: any Decoder) throws {
    if let list = try? decoder.singleValueContainer().decode([BatchError].self) {
      self.init(data: list, object: nil)
      return
    }
    let c = try decoder.container(keyedBy: CodingKeys.self)
    self.init(data: (try? c.decodeIfPresent([BatchError].self, forKey: .data)) ?? [], object: c.apiString(.object))
  }
}

/// One validation error of a batch, such as `token_limit_exceeded` or `invalid_json_line`.
public struct BatchError: Codable, Sendable, Equatable {
  /// The error code.
  public var code: String?
  /// The server's explanation.
  public var message: String?
  /// The parameter at fault, such as `body.model`.
  public var param: String?
  /// The 1-based line of the input file, where the error is about one line.
  public var line: Int?

  /// Creates an error.
  public init(code: String? = nil, message: String? = nil, param: String? = nil, line: Int? = nil) {
    self.code = code
    self.message = message
    self.param = param
    self.line = line
  }

  /// Decodes an error, tolerating nulls and numbers as strings.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    code = decoder.serverText(c.apiString(.code), limit: 100)
    message = decoder.serverText(c.apiString(.message))
    param = decoder.serverText(c.apiString(.param))
    line = c.apiInt(.line)
  }
}

/// The tokens a batch used, as the API reports them.
public struct BatchUsage: Codable, Sendable, Equatable {
  /// Input tokens, cached ones included.
  public var inputTokens: Int?
  /// The breakdown of input tokens.
  public var inputTokensDetails: InputTokensDetails?
  /// Output tokens, reasoning ones included.
  public var outputTokens: Int?
  /// The breakdown of output tokens.
  public var outputTokensDetails: OutputTokensDetails?
  /// Input plus output tokens.
  public var totalTokens: Int?

  /// The breakdown of input tokens.
  public struct InputTokensDetails: Codable, Sendable, Equatable {
    /// Input tokens served from the prompt cache.
    public var cachedTokens: Int?

    enum CodingKeys: String, CodingKey { case cachedTokens = "cached_tokens" }

    /// Creates the breakdown.
    public init(cachedTokens: Int?) { self.cachedTokens = cachedTokens }

    /// Decodes the breakdown.
    public init(from decoder: any Decoder) throws {
      cachedTokens = try decoder.container(keyedBy: CodingKeys.self).apiInt(.cachedTokens)
    }
  }

  /// The breakdown of output tokens.
  public struct OutputTokensDetails: Codable, Sendable, Equatable {
    /// Output tokens spent on reasoning.
    public var reasoningTokens: Int?

    enum CodingKeys: String, CodingKey { case reasoningTokens = "reasoning_tokens" }

    /// Creates the breakdown.
    public init(reasoningTokens: Int?) { self.reasoningTokens = reasoningTokens }

    /// Decodes the breakdown.
    public init(from decoder: any Decoder) throws {
      reasoningTokens = try decoder.container(keyedBy: CodingKeys.self).apiInt(.reasoningTokens)
    }
  }

  enum CodingKeys: String, CodingKey {
    case inputTokens = "input_tokens"
    case inputTokensDetails = "input_tokens_details"
    case outputTokens = "output_tokens"
    case outputTokensDetails = "output_tokens_details"
    case totalTokens = "total_tokens"
  }

  /// Creates a usage record.
  public init(
    inputTokens: Int? = nil, cachedTokens: Int? = nil, outputTokens: Int? = nil,
    reasoningTokens: Int? = nil, totalTokens: Int? = nil
  ) {
    self.inputTokens = inputTokens
    self.inputTokensDetails = cachedTokens.map(InputTokensDetails.init(cachedTokens:))
    self.outputTokens = outputTokens
    self.outputTokensDetails = reasoningTokens.map(OutputTokensDetails.init(reasoningTokens:))
    self.totalTokens = totalTokens
  }

  /// Decodes usage, tolerating nulls.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    inputTokens = c.apiInt(.inputTokens)
    inputTokensDetails = try? c.decodeIfPresent(InputTokensDetails.self, forKey: .inputTokensDetails)
    outputTokens = c.apiInt(.outputTokens)
    outputTokensDetails = try? c.decodeIfPresent(OutputTokensDetails.self, forKey: .outputTokensDetails)
    totalTokens = c.apiInt(.totalTokens)
  }

  /// Input tokens served from the cache, 0 when not reported.
  public var cachedTokens: Int { inputTokensDetails?.cachedTokens ?? 0 }
  /// Output tokens spent on reasoning, 0 when not reported.
  public var reasoningTokens: Int { outputTokensDetails?.reasoningTokens ?? 0 }
}

/// One page of a list (`ListBatchesResponse`, `ListFilesResponse`).
public struct ListPage<Element: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
  /// `list`.
  public var object: String?
  /// The objects on this page.
  public var data: [Element]
  /// The id of the first object; null on an empty page.
  public var firstID: String?
  /// The id of the last object, the cursor for the next page; null on an empty page.
  public var lastID: String?
  /// Whether more pages follow; a missing value means no.
  public var hasMore: Bool?

  enum CodingKeys: String, CodingKey {
    case object, data
    case firstID = "first_id"
    case lastID = "last_id"
    case hasMore = "has_more"
  }

  /// Creates a page.
  public init(data: [Element], firstID: String? = nil, lastID: String? = nil, hasMore: Bool? = nil) {
    self.object = "list"
    self.data = data
    self.firstID = firstID
    self.lastID = lastID
    self.hasMore = hasMore
  }

  /// Decodes a page; only `data` is required.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    object = c.apiString(.object)
    data = try c.decode([Element].self, forKey: .data)
    firstID = c.apiID(.firstID)
    lastID = c.apiID(.lastID)
    hasMore = try? c.decodeIfPresent(Bool.self, forKey: .hasMore)
  }
}

/// The answer to a file deletion.
public struct DeletedFile: Codable, Sendable, Equatable {
  /// The id of the file.
  public var id: String
  /// `file`.
  public var object: String?
  /// Whether the file is gone.
  public var deleted: Bool

  /// Creates a deletion record.
  public init(id: String, deleted: Bool, object: String? = "file") {
    self.id = id
    self.object = object
    self.deleted = deleted
  }

  /// Decodes a deletion record; a missing `deleted` means false.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    id = try c.decode(String.self, forKey: .id)
    object = c.apiString(.object)
    deleted = (try? c.decodeIfPresent(Bool.self, forKey: .deleted)) ?? false
  }
}

/// The body of an HTTP error: `{"error": {"type", "code", "message", "param"}}`.
///
/// Also accepted: `{"error": "text"}` and a bare `{"message": ...}`, which
/// some compatible servers and proxies send.
public struct APIErrorEnvelope: Codable, Sendable, Equatable {
  /// The error, when the body had one.
  public var error: Detail?

  /// What went wrong, as the server says it.
  public struct Detail: Codable, Sendable, Equatable {
    /// The kind, such as `invalid_request_error`.
    public var type: String?
    /// The code, such as `rate_limit_exceeded`; numbers are kept as text.
    public var code: String?
    /// The server's explanation; may echo part of the key, so redact it before showing.
    public var message: String?
    /// The parameter at fault.
    public var param: String?

    /// Creates a detail.
    public init(type: String? = nil, code: String? = nil, message: String? = nil, param: String? = nil) {
      self.type = type
      self.code = code
      self.message = message
      self.param = param
    }

    /// Decodes a detail, tolerating nulls and numeric codes.
    public init(from decoder: any Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      type = decoder.serverText(c.apiString(.type), limit: 100)
      code = decoder.serverText(c.apiString(.code), limit: 100)
      message = decoder.serverText(c.apiString(.message))
      param = decoder.serverText(c.apiString(.param))
    }
  }

  enum CodingKeys: String, CodingKey {
    case error, type, code, message, param
  }

  /// Creates an envelope.
  public init(error: Detail?) { self.error = error }

  /// Decodes any of the accepted shapes.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    if let detail = try? c.decodeIfPresent(Detail.self, forKey: .error) {
      error = detail
    } else if let text = decoder.serverText(c.apiString(.error)) {
      error = Detail(message: text)
    } else if let message = decoder.serverText(c.apiString(.message)) {
      error = Detail(
        type: decoder.serverText(c.apiString(.type), limit: 100), code: decoder.serverText(c.apiString(.code), limit: 100),
        message: message, param: decoder.serverText(c.apiString(.param)))
    } else {
      error = nil
    }
  }

  /// Encodes `{"error": {...}}`.
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encodeIfPresent(error, forKey: .error)
  }
}

/// A JSON value read as text when it is a string or a number, else nil.
private struct LenientString: Decodable {
  var value: String?

  init(from decoder: any Decoder) throws {
    let c = try decoder.singleValueContainer()
    if let text = try? c.decode(String.self) {
      value = text
    } else if let number = try? c.decode(Int.self) {
      value = String(number)
    } else if let number = try? c.decode(Double.self) {
      value = String(number)
    } else {
      value = nil
    }
  }
}

extension KeyedDecodingContainer {
  /// A string, or a number as text; nil when absent, null or anything else.
  fileprivate func apiString(_ key: Key) -> String? {
    (try? decodeIfPresent(LenientString.self, forKey: key))??.value
  }

  /// An object id; `""` (Azure's way of saying none) is nil.
  fileprivate func apiID(_ key: Key) -> String? {
    guard let text = apiString(key), !text.isEmpty else { return nil }
    return text
  }

  /// An integer, also from `12.0` or `"12"`; nil when absent, null or not a number.
  fileprivate func apiInt(_ key: Key) -> Int? {
    if let number = try? decodeIfPresent(Int.self, forKey: key) { return number }
    if let number = try? decodeIfPresent(Double.self, forKey: key), number.isFinite,
      number >= -9.0e15, number <= 9.0e15
    {
      return Int(number)
    }
    if let text = try? decodeIfPresent(String.self, forKey: key) { return Int(text) }
    return nil
  }

  /// Unix seconds; an ISO 8601 date (older Azure responses) is converted;
  /// anything else is nil rather than a failed decode.
  fileprivate func apiTimestamp(_ key: Key) -> Int? {
    if let number = apiInt(key) { return number }
    guard let text = try? decodeIfPresent(String.self, forKey: key) else { return nil }
    let formatter = ISO8601DateFormatter()
    for options: ISO8601DateFormatter.Options in [
      [.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime],
    ] {
      formatter.formatOptions = options
      if let date = formatter.date(from: text) { return Int(date.timeIntervalSince1970) }
    }
    return nil
  }
}
