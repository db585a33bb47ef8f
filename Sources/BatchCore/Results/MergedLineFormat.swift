import Foundation

/// How merged lines are spelled: the output field, the endpoint's answer.
struct MergedLineFormat: Sendable {
  /// `"<field>":`
  let fieldPrefix: [UInt8]
  /// `null,"<field>_error":`
  let errorPrefix: [UInt8]
  let answerKind: AnswerKind
  /// For messages about the items.
  let itemsPath: String

  init(outputField: String, endpoint: String, itemsPath: String) {
    // Prepare takes plain names only; status.json is the user's to edit, so
    // the name is escaped here too and can never forge another field.
    var field: [UInt8] = []
    JSONWriter.appendString(outputField, to: &field)
    fieldPrefix = field + [UInt8(ascii: ":")]
    var error = Array("null,".utf8)
    JSONWriter.appendString(outputField + "_error", to: &error)
    errorPrefix = error + [UInt8(ascii: ":")]
    answerKind = AnswerKind(endpoint: endpoint)
    self.itemsPath = itemsPath
  }
}
