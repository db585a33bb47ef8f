import Foundation

/// The status line and headers of a response.
public struct HTTPResponseHead: Sendable, Equatable {
  /// The HTTP status code.
  public var status: Int
  /// The headers, names in lowercase.
  public var headers: [String: String]

  /// Creates a response head; header names are lowercased.
  public init(status: Int, headers: [String: String] = [:]) {
    self.status = status
    self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
  }

  /// The value of header `name`, compared without case.
  public func header(_ name: String) -> String? { headers[name.lowercased()] }

  /// Whether the status is 2xx.
  public var isSuccess: Bool { (200..<300).contains(status) }
}

/// A whole response held in memory (small JSON answers only).
public struct HTTPResponse: Sendable, Equatable {
  /// The status and headers.
  public var head: HTTPResponseHead
  /// The body.
  public var body: Data
  /// Whether the body is only a prefix: the answer passed ``ReadLimits``.
  public var isTruncated = false

  /// Creates a response.
  public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
    self.head = HTTPResponseHead(status: status, headers: headers)
    self.body = body
  }

  /// Creates a response from its head and body.
  public init(head: HTTPResponseHead, body: Data) {
    self.head = head
    self.body = body
  }

  /// The HTTP status code.
  public var status: Int { head.status }
}

/// The result of a download: the response head and the size of the body written to disk.
public struct HTTPDownload: Sendable, Equatable {
  /// The status and headers.
  public var head: HTTPResponseHead
  /// How many bytes of body are in the file.
  public var bytesWritten: Int64

  /// Creates a download result.
  public init(head: HTTPResponseHead, bytesWritten: Int64) {
    self.head = head
    self.bytesWritten = bytesWritten
  }
}
