#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A `multipart/form-data` body with text fields followed by one file, written to disk.
///
/// The body goes to a temporary file rather than memory so that a 200 MB
/// upload costs a constant few MB of RAM, and is sent with
/// `upload(for:fromFile:)`, which gives it a `Content-Length` (a streamed body
/// would go out chunked on Linux).
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

  /// Writes the whole body, with the file at `source`, to a new file at `destination`.
  ///
  /// The file's bytes are hashed on the way through, so that the caller has
  /// the digest of what it sends without reading the file a second time.
  ///
  /// - Parameters:
  ///   - source: The file whose bytes form the file part; copied in 1 MiB chunks.
  ///   - destination: The body file; it must not exist yet.
  /// - Returns: The size of the body in bytes and the SHA-256 of the file part.
  /// - Throws: ``ToolError`` when a file cannot be read or written; the
  ///   destination is removed then.
  @discardableResult
  public func write(source: String, to destination: String) throws -> (bytes: Int64, sourceSHA256: String) {
    let input = try APIFileIO.openForReading(source)
    defer { close(input) }
    let output = try APIFileIO.createExclusive(destination)
    var finished = false
    defer {
      close(output)
      if !finished { APIFileIO.remove(destination) }
    }
    let head = self.head
    let tail = self.tail
    var hasher = SHA256()
    try APIFileIO.writeAll(output, head, path: destination)
    let copied = try APIFileIO.copyContents(
      from: input, sourcePath: source, to: output, destinationPath: destination
    ) { hasher.update($0) }
    try APIFileIO.writeAll(output, tail, path: destination)
    finished = true
    return (Int64(head.count) + copied + Int64(tail.count), hasher.finalizeHex())
  }

  /// `text` made safe inside a quoted header parameter, as browsers do:
  /// `"`, CR and LF percent-encoded.
  static func quoted(_ text: String) -> String {
    text.replacingOccurrences(of: "\"", with: "%22")
      .replacingOccurrences(of: "\r", with: "%0D")
      .replacingOccurrences(of: "\n", with: "%0A")
  }
}

/// The multipart body of an upload, written to a temporary file and ready to send.
public struct PreparedUpload: Sendable {
  /// The temporary file holding the whole body.
  public let bodyPath: String
  /// The size of the body in bytes: the request's `Content-Length`.
  public let length: Int64
  /// The request's `Content-Type`, with the boundary.
  public let contentType: String
  /// The SHA-256 of the file being uploaded (the file part, not the body).
  public let sha256: String

  /// Removes the temporary file.
  public func discard() { APIFileIO.remove(bodyPath) }
}
