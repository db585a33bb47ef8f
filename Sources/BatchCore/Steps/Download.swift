import Foundation

/// Downloads the output and error files of every finished batch into
/// `out/`, a few at once, each landing whole or not at all.
///
/// A download shorter than its `Content-Length` is fetched again by the
/// client; a file with fewer lines than the batch's request counts is
/// fetched once more, then reported.
///
/// - Parameters:
///   - run: The run.
///   - client: The client; by default one made from the environment.
///   - skippingUnsubmitted: Whether files with no batch yet are passed
///     over rather than refused (a cancel downloads what the run has).
/// - Throws: ``ToolError``: 66 when batches are not finished, 75 for
///   network trouble, 77 for a refused key.
public func downloadRun(
  _ run: RunDirectory, client: OpenAIClient? = nil, skippingUnsubmitted: Bool = false
) async throws {
  guard let remote = try RemoteRun.openUnlessSettled(run, client: client, locking: .waitIfHeld) else { return }
  run.clearIncoming()
  let ledger = try remote.ledger()
  if let running = ledger.files.first(where: { !$0.isTerminal && !(skippingUnsubmitted && $0.batchId == nil) }) {
    throw ToolError.noInput("the batch of in/\(running.inputFilename.local) has not finished; run batch-wait")
  }
  var jobs: [DownloadJob] = []
  for file in ledger.files {
    guard let files = file.outputFilenames else { continue }
    if let id = files.ok.remote, files.ok.local == nil {
      jobs.append(DownloadJob(file: file, remoteID: id, local: "\(file.stem).jsonl", isError: false))
    }
    if let id = files.failed.remote, files.failed.local == nil {
      jobs.append(DownloadJob(file: file, remoteID: id, local: "\(file.stem)_error.jsonl", isError: true))
    }
  }
  try await RemoteRun.concurrently(jobs, limit: 4) { job in
    try await remote.download(job)
  }
}

/// One result file to fetch.
struct DownloadJob: Sendable {
  var file: RequestFileRecord
  var remoteID: String
  var local: String
  var isError: Bool
}

extension RemoteRun {
  func download(_ job: DownloadJob) async throws {
    let path = run.resultPath(job.local)
    let counts = job.file.requestCounts
    let expected = job.file.status == .completed ? (job.isError ? counts?.failed : counts?.completed) : nil
    var lines = 0
    var bytes: Int64 = 0
    for attempt in 1...2 {
      bytes = try await calling { try await client.downloadFileContent(id: job.remoteID, to: path) }
      lines = try countLines(path)
      guard let expected, lines < expected else { break }
      if attempt == 1 {
        Diagnostics.note("out/\(job.local): \(lines) lines where the batch reports \(expected); fetching it again")
      } else {
        Diagnostics.note("out/\(job.local): \(lines) lines where the batch reports \(expected); sort will name the missing requests")
      }
    }
    try updateFile(job.file.inputFilename.local) { file in
      guard var files = file.outputFilenames else { return }
      if job.isError {
        files.failed.local = job.local
        files.failed.bytes = Int(bytes)
        files.failed.lines = lines
      } else {
        files.ok.local = job.local
        files.ok.bytes = Int(bytes)
        files.ok.lines = lines
      }
      file.outputFilenames = files
      file.sorted = nil
    }
  }
}

/// The number of non-blank lines of a file.
func countLines(_ path: String) throws -> Int {
  let reader = try LineReader(path: path)
  var count = 0
  while let line = try reader.nextLine() {
    if !line.isEmpty { count += 1 }
  }
  return count
}
