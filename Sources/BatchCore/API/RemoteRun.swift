import Foundation

/// A run directory opened by a tool that calls the API: the ledger checked,
/// the client made from the environment, and the run's tool lock held.
public struct RemoteRun: Sendable {
  public let run: RunDirectory
  public let client: OpenAIClient
  /// Held for as long as the tool runs.
  private let lock: LockHolder

  /// Seconds of slack for clocks that disagree when listing back in time.
  static let clockSlack = 3600

  /// Opens `run` for a tool that calls the API.
  ///
  /// The checks come in the order a user can act on them: the ledger (66),
  /// the key (78), the base URL the run was made against (78), and another
  /// tool on the same run (75).
  ///
  /// - Parameter client: The client to use; by default one made from the
  ///   environment (tests pass one over a fake transport).
  ///   - locking: How to take the run's tool lock.
  public static func open(_ run: RunDirectory, client: OpenAIClient? = nil, locking: Locking = .failIfHeld) throws -> RemoteRun {
    _ = try run.loadLedger()
    let client = try client ?? OpenAIClient.fromEnvironment()
    let lock: FileLock?
    switch locking {
    case .failIfHeld: lock = try run.lockRun()
    case .waitIfHeld: lock = try run.lockRun(waiting: true)
    case .none: lock = nil
    }
    let remote = RemoteRun(run: run, client: client, lock: LockHolder(lock))
    try remote.checkBaseURL()
    return remote
  }

  /// Opens `run` for a cleanup of earlier runs alone, when it has no
  /// ledger of its own: the client and the run's lock.
  static func openWithoutLedger(_ run: RunDirectory, client: OpenAIClient? = nil) throws -> RemoteRun {
    let client = try client ?? OpenAIClient.fromEnvironment()
    let lock = try run.lockRun()
    return RemoteRun(run: run, client: client, lock: LockHolder(lock))
  }

  /// Opens `run` as ``open(_:client:)`` does, unless every file of the run
  /// is settled (its batch ended for good, its results on disk): then
  /// upload, create, wait and download have nothing to do, and return nil
  /// at once, with no key and no call. A finished run can then be sorted
  /// and merged again (after a rebuild, say) without the key or a network.
  public static func openUnlessSettled(
    _ run: RunDirectory, client: OpenAIClient? = nil, locking: Locking = .failIfHeld
  ) throws -> RemoteRun? {
    func settled() -> Bool {
      guard let ledger = try? run.loadLedger() else { return false }
      return (!ledger.files.isEmpty || ledger.reused != nil) && ledger.files.allSatisfy(\.isSettled)
    }
    if settled() { return nil }
    let remote = try open(run, client: client, locking: locking)
    // The tool waited for made the run settled meanwhile.
    if locking == .waitIfHeld && settled() { return nil }
    return remote
  }

  /// How a tool takes the run's tool lock.
  public enum Locking: Sendable {
    /// Exit 75 when another tool holds it: two uploads or creates must not race.
    case failIfHeld
    /// Wait for it (download: `make cancelled` and `make merged` both download).
    case waitIfHeld
    /// Do without (cancel: it must not wait behind a batch-wait that holds
    /// the lock for hours; the ledger's own lock orders its writes).
    case none
  }

  /// The base URL as the ledger records it.
  var baseURL: String {
    var text = client.configuration.baseURL.absoluteString
    while text.hasSuffix("/") { text.removeLast() }
    return text
  }

  /// Records the base URL on first use, and refuses to mix two servers in
  /// one run (the demo's emulator and the real API, say).
  private func checkBaseURL() throws {
    let url = baseURL
    try run.updateLedger { ledger in
      if let recorded = ledger.baseUrl, recorded != url {
        let started = ledger.files.contains { $0.inputFilename.remote != nil || $0.batchId != nil }
        if started {
          throw ToolError(
            .configuration,
            "'\(run.ledgerPath)' belongs to a run against '\(recorded)', not '\(url)'; "
              + "set OPENAI_BASE_URL=\(recorded) to finish it, or run make clean to start over")
        }
      }
      ledger.baseUrl = url
    }
  }

  /// The ledger as it is now.
  func ledger() throws -> Ledger { try run.loadLedger() }

  /// Changes the ledger entry of the request file named `local`.
  func updateFile(_ local: String, _ body: (inout RequestFileRecord) -> Void) throws {
    try run.updateLedger { ledger in
      if let n = ledger.files.firstIndex(where: { $0.inputFilename.local == local }) {
        body(&ledger.files[n])
      }
    }
  }

  /// Copies the batches read, by request file, into the ledger in one
  /// write. A file whose batch was replaced meanwhile (by create, in
  /// another process) keeps its entry.
  func record(_ batches: [String: Batch]) throws {
    guard !batches.isEmpty else { return }
    try run.updateLedger { ledger in
      for n in ledger.files.indices {
        if let batch = batches[ledger.files[n].inputFilename.local], ledger.files[n].batchId == batch.id {
          ledger.files[n].apply(batch)
        }
      }
    }
  }

  /// The name a request file gets on the server: unique to the run, so
  /// that an upload interrupted by a crash can be found again.
  static func remoteName(runId: String, local: String) -> String {
    "batchline-\(runId)-\(local)"
  }

  /// Runs `body` on each element with at most `limit` running at once.
  static func concurrently<T: Sendable>(
    _ elements: [T], limit: Int, _ body: @escaping @Sendable (T) async throws -> Void
  ) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
      var iterator = elements.makeIterator()
      for _ in 0..<max(1, limit) {
        guard let next = iterator.next() else { break }
        group.addTask { try await body(next) }
      }
      while try await group.next() != nil {
        if let next = iterator.next() { group.addTask { try await body(next) } }
      }
    }
  }

  /// How long to look for a just-made file or batch that the server may not
  /// list yet (lists are eventually consistent).
  static func visibilityWait(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Double {
    environment["BATCHLINE_VISIBILITY_WAIT"].flatMap(Double.init) ?? 30
  }

  /// Seconds since 1970, now.
  static var now: Int { Int(Date().timeIntervalSince1970) }
}

/// Keeps a lock alive for as long as its holder is referenced.
final class LockHolder: @unchecked Sendable {
  let lock: FileLock?
  init(_ lock: FileLock?) { self.lock = lock }
}
