import Foundation

/// Deletes the remote files this run created, once their results are safe
/// on disk: request files of every round, output and error files, and
/// uploads that a crash left unrecorded (found by the run's file names).
///
/// A request file stays while its batch runs; a result file stays until it
/// is downloaded. Deleting a file that is already gone counts as done.
///
/// - Throws: ``ToolError``: 75 for network trouble, 77 for a refused key.
public func cleanupRun(_ run: RunDirectory, client: OpenAIClient? = nil) async throws {
  let remote = try RemoteRun.open(run, client: client)
  let ledger = try remote.ledger()
  var kept = 0
  for file in ledger.files {
    let local = file.inputFilename.local
    if let id = file.inputFilename.remote, file.inputFilename.isRemoteDeleted != true {
      // A request file is needed until its batch has finished and its
      // results are here; one with no batch yet is still to be submitted.
      if file.isDownloaded {
        try await remote.delete(id)
        try remote.updateFile(local) { $0.inputFilename.isRemoteDeleted = true }
      } else {
        kept += 1
      }
    }
    guard let results = file.outputFilenames else { continue }
    for isError in [false, true] {
      let result = isError ? results.failed : results.ok
      guard let id = result.remote, result.isRemoteDeleted != true else { continue }
      guard let name = result.local else {
        kept += 1
        continue
      }
      // The local copy must be on the disk before the remote one goes.
      try syncFile(run.resultPath(name))
      try await remote.delete(id)
      try remote.updateFile(local) { file in
        if isError { file.outputFilenames?.failed.isRemoteDeleted = true } else { file.outputFilenames?.ok.isRemoteDeleted = true }
      }
    }
  }
  // Uploads that a crash left unrecorded carry the run's name prefix.
  let recorded = Set(ledger.files.compactMap(\.inputFilename.remote))
  let prefix = RemoteRun.remoteName(runId: ledger.runId, local: "")
  let files = try await calling {
    try await remote.client.allFiles(purpose: remote.client.profile.uploadPurpose) {
      ($0.createdAt ?? Int.max) < ledger.createdAt - RemoteRun.clockSlack
    }
  }
  for orphan in files where (orphan.filename ?? "").hasPrefix(prefix) && !recorded.contains(orphan.id) {
    try await remote.delete(orphan.id)
    Diagnostics.note("deleted \(orphan.id) ('\(orphan.filename ?? "")'), an upload left by an interruption")
  }
  if kept > 0 {
    Diagnostics.note("kept \(kept) remote file\(kept == 1 ? "" : "s") whose batch runs or whose results are not downloaded yet")
  }
}

extension RemoteRun {
  /// Deletes a remote file; one that is already gone counts as deleted.
  func delete(_ id: String) async throws {
    do {
      _ = try await client.deleteFile(id: id)
    } catch let error as APIError where error.status == 404 {
      return
    } catch let error as APIError {
      throw error.asToolError
    }
  }
}

/// Forgets the run: removes `status.json`, the request and result files,
/// the stamps and `items_classified.jsonl`, keeping the items, the template
/// and the price table. Refused while a batch is in flight, since a new run
/// would pay for the same requests again.
///
/// - Throws: ``ToolError`` 1 when batches are in flight.
public func forgetRun(_ run: RunDirectory) throws {
  guard access(run.path, F_OK) == 0 else { return }  // nothing to forget
  // Not under a running tool: a download would lose its temporary files.
  let lock = try run.lockRun()
  defer { withExtendedLifetime(lock) {} }
  if run.hasLedger {
    let ledger = try run.loadLedger()
    let busy = ledger.files.filter(\.isInFlight)
    if !busy.isEmpty {
      throw ToolError(
        .failure,
        "'\(run.ledgerPath)' has \(busy.count) batch\(busy.count == 1 ? "" : "es") in flight; "
          + "finish them with make merged before starting over")
    }
    let remote = ledger.files.reduce(0) { count, file in
      var n = count
      if file.inputFilename.remote != nil && file.inputFilename.isRemoteDeleted != true { n += 1 }
      for result in [file.outputFilenames?.ok, file.outputFilenames?.failed] {
        if result?.remote != nil && result?.isRemoteDeleted != true { n += 1 }
      }
      return n
    }
    if remote > 0 {
      Diagnostics.note("\(remote) remote file\(remote == 1 ? "" : "s") of the run stay on the server (make cleaned deletes them)")
    }
  }
  let fm = FileManager.default
  // Only the names batchline gives: a file of the user's in in/ or out/ stays.
  for directory in [run.inDirectory, run.outDirectory] {
    for name in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] where RunDirectory.isRunFileName(name) {
      unlink("\(directory)/\(name)")
    }
  }
  run.removeLeftovers()
  for name in ["status.json", "items_classified.jsonl", ".stamps", ".batchline.lock"] {
    try? fm.removeItem(atPath: run.file(name))
  }
}
