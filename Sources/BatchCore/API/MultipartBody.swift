#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A `multipart/form-data` body with text fields followed by one file.
///
/// The body is never assembled: its head and tail are a few hundred bytes in
/// memory and the file is read as it is sent (``FileBody``), so a 200 MB
/// upload costs a constant few MB of RAM and no second copy on disk.
public struct MultipartBody: Sendable {
  /// The boundary between parts: `batchline-` and 32 random hex digits, which
  /// cannot plausibly occur in the file.
  public var boundary: String
  /// The text fields, in order, before the file.
  public var fields: [(name: String, value: String)]
  /// The form name of the file part.
  public var fileField: String
  /// The file name sent with the file part.
  public var filename: String
  /// The content type of the file part.
  public var fileContentType: String

  /// Creates a body description.
  ///
  /// - Parameters:
  ///   - fields: The text fields, sent first and in order.
  ///   - fileField: The form name of the file part (`file`).
  ///   - filename: The file name sent to the server.
  ///   - fileContentType: The content type of the file part; by default
  ///     `application/jsonl` for `.jsonl` names, else `application/octet-stream`.
  ///   - boundary: The boundary; a random one by default.
  public init(
    fields: [(name: String, value: String)], fileField: String = "file", filename: String,
    fileContentType: String? = nil, boundary: String = MultipartBody.randomBoundary()
  ) {
    self.fields = fields
    self.fileField = fileField
    self.filename = filename
    self.fileContentType =
      fileContentType
      ?? (filename.lowercased().hasSuffix(".jsonl") ? "application/jsonl" : "application/octet-stream")
    self.boundary = boundary
  }

  /// A new random boundary.
  public static func randomBoundary() -> String {
    var generator = SystemRandomNumberGenerator()
    let digits = (0..<32).map { _ in String(Int(generator.next() % 16), radix: 16) }.joined()
    return "batchline-" + digits
  }

  /// The `Content-Type` header of the request.
  public var contentType: String { "multipart/form-data; boundary=\(boundary)" }

  /// Everything before the file's bytes.
  public var head: Data {
    var text = ""
    for field in fields {
      text += "--\(boundary)\r\n"
      text += "Content-Disposition: form-data; name=\"\(Self.quoted(field.name))\"\r\n\r\n"
      text += "\(field.value)\r\n"
    }
    text += "--\(boundary)\r\n"
    text += "Content-Disposition: form-data; name=\"\(Self.quoted(fileField))\"; "
    text += "filename=\"\(Self.quoted(filename))\"\r\n"
    text += "Content-Type: \(fileContentType)\r\n\r\n"
    return Data(text.utf8)
  }

  /// Everything after the file's bytes.
  public var tail: Data { Data("\r\n--\(boundary)--\r\n".utf8) }

  /// The whole body, with the first `fileLength` bytes of the file at `path` as the file part.
  public func body(file path: String, fileLength: Int64) -> FileBody {
    FileBody(head: head, path: path, fileLength: fileLength, tail: tail)
  }

  /// `text` made safe inside a quoted header parameter, as browsers do:
  /// `"`, CR and LF percent-encoded.
  static func quoted(_ text: String) -> String {
    text.replacingOccurrences(of: "\"", with: "%22")
      .replacingOccurrences(of: "\r", with: "%0D")
      .replacingOccurrences(of: "\n", with: "%0A")
  }
}

/// The multipart body of an upload, ready to send, and the digest of its file.
public struct PreparedUpload: Sendable {
  /// The body: head, file, tail.
  public let body: FileBody
  /// The request's `Content-Type`, with the boundary.
  public let contentType: String
  /// The SHA-256 of the bytes of the file that are sent (the file part, not the body).
  public let sha256: String
}
