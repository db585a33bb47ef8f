import Foundation

/// Answered, failed and retryable items: one classifier for `make status`,
/// wait's total line and merge's report, so that the three agree for every
/// outcome (completed, expired, failed, cancelled, per-request errors).
struct OutcomeCounts: Equatable {
  var answered = 0
  var failed = 0
  var retryable = 0
  /// Requests whose batch has not ended yet.
  var pending = 0
  /// Per-request errors whose error file is not downloaded yet: whether
  /// they can be retried is known only from their lines.
  var unclassified = 0

  init(answered: Int, failed: Int, retryable: Int, pending: Int = 0) {
    self.answered = answered
    self.failed = failed
    self.retryable = retryable
    self.pending = pending
  }

  /// Counts the items of `ledger` from the ledger, and from the downloaded
  /// error files of `run` for which per-request errors can be retried.
  ///
  /// A request resubmitted by `make retry` counts once, in its latest
  /// round: each later round holds only retryable failures of the earlier.
  init(_ ledger: Ledger, run: RunDirectory?) {
    self.init(files: ledger.files, reusedAnswers: ledger.reusedAnswers, run: run)
  }

  init(files: [RequestFileRecord], reusedAnswers: Int, run: RunDirectory?) {
    for file in files {
      let requests = file.inputFilename.requests
      if file.round > 1 {
        failed -= requests
        retryable -= requests
      }
      // Once downloaded, the files are the truth: the counts the batch
      // reports leave out the error lines of requests it never ran.
      let downloaded = file.isDownloaded ? run.flatMap { Self.errorLines(of: file, in: $0) } : nil
      let completed = (downloaded != nil ? file.outputFilenames?.ok.lines : nil) ?? file.requestCounts?.completed ?? 0
      let errors = downloaded?.lines ?? file.requestCounts?.failed ?? 0
      answered += completed
      failed += errors
      if let downloaded { retryable += downloaded.retryable } else { unclassified += errors }
      let missing = max(0, requests - completed - errors)
      if file.isTerminal {
        failed += missing
        if file.missingFailure.isRetryable { retryable += missing }
      } else {
        pending += missing
      }
    }
    answered += reusedAnswers
  }

  /// The lines of the file's downloaded error file, and how many of them
  /// can be retried; nil when it is not here.
  private static func errorLines(of file: RequestFileRecord, in run: RunDirectory) -> (lines: Int, retryable: Int)? {
    guard let name = file.outputFilenames?.failed.local else {
      return file.outputFilenames?.failed.remote == nil ? (0, 0) : nil
    }
    guard let lines = try? InputLines(path: run.resultPath(name)) else { return nil }
    var counts = (lines: 0, retryable: 0)
    while let line = try? lines.nextLine() {
      counts.lines += 1
      if let parsed = try? ResultLine(line), FailureRecord(from: parsed).isRetryable { counts.retryable += 1 }
    }
    return counts
  }

  /// "A answered, F failed (R retryable)", and what is pending.
  var text: String {
    var text = "\(answered) answered, \(failed) failed (\(retryable) retryable"
    if unclassified > 0 { text += ", \(unclassified) to classify once downloaded" }
    text += ")"
    if pending > 0 { text += ", \(pending) pending" }
    return text
  }
}

extension RequestFileRecord {
  /// The failure of a request of this file that has no result line: what
  /// merge writes, and what status and wait count.
  var missingFailure: FailureRecord {
    switch status {
    case .expired?: return .missing(code: "batch_expired", message: "the batch expired before this request ran")
    case .cancelled?: return .missing(code: "batch_cancelled", message: "the batch was cancelled before this request ran")
    case .failed?:
      // The batch's first error without a line, else its first error.
      let batchError = errors?.first { $0.line == nil } ?? errors?.first
      return .missing(code: batchError?.code ?? "batch_failed", message: Self.failedBatchMessage(batchError))
    default: return .missing(code: "request_not_run")
    }
  }

  static func failedBatchMessage(_ error: BatchErrorRecord?) -> String {
    "the batch failed: " + (error?.line.map { "line \($0): " } ?? "") + (error?.message ?? "no reason given")
  }
}
