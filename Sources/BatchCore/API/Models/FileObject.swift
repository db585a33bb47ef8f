import Foundation

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
