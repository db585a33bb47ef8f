import Foundation

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
