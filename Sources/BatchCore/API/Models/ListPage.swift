import Foundation

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
