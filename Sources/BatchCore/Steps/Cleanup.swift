import Foundation

/// Deletes the remote files this run created, once their results are safe
/// on disk: request files of every round, output and error files, and
/// uploads that a crash left unrecorded (found by the run's file names).
/// Then deletes every remote file of the runs kept in `.forgotten/` (runs a
/// new prepare replaced, or make clean forgot without a key).
///
/// A request file stays while its batch runs; a result file stays until it
/// is downloaded. Deleting a file that is already gone counts as done.
/// With nothing recorded as remote it says so and calls nothing.
///
/// - Throws: ``ToolError``: 75 for network trouble, 77 for a refused key.
public func cleanupRun(_ run: RunDirectory, client: OpenAIClient? = nil) async throws {
  let forgotten = run.forgottenLedgers()
  let current = run.hasLedger ? try run.loadLedger() : nil
  guard current?.mayHaveRemoteFiles == true || !forgotten.isEmpty else {
    Diagnostics.note("\(run.path): no remote file recorded; nothing to delete")
    return
  }
  let remote = current != nil ? try RemoteRun.open(run, client: client) : try RemoteRun.openWithoutLedger(run, client: client)
  if current != nil { try await remote.cleanCurrent() }
  for (path, ledger) in forgotten {
    if let recorded = ledger.baseUrl, recorded != remote.baseURL {
      Diagnostics.note(
        "'\(path)': \(ledger.remoteFileCount) remote files of run \(ledger.runId) are on '\(recorded)'; "
          + "make cleaned OPENAI_BASE_URL=\(recorded) deletes them")
      continue
    }
    for id in ledger.remoteFileIDs { try await remote.delete(id) }
    try await remote.sweepOrphans(of: ledger)
    unlink(path)
    Diagnostics.note("deleted the remote files of the earlier run \(ledger.runId)")
  }
}

extension RemoteRun {
  /// Cleans the run that `status.json` records.
  fileprivate func cleanCurrent() async throws {
    let ledger = try self.ledger()
    var kept = 0
    for file in ledger.files {
      let local = file.inputFilename.local
      if let id = file.inputFilename.remote, file.inputFilename.isRemoteDeleted != true {
        // A request file is needed until its batch has finished and its
        // results are here; one with no batch yet is still to be submitted.
        if file.isDownloaded {
          try await delete(id)
          try updateFile(local) { $0.inputFilename.isRemoteDeleted = true }
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
        try await delete(id)
        try updateFile(local) { file in
          if isError { file.outputFilenames?.failed.isRemoteDeleted = true } else { file.outputFilenames?.ok.isRemoteDeleted = true }
        }
      }
    }
    try await sweepOrphans(of: ledger)
    if kept > 0 {
      Diagnostics.note("kept \(kept) remote file\(kept == 1 ? "" : "s") whose batch runs or whose results are not downloaded yet")
    }
  }

  /// Deletes the uploads that a crash left unrecorded: they carry the
  /// run's name prefix.
  fileprivate func sweepOrphans(of ledger: Ledger) async throws {
    let recorded = Set(ledger.files.compactMap(\.inputFilename.remote))
    let prefix = RemoteRun.remoteName(runId: ledger.runId, local: "")
    let files = try await calling {
      try await client.allFiles(purpose: client.profile.uploadPurpose) {
        ($0.createdAt ?? Int.max) < ledger.createdAt - RemoteRun.clockSlack
      }
    }
    for orphan in files where (orphan.filename ?? "").hasPrefix(prefix) && !recorded.contains(orphan.id) {
      try await delete(orphan.id)
      Diagnostics.note("deleted \(orphan.id) ('\(orphan.filename ?? "")'), an upload left by an interruption")
    }
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
/// the stamps, `items_classified.jsonl` and the run's store of answers,
/// keeping the items, the template and the price table. The run's remote
/// files are deleted first when the key is there; otherwise its ledger is
/// kept in `.forgotten/` for a later `make cleaned`. Refused while a batch
/// is in flight, since a new run would pay for the same requests again.
///
/// - Throws: ``ToolError`` 1 when batches are in flight.
public func forgetRun(_ run: RunDirectory, client: OpenAIClient? = nil) async throws {
  guard access(run.path, F_OK) == 0 else { return }  // nothing to forget
  var cleaned = false
  let earlier = run.forgottenLedgers().count
  if run.hasLedger {
    let ledger = try run.loadLedger()
    let busy = ledger.files.filter(\.isInFlight)
    if !busy.isEmpty {
      throw ToolError(
        .failure,
        "'\(run.ledgerPath)' has \(busy.count) batch\(busy.count == 1 ? "" : "es") in flight; "
          + "wait for them with batch-wait \(run.path) before starting over")
    }
    // Without a key (or with a server that fails), the files are left for
    // make cleaned, which the ledger kept below lets find them.
    if ledger.mayHaveRemoteFiles || earlier > 0, let client = try? client ?? OpenAIClient.fromEnvironment() {
      do {
        try await cleanupRun(run, client: client)
        cleaned = true
      } catch let error as ToolError {
        Diagnostics.note("could not delete the run's remote files: \(error.message)")
      }
    }
  }
  // Not under a running tool: a download would lose its temporary files.
  let lock = try run.lockRun()
  defer { withExtendedLifetime(lock) {} }
  if run.hasLedger {
    let ledger = try run.loadLedger()
    if cleaned ? ledger.remoteFileCount > 0 : ledger.mayHaveRemoteFiles {
      let n = try run.keepForCleanup(ledger)
      Diagnostics.note(
        "\(n) remote file\(n == 1 ? "" : "s") of the run stay on the server; "
          + "make cleaned deletes them (it needs the key and starts nothing)")
    }
  }
  if !cleaned && earlier > 0 {
    Diagnostics.note(
      "files of \(earlier) earlier run\(earlier == 1 ? "" : "s") stay on the server; "
        + "make cleaned deletes them (it needs the key and starts nothing)")
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
  run.forgetAnswers()
}
