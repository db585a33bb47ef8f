import Foundation

/// What a request file's results contribute besides their lines: the
/// model of its requests, the failure of those without a line, and the
/// names of its result files for messages.
final class ResultFileContext: Sendable {
  /// The model the request file asked for (when a body names none).
  let model: String
  /// The failure of a request with neither an answer nor an error line.
  let missing: FailureRecord
  let answersName: String
  let errorsName: String
  /// The result files, when mapped: chunks that read lines in place keep
  /// them mapped until they are merged.
  let mappedFiles: [MappedFile]

  init(
    model: String, missing: FailureRecord, answersName: String = "", errorsName: String = "", mappedFiles: [MappedFile] = []
  ) {
    self.model = model
    self.missing = missing
    self.answersName = answersName
    self.errorsName = errorsName
    self.mappedFiles = mappedFiles
  }
}
