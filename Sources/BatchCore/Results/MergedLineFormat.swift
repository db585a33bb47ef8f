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
    // Prepare takes plain names only; status.json is the user's to edit, so
    // the name is escaped here too and can never forge another field.
    var field: [UInt8] = []
    JSONWriter.appendString(outputField, to: &field)
    fieldPrefix = field + [UInt8(ascii: ":")]
    var error = Array("null,".utf8)
    JSONWriter.appendString(outputField + "_error", to: &error)
    errorPrefix = error + [UInt8(ascii: ":")]
    self.answer = answer
    self.itemsPath = itemsPath
  }
}
