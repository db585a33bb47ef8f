import Foundation

/// Where a request file stands, derived from its ledger entry.
extension RequestFileRecord {
  /// Whether the batch reached a state it will not leave.
  public var isTerminal: Bool {
    status?.isTerminal ?? false
  }

  /// Whether a paid call may be under way or its outcome unknown: an intent
  /// without a result, or a batch that has not finished.
  public var isInFlight: Bool {
    if inputFilename.uploadStartedAt != nil && inputFilename.remote == nil { return true }
    if createStartedAt != nil && batchId == nil { return true }
    return batchId != nil && !isTerminal
  }

  /// Whether every result file the batch has is on disk.
  public var isDownloaded: Bool {
    guard isTerminal, let files = outputFilenames else { return false }
    return (files.ok.remote == nil || files.ok.local != nil)
      && (files.failed.remote == nil || files.failed.local != nil)
  }

  /// The base name of the file without `.jsonl` (`batch_001`).
  public var stem: String {
    String(inputFilename.local.dropLast(".jsonl".count))
  }

  /// Why this file's failed batch may be made again as it is: the
  /// enqueued-token or enqueued-request limit, or a just-uploaded file the
  /// server did not see yet; nil for any other failure.
  var resubmittableFailure: String? {
    for error in errors ?? [] {
      if error.code == "request_limit_exceeded" || (error.message ?? "").lowercased().contains("enqueued request limit") {
        return "request_limit_exceeded"
      }
      if error.code == "token_limit_exceeded" || (error.message ?? "").lowercased().contains("enqueued token limit") {
        return "token_limit_exceeded"
      }
      if error.param == "file_id" || (error.message ?? "").hasPrefix("Cannot find file") {
        return "input file not found yet"
      }
    }
    return nil
  }

  /// Whether no network step has anything left to do for this file: its
  /// batch has ended for good, and every result file it has is on disk.
  var isSettled: Bool {
    guard isTerminal, !isInFlight else { return false }
    if status == .failed && resubmittableFailure != nil { return false }
    return outputFilenames == nil || isDownloaded
  }
}
