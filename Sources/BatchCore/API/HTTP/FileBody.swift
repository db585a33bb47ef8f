import Foundation

/// A request body sent from disk without a copy: a few bytes, a file, a few bytes.
///
/// A multipart upload is its head, the request file, and its tail. Sent this
/// way, a 200 MB file is read once to hash it and once as it goes out, and
/// never written anywhere else.
public struct FileBody: Sendable, Equatable {
  /// The bytes before the file.
  public var head: Data
  /// The file.
  public var path: String
  /// How many of the file's bytes are sent: those that were hashed.
  public var fileLength: Int64
  /// The bytes after the file.
  public var tail: Data

  /// Creates a body.
  public init(head: Data, path: String, fileLength: Int64, tail: Data) {
    self.head = head
    self.path = path
    self.fileLength = fileLength
    self.tail = tail
  }

  /// The size of the whole body: the request's `Content-Length`.
  public var length: Int64 { Int64(head.count) + fileLength + Int64(tail.count) }
}
