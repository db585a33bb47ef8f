import Foundation

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
