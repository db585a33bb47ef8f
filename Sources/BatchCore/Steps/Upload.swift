import Foundation

/// Uploads every request file that has no remote copy yet, a few at once.
///
/// Each upload is preceded by an intent in the ledger. After a crash, or an
/// upload whose answer was lost, the file is looked for on the server by its
/// run-unique name and adopted, so a request file is never uploaded twice.
///
/// - Throws: ``ToolError``: 66 for a missing file, 65 for a request file
///   changed since prepare or files still to be paid for that may cost
///   more than `maxCost` (or a model without a price under it), 75 for network trouble, 77 for a refused key.
public func uploadRun(_ run: RunDirectory, maxCost: Double? = nil, client: OpenAIClient? = nil) async throws {
  guard let remote = try RemoteRun.openUnlessSettled(run, client: client) else { return }
  run.removeLeftovers()
  let ledger = try remote.ledger()
  // Uploading is free, but it is the first step toward paying.
  try checkBudget(unpaidOf: ledger, run: run, limit: maxCost)
  let pending = ledger.files.filter { $0.inputFilename.remote == nil }
  let expiresAfter = try BatchTerms.fromEnvironment(profile: remote.client.profile).fileExpiry
  // Three at once: each upload holds about 10 MiB of buffers, and four came
  // within a few MiB of the 64 MiB budget.
  try await RemoteRun.concurrently(pending, limit: 3) { file in
    try await remote.upload(file, ledger: ledger, expiresAfter: expiresAfter)
  }
}

extension RemoteRun {
  /// Uploads one request file, or adopts the copy an interrupted upload left.
  ///
  /// - Parameter expiresAfter: The upload's `expires_after` seconds, or `nil` to send none.
  func upload(_ file: RequestFileRecord, ledger: Ledger, expiresAfter: Int? = nil) async throws {
    let local = file.inputFilename.local
    let path = run.requestPath(local)
    let name = Self.remoteName(runId: ledger.runId, local: local)
    let bytes = file.inputFilename.bytes
    guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
      throw ToolError.noInput("cannot read '\(path)': No such file or directory")
    }
    if let size = attributes[.size] as? Int, size != bytes {
      throw ToolError.dataError("'\(path)' has \(size) bytes where prepare wrote \(bytes); run batch-prepare again")
    }
    // A file changed since its first upload attempt must not be adopted.
    func checkDigest(_ digest: String) throws {
      if let recorded = file.inputFilename.sha256, recorded != digest {
        throw ToolError.dataError("'\(path)' changed since it was prepared; run batch-prepare again")
      }
    }
    if file.inputFilename.uploadStartedAt != nil {
      try checkDigest(try SHA256.hexDigest(ofFile: path))
      if let found = try await findUpload(
        named: name, bytes: bytes, since: ledger.createdAt, wait: Self.visibilityWait())
      {
        try record(found, for: local)
        Diagnostics.note("in/\(local): adopted \(found.id), uploaded before an interruption")
        return
      }
    }
    // The file is hashed only when it is going to be sent: the digest is
    // that of the bytes sent.
    let upload = try client.prepareUpload(
      at: path, filename: name, purpose: client.profile.uploadPurpose, expiresAfter: expiresAfter)
    let digest = upload.sha256
    try checkDigest(digest)
    // A lost answer is looked for on the server; only when the server shows
    // nothing after the visibility wait is the upload sent again, as a rerun
    // would do.
    for attempt in 1...3 {
      try updateFile(local) {
        $0.inputFilename.sha256 = digest
        $0.inputFilename.uploadStartedAt = Self.now
      }
      do {
        let object = try await client.uploadFile(upload)
        try record(object, for: local)
        return
      } catch let error as APIError where error.outcomeUnknown {
        Diagnostics.note("POST /v1/files for in/\(local): \(error.summary); looking for the upload before trying again")
        if let found = try await findUpload(named: name, bytes: bytes, since: ledger.createdAt, wait: Self.visibilityWait()) {
          try record(found, for: local)
          return
        }
        if attempt == 3 {
          throw ToolError(
            .tryAgainLater,
            "POST /v1/files for in/\(local): \(error.summary), and the upload is not listed; run again to check")
        }
      } catch let error as APIError {
        throw error.asToolError
      }
    }
  }

  private func record(_ object: FileObject, for local: String) throws {
    try OpenAIClient.validateID(object.id, kind: "file")
    try updateFile(local) { $0.inputFilename.remote = object.id }
  }

  /// Looks for an upload of this run's file on the server, waiting up to
  /// `wait` seconds for a just-made file to be listed. Extra copies (from
  /// earlier crashes) are deleted.
  func findUpload(named name: String, bytes: Int, since runStart: Int, wait: Double) async throws -> FileObject? {
    let deadline = Date().addingTimeInterval(wait)
    while true {
      let files = try await calling {
        try await client.allFiles(purpose: client.profile.uploadPurpose) {
          ($0.createdAt ?? Int.max) < runStart - Self.clockSlack
        }
      }
      let matches = files.filter { $0.filename == name && ($0.bytes == nil || $0.bytes == Int64(bytes)) }
        .sorted { ($0.createdAt ?? 0, $0.id) < ($1.createdAt ?? 0, $1.id) }
      if let keep = matches.first {
        for extra in matches.dropFirst() {
          _ = try? await client.deleteFile(id: extra.id)
          Diagnostics.note("deleted \(extra.id), a second copy of '\(name)'")
        }
        return keep
      }
      if Date() >= deadline { return nil }
      try await pause(min(2, max(0.2, wait / 10)))
    }
  }
}
