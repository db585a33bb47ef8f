import Foundation

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
