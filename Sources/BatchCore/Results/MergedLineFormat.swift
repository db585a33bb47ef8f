import Foundation

/// How merged lines are spelled: the output field, the endpoint's answer.
struct MergedLineFormat: Sendable {
  /// `"<field>":`
  let fieldPrefix: [UInt8]
  /// `null,"<field>_error":`
  let errorPrefix: [UInt8]
  let answer: AnswerFormat
  /// For messages about the items.
  let itemsPath: String

  init(outputField: String, answer: AnswerFormat, itemsPath: String) {
    fieldPrefix = Array("\"\(outputField)\":".utf8)
    errorPrefix = Array("null,\"\(outputField)_error\":".utf8)
    self.answer = answer
    self.itemsPath = itemsPath
  }
}
