/// What a result line comes to for its item: the one classifier that
/// merge, retry and status share.
enum ResultVerdict {
  /// An answer, appended; `cut` when its text stopped at the token limit.
  case answer(cut: Bool)
  case failure(FailureRecord)
}

extension ResultLine {
  /// Classifies the line and, for an answer, appends it to `json` in the
  /// form `format` asks for.
  ///
  /// A success (HTTP 200, no error) is an answer only if it holds
  /// something usable; a refusal, a filtered or empty text, an incomplete
  /// response without text, or (for `"json"`) a text that does not parse or
  /// match the schema, is a failure with status 200 and the reason's code,
  /// which a retry would not mend.
  func verdict(_ format: AnswerFormat, inputIsArray: Bool, appendingTo json: inout [UInt8]) -> ResultVerdict {
    guard isSuccess, let body else { return .failure(FailureRecord(from: self)) }
    switch summary.appendAnswer(format, scanner, body: body, inputIsArray: inputIsArray, to: &json) {
    case .success(let cut):
      return .answer(cut: cut)
    case .failure(let why):
      let model = summary.model.map { String(decoding: scanner.decodeString(contents: $0), as: UTF8.self) }
      return .failure(FailureRecord(status: 200, code: why.code, message: why.message, tally: summary.tally, model: model))
    }
  }
}
