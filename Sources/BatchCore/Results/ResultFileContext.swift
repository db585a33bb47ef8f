import Foundation

/// What a request file's results contribute besides their lines: the
/// model of its requests, the failure of those without a line, and the
/// names of its result files for messages.
final class ResultFileContext: Sendable {
  /// The model the request file asked for (when a body names none).
  let model: String
  /// The failure of a request with neither an answer nor an error line.
  let missing: FailureRecord
  /// The failures of the lines that a failed batch's `errors.data[]`
  /// names, by line number (1-based), for their requests instead of
  /// ``missing``.
  let lineErrors: [Int: FailureRecord]
  let answersName: String
  let errorsName: String
  /// The result files, when mapped: chunks that read lines in place keep
  /// them mapped until they are merged.
  let mappedFiles: [MappedFile]

  init(
    model: String, missing: FailureRecord, lineErrors: [Int: FailureRecord] = [:], answersName: String = "",
    errorsName: String = "", mappedFiles: [MappedFile] = []
  ) {
    self.model = model
    self.missing = missing
    self.lineErrors = lineErrors
    self.answersName = answersName
    self.errorsName = errorsName
    self.mappedFiles = mappedFiles
  }

  /// The failure of the request on `line` of the request file, when it has
  /// neither an answer nor an error line.
  func missing(line: Int) -> FailureRecord {
    lineErrors.isEmpty ? missing : lineErrors[line] ?? missing
  }
}
