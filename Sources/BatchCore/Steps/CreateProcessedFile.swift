import Foundation

extension CreateScheduler {
  /// How long an upload may stay unprocessed before create gives up for now.
  static let processingLimit = 3600

  /// The window and result lifetime the batches are made with.
  var terms: BatchTerms {
    options.terms
      ?? BatchTerms(completionWindow: client.profile.defaultCompletionWindow, fileExpiry: nil, outputExpiry: nil)
  }

  /// Whether the upload of `file` may be used by a batch now.
  ///
  /// On a provider whose uploads are `uploaded` before they are `processed`
  /// (Azure), a batch made from a file still being processed fails, so the
  /// file is read first. Nothing is written before this check: it comes
  /// before the create intent, so the crash safety of create is unchanged.
  ///
  /// - Returns: False while the server is still processing the file.
  /// - Throws: ``ToolError`` `.dataError` for a file the server could not
  ///   process (with its reason), `.tryAgainLater` for one still unprocessed
  ///   an hour after its upload.
  mutating func isProcessed(_ file: RequestFileRecord) async throws -> Bool {
    guard client.profile.filesNeedProcessing, let id = file.inputFilename.remote else { return true }
    let local = file.inputFilename.local
    let object = try await calling { try await client.retrieveFile(id: id) }
    let status = object.status?.lowercased() ?? "processed"
    switch status {
    case "processed":
      return true
    case "error", "deleted", "deleting":
      let reason = object.statusDetails.map { client.configuration.redact($0) } ?? "no reason given"
      throw ToolError(
        .dataError,
        "in/\(local): the server could not process \(id) (\(status)): \(OpenAIClient.printable(reason, limit: 300))")
    default:
      if let created = object.createdAt, RemoteRun.now - created > Self.processingLimit {
        throw ToolError(
          .tryAgainLater, "in/\(local): \(id) is still '\(OpenAIClient.printable(status))' an hour after its upload; run again later")
      }
      if announced.insert(local).inserted {
        Diagnostics.note("in/\(local): waiting for the server to process \(id) ('\(OpenAIClient.printable(status))')")
      }
      return false
    }
  }
}
