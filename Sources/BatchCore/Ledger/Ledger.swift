// Ledger/: the run's record, status.json: its schema, what a request
// file's entry says about where it stands, the one function that copies a
// batch into it, and the run directory that reads and writes it under a
// lock, whole or not at all.

import Foundation

/// The run's ledger, `status.json`: what was prepared, uploaded, created,
/// finished, downloaded and deleted.
///
/// It extends the article's status file: each entry keeps the article's
/// `input_filename`, `batch_id`, `status`, `errors` and `output_filenames`,
/// and adds what a crash-safe run needs (intents, digests, counts). Each
/// field has one writer: the tool named in its comment.
public struct Ledger: Codable, Sendable, Equatable {
  /// The ledger's format version.
  public var batchline = 1
  /// A random id for this run, put in every batch's metadata (prepare).
  public var runId: String
  /// When prepare made the run, in Unix seconds (prepare).
  public var createdAt: Int
  /// The API base URL the run talks to, set by the first tool that calls it.
  public var baseUrl: String?
  /// The Batch API endpoint of every request (prepare).
  public var endpoint: String
  /// The field the answer goes into (prepare).
  public var outputField: String
  /// The items file and its line count (prepare).
  public var items: ItemsRecord
  /// Enqueued-token limits per model, configured or learned (create).
  public var tokenLimits: [String: Int]?
  /// Enqueued-request limits per model, learned (create).
  public var requestLimits: [String: Int]?
  /// The request files, in order (prepare adds round 1; retry adds rounds).
  public var files: [RequestFileRecord]
  /// Answers taken from earlier runs instead of being sent again (prepare).
  public var reused: ReusedRecord?
  /// The SHA-256 of every request line prepare rendered, sent or reused
  /// (prepare): a rerun that renders the same keeps the run.
  public var requestsSha256: String?

  public init(
    runId: String, createdAt: Int, endpoint: String, outputField: String,
    items: ItemsRecord, files: [RequestFileRecord]
  ) {
    self.runId = runId
    self.createdAt = createdAt
    self.endpoint = endpoint
    self.outputField = outputField
    self.items = items
    self.files = files
  }
}

/// The items a run was prepared from.
public struct ItemsRecord: Codable, Sendable, Equatable {
  /// The items file's name inside the run directory.
  public var path: String
  /// Its number of lines (items).
  public var count: Int
  /// Its size in bytes.
  public var bytes: Int
}

/// The answers prepare found already paid for: `out/reused.jsonl` has one
/// line per item, in input order, the answer with the item's custom_id or,
/// for a request that is sent, only its custom_id.
public struct ReusedRecord: Codable, Sendable, Equatable {
  /// The file's name in `out/`.
  public var path: String
  /// Its number of answers.
  public var answers: Int
}

/// One request file and everything that happened to it.
public struct RequestFileRecord: Codable, Sendable, Equatable {
  /// The local file and its remote copy (prepare; upload sets `remote`).
  public var inputFilename: InputFile
  /// 1 for the first submission; retries add rounds (prepare, retry).
  public var round: Int
  /// The model every request of the file asks for (prepare).
  public var model: String
  /// The estimated input tokens of the file's requests (prepare).
  public var estimatedInputTokens: Int
  /// The most output tokens the requests may produce, from `max_tokens` (prepare).
  public var maxOutputTokens: Int?
  /// Set just before the create call, so that a crash can be reconciled (create).
  public var createStartedAt: Int?
  /// The batch (create).
  public var batchId: String?
  /// Batches made for this file earlier and given up on (create).
  public var previousBatches: [PreviousBatch]?
  /// The batch's last known status (``apply(_:)``, called by create and wait).
  public var status: Batch.Status?
  /// The batch's request counts (``apply(_:)``).
  public var requestCounts: Counts?
  /// The batch's validation errors (``apply(_:)``).
  public var errors: [BatchErrorRecord]?
  /// The batch's token usage, when the server reports it (``apply(_:)``).
  public var usage: UsageRecord?
  /// Seconds spent validating, in progress and finalizing (``apply(_:)``).
  public var timings: Timings?
  /// The result files (``apply(_:)`` sets `remote`; download sets `local`).
  public var outputFilenames: OutputFiles?
  /// Whether sort has put the result files in input order (sort sets it;
  /// download clears it when it lands a result file, which comes in the
  /// server's order).
  public var sorted: Bool?

  public init(inputFilename: InputFile, round: Int, model: String, estimatedInputTokens: Int, maxOutputTokens: Int?) {
    self.inputFilename = inputFilename
    self.round = round
    self.model = model
    self.estimatedInputTokens = estimatedInputTokens
    self.maxOutputTokens = maxOutputTokens
  }
}

/// A request file, local and remote.
public struct InputFile: Codable, Sendable, Equatable {
  /// The file name in `in/` (`batch_001.jsonl`).
  public var local: String
  /// Its number of requests.
  public var requests: Int
  /// Its size in bytes, exactly as uploaded.
  public var bytes: Int
  /// The SHA-256 of its bytes, in hex, recorded before upload (upload).
  public var sha256: String?
  /// Set just before the upload call (upload).
  public var uploadStartedAt: Int?
  /// The remote file id (upload).
  public var remote: String?
  /// Whether the remote file was deleted (cleanup).
  public var isRemoteDeleted: Bool?
}

/// The output and error files of a batch.
public struct OutputFiles: Codable, Sendable, Equatable {
  /// Successful requests.
  public var ok: ResultFile
  /// Failed requests.
  public var failed: ResultFile
}

/// One result file, remote and local.
public struct ResultFile: Codable, Sendable, Equatable {
  /// The remote file id, nil when the batch has no such file (wait).
  public var remote: String?
  /// The file name in `out/` once downloaded (download).
  public var local: String?
  /// Its size in bytes once downloaded (download).
  public var bytes: Int?
  /// Its number of lines once downloaded (download).
  public var lines: Int?
  /// Whether the remote file was deleted (cleanup).
  public var isRemoteDeleted: Bool?

  public init(remote: String?) {
    self.remote = remote
  }
}

/// A batch that was replaced by a new one for the same file.
public struct PreviousBatch: Codable, Sendable, Equatable {
  public var batchId: String
  public var status: Batch.Status
  public var reason: String?
}

/// Request counts as the server reports them.
public struct Counts: Codable, Sendable, Equatable {
  public var total: Int
  public var completed: Int
  public var failed: Int

  public init(total: Int, completed: Int, failed: Int) {
    self.total = total
    self.completed = completed
    self.failed = failed
  }
}

/// One validation error of a failed batch.
public struct BatchErrorRecord: Codable, Sendable, Equatable {
  public var code: String?
  public var message: String?
  public var param: String?
  public var line: Int?

  public init(code: String?, message: String?, param: String?, line: Int?) {
    self.code = code
    self.message = message
    self.param = param
    self.line = line
  }
}

/// Token usage as the batch object reports it.
public struct UsageRecord: Codable, Sendable, Equatable {
  public var inputTokens: Int
  public var cachedTokens: Int
  public var outputTokens: Int
  public var reasoningTokens: Int

  public init(inputTokens: Int, cachedTokens: Int, outputTokens: Int, reasoningTokens: Int) {
    self.inputTokens = inputTokens
    self.cachedTokens = cachedTokens
    self.outputTokens = outputTokens
    self.reasoningTokens = reasoningTokens
  }
}

/// How long a batch spent in each phase, in seconds.
public struct Timings: Codable, Sendable, Equatable {
  public var validating: Int?
  public var inProgress: Int?
  public var finalizing: Int?

  public init(validating: Int?, inProgress: Int?, finalizing: Int?) {
    self.validating = validating
    self.inProgress = inProgress
    self.finalizing = finalizing
  }
}
