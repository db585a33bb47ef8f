import Foundation

extension RequestFileRecord {
  /// Copies what the server says of the batch into the entry.
  mutating func apply(_ batch: Batch) {
    status = batch.status
    if let counts = batch.requestCounts {
      requestCounts = Counts(total: counts.total, completed: counts.completed, failed: counts.failed)
    }
    if let list = batch.errors?.data, !list.isEmpty {
      errors = list.map { BatchErrorRecord(code: $0.code, message: $0.message, param: $0.param, line: $0.line) }
    }
    if let usage = batch.usage, let input = usage.inputTokens {
      self.usage = UsageRecord(
        inputTokens: input, cachedTokens: usage.inputTokensDetails?.cachedTokens ?? 0,
        outputTokens: usage.outputTokens ?? 0, reasoningTokens: usage.outputTokensDetails?.reasoningTokens ?? 0)
    }
    let created = batch.createdAt
    let started = batch.inProgressAt
    let finalizing = batch.finalizingAt
    let ended = batch.completedAt ?? batch.failedAt ?? batch.expiredAt ?? batch.cancelledAt
    timings = Timings(
      validating: created.flatMap { c in (started ?? batch.failedAt).map { $0 - c } },
      inProgress: started.flatMap { s in (finalizing ?? ended).map { $0 - s } },
      finalizing: finalizing.flatMap { f in ended.map { $0 - f } })
    if batch.status.isTerminal {
      let previous = outputFilenames
      var ok = ResultFile(remote: batch.outputFileID)
      var failed = ResultFile(remote: batch.errorFileID)
      if let previous, previous.ok.remote == ok.remote { ok = previous.ok }
      if let previous, previous.failed.remote == failed.remote { failed = previous.failed }
      outputFilenames = OutputFiles(ok: ok, failed: failed)
    }
  }

  /// Ends a file that never got a batch as cancelled, with no results, so
  /// that its items end as `batch_cancelled` and `make retry` sends them.
  mutating func cancelUnsubmitted() {
    status = .cancelled
    outputFilenames = OutputFiles(ok: ResultFile(remote: nil), failed: ResultFile(remote: nil))
  }

  /// Moves a refused batch into the history so the file can be submitted again.
  mutating func resetForResubmission(reason: String) {
    if let batchId {
      previousBatches = (previousBatches ?? []) + [PreviousBatch(batchId: batchId, status: status ?? .failed, reason: reason)]
    }
    batchId = nil
    createStartedAt = nil
    status = nil
    requestCounts = nil
    errors = nil
    usage = nil
    timings = nil
    outputFilenames = nil
  }
}
