#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing

@testable import BatchCore

// The fixtures every test file shares: scratch run directories, file
// helpers, runs built by hand with their result lines, error capture.

// MARK: - Temporary run directories

/// A temporary directory, removed when the value goes away.
final class ScratchDirectory: @unchecked Sendable {
  let path: String

  init(_ label: String = "lib") throws {
    path = NSTemporaryDirectory() + "batchline-\(label)-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  /// A run directory inside the scratch directory (`<scratch>/run`), with `in/` and `out/`.
  func makeRun(_ name: String = "run") throws -> RunDirectory {
    let run = RunDirectory(path + "/" + name)
    try run.makeSubdirectories()
    return run
  }
}

/// A value behind a lock, for recording from `@Sendable` closures and threads.
final class Guarded<Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var stored: Value

  init(_ value: Value) { stored = value }

  var value: Value { lock.withLock { stored } }

  func mutate<R>(_ body: (inout Value) -> R) -> R { lock.withLock { body(&stored) } }
}

/// Writes text to a file, replacing it.
func writeText(_ text: String, to path: String) throws {
  try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

/// Writes bytes to a file, replacing it.
func writeBytes(_ bytes: [UInt8], to path: String) throws {
  try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// The bytes of a file ([] when it is missing).
func readBytes(_ path: String) -> [UInt8] {
  FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
}

/// The text of a file ("" when it is missing).
func readText(_ path: String) -> String {
  String(decoding: readBytes(path), as: UTF8.self)
}

/// The names in a directory, sorted, hidden ones included ([] when it is missing).
func listDirectory(_ path: String) -> [String] {
  ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
}

/// The lines of a file, without their newlines.
func readLines(of path: String) -> [String] {
  readText(path).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
}

/// Runs `body` and returns the ``ToolError`` it throws (records an issue if it throws none).
@discardableResult
func toolError(
  _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation
) -> ToolError? {
  toolError(from: Result { try body() }, sourceLocation: sourceLocation)
}

/// Runs async `body` and returns the ``ToolError`` it throws.
@discardableResult
func asyncToolError(
  _ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation
) async -> ToolError? {
  do {
    try await body()
    return toolError(from: .success(()), sourceLocation: sourceLocation)
  } catch {
    return toolError(from: .failure(error), sourceLocation: sourceLocation)
  }
}

/// The ``ToolError`` of an outcome; an issue is recorded for anything else.
private func toolError(from outcome: Result<Void, any Error>, sourceLocation: SourceLocation) -> ToolError? {
  switch outcome {
  case .success:
    Issue.record("expected a ToolError, nothing was thrown", sourceLocation: sourceLocation)
  case .failure(let error as ToolError):
    return error
  case .failure(let error):
    Issue.record("expected a ToolError, got \(error)", sourceLocation: sourceLocation)
  }
  return nil
}

/// A JSON text in a canonical form (sorted keys), for comparing values
/// whatever their spelling: `1.50` and `1.5`, `\u00e9` and `é` compare equal.
func canonicalJSON(_ bytes: [UInt8]) -> String? {
  guard let value = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]),
    let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
  else { return nil }
  return String(decoding: data, as: UTF8.self)
}

func canonicalJSON(_ text: String) -> String? { canonicalJSON(Array(text.utf8)) }

/// `text` as the contents of a JSON string.
func jsonEscaped(_ text: String) -> String {
  var out: [UInt8] = []
  JSONWriter.appendEscaped(text.utf8, to: &out)
  return String(decoding: out, as: UTF8.self)
}

/// Sets the environment the remote steps read, once for the whole process.
///
/// `BATCHLINE_VISIBILITY_WAIT=0`: a search for a just-made file or batch
/// lists once and does not wait, so no test sleeps for it.
let remoteEnvironment: Void = {
  setenv("BATCHLINE_VISIBILITY_WAIT", "0", 1)
}()

// MARK: - The fake Files and Batches API

// MARK: - Temporary directories and files

/// A fresh temporary directory, removed by the caller.
func makeTemporaryDirectory() throws -> String {
  let path = NSTemporaryDirectory() + "batchline-tests-" + UUID().uuidString
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

/// A fresh directory, removed with everything in it after `body`.
func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
  let path = try makeTemporaryDirectory()
  defer { try? FileManager.default.removeItem(atPath: path) }
  return try body(path)
}

/// The inode of the file at `path`, 0 when there is none: whether a file
/// was replaced or kept.
func inode(_ path: String) -> UInt64 {
  var info = stat()
  return stat(path, &info) == 0 ? UInt64(info.st_ino) : 0
}

// MARK: - Runs built by hand

/// One request file of a hand-made run, with its results.
struct HandFile {
  var local: String
  var round = 1
  var ids: [String]
  var status: Batch.Status = .completed
  /// The lines of `out/<stem>.jsonl`; nil when the batch has no output file.
  var ok: [String]?
  /// The lines of `out/<stem>_error.jsonl`; nil when the batch has no error file.
  var failed: [String]?
  var errors: [BatchErrorRecord]?
  var sorted = true
  var model = "gpt-4o-mini"

  var stem: String { String(local.dropLast(".jsonl".count)) }
}

/// The request line prepare would write for `id` (the body does not matter here).
func requestLine(_ id: String, endpoint: String = "/v1/chat/completions") -> String {
  #"{"custom_id":"\#(jsonEscaped(id))","method":"POST","url":"\#(endpoint)","body":{"model":"gpt-4o-mini","messages":[]}}"#
}

/// A run made by hand: items, request files, result files and the ledger.
struct HandRun {
  let scratch: ScratchDirectory
  let run: RunDirectory

  init(
    items: [String], files: [HandFile], endpoint: String = "/v1/chat/completions", outputField: String = "llm"
  ) throws {
    scratch = try ScratchDirectory("handrun")
    run = try scratch.makeRun()
    let itemsText = items.map { $0 + "\n" }.joined()
    try writeText(itemsText, to: run.itemsPath)
    var records: [RequestFileRecord] = []
    for file in files {
      let requests = file.ids.map { requestLine($0, endpoint: endpoint) + "\n" }.joined()
      try writeText(requests, to: run.requestPath(file.local))
      var record = RequestFileRecord(
        inputFilename: InputFile(
          local: file.local, requests: file.ids.count, bytes: requests.utf8.count, sha256: nil, uploadStartedAt: 1,
          remote: "file-in-\(file.stem)"),
        round: file.round, model: file.model, estimatedInputTokens: 10 * file.ids.count, maxOutputTokens: 50)
      record.batchId = "batch_\(file.stem)"
      record.status = file.status
      record.errors = file.errors
      var ok = ResultFile(remote: file.ok == nil ? nil : "file-out-\(file.stem)")
      var failed = ResultFile(remote: file.failed == nil ? nil : "file-err-\(file.stem)")
      if let lines = file.ok {
        ok.local = file.stem + ".jsonl"
        try writeText(lines.map { $0 + "\n" }.joined(), to: run.resultPath(ok.local!))
      }
      if let lines = file.failed {
        failed.local = file.stem + "_error.jsonl"
        try writeText(lines.map { $0 + "\n" }.joined(), to: run.resultPath(failed.local!))
      }
      record.requestCounts = Counts(
        total: file.ids.count, completed: file.ok?.count ?? 0, failed: file.failed?.count ?? 0)
      record.outputFilenames = OutputFiles(ok: ok, failed: failed)
      record.sorted = file.sorted ? true : nil
      records.append(record)
    }
    let ledger = Ledger(
      runId: "run-0123456789abcdef", createdAt: 1_760_000_000, endpoint: endpoint, outputField: outputField,
      items: ItemsRecord(path: "items.jsonl", count: items.count, bytes: itemsText.utf8.count), files: records)
    try run.replaceLedger(ledger)
  }

  func merge() throws -> (report: MergeReport, lines: [String]) {
    let report = try mergeRun(MergeOptions(run: run))
    return (report, readLines(of: run.classifiedPath))
  }

  func out(_ name: String) -> [String] { readLines(of: run.resultPath(name)) }
}

// MARK: - Result lines

private func usageJSON(_ input: Int, _ output: Int, cached: Int = 0, reasoning: Int = 0) -> String {
  #"{"prompt_tokens":\#(input),"completion_tokens":\#(output),"total_tokens":\#(input + output),"prompt_tokens_details":{"cached_tokens":\#(cached),"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":\#(reasoning),"audio_tokens":0}}"#
}

/// A successful line with `body`.
func okLine(_ id: String, body: String) -> String {
  #"{"id":"batch_req_\#(id)","custom_id":"\#(jsonEscaped(id))","response":{"status_code":200,"request_id":"req_1","body":\#(body)},"error":null}"#
}

/// A chat answer whose message content is the JSON text `content`.
func chatLine(
  _ id: String, _ content: String, input: Int = 10, output: Int = 2, cached: Int = 0, reasoning: Int = 0,
  model: String = "gpt-4o-mini-2024-07-18"
) -> String {
  okLine(
    id,
    body: #"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"\#(model)","choices":[{"index":0,"message":{"role":"assistant","content":\#(content),"refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":\#(usageJSON(input, output, cached: cached, reasoning: reasoning)),"system_fingerprint":"fp"}"#
  )
}

/// An HTTP error as the error file has it.
func httpErrorLine(_ id: String, status: Int, code: String?, message: String) -> String {
  let code = code.map { "\"\($0)\"" } ?? "null"
  return #"{"id":"batch_req_\#(id)","custom_id":"\#(jsonEscaped(id))","response":{"status_code":\#(status),"request_id":"req_2","body":{"error":{"message":"\#(message)","type":"server_error","param":null,"code":\#(code)}}},"error":null}"#
}

/// A request that never ran, as the error file has it.
func lineErrorLine(_ id: String, code: String, message: String) -> String {
  #"{"id":"batch_req_\#(id)","custom_id":"\#(jsonEscaped(id))","response":null,"error":{"code":"\#(code)","message":"\#(message)"}}"#
}

extension FileBody {
  /// The body as it goes out: head, the file's first `fileLength` bytes, tail.
  func wholeBody() -> Data {
    let file = FileManager.default.contents(atPath: path) ?? Data()
    return head + file.prefix(Int(fileLength)) + tail
  }
}
