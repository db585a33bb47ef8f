import Foundation

/// Prepare's side of reuse: each rendered request is looked up by digest;
/// one already answered is not sent, and its answer goes to
/// `out/reused.jsonl` with the request's own custom_id. That file has one
/// line per item, in input order (a request that is sent gets a line with
/// only its custom_id), so that merge walks it beside the items.
final class ReusePlan {
  static let fileName = "reused.jsonl"

  let store: AnswerStore
  let baseURL: String
  private let key: [UInt8]
  private let file: AtomicFile
  private var line: [UInt8] = []
  /// Requests answered from the store, and looked up.
  private(set) var reused = 0
  private(set) var looked = 0

  /// A plan for a run of `run` against `endpoint`; nil when the store is
  /// empty or the server settings do not name one server.
  init?(run: RunDirectory, endpoint: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
    // merge shapes an embeddings or moderations answer by the request's
    // input (one text or an array), which a reused line does not carry:
    // those endpoints send everything rather than risk a wrong shape.
    guard endpoint != "/v1/embeddings" && endpoint != "/v1/moderations" else { return nil }
    let store = AnswerStore(directory: run.answerStorePath(environment))
    guard !store.isEmpty, let server = answeringServer(environment) else { return nil }
    self.store = store
    self.baseURL = server.baseURL
    key = RequestDigest.key(provider: server.provider, baseURL: server.baseURL, endpoint: endpoint)
    file = try AtomicFile(path: run.resultPath(Self.fileName))
  }

  /// Whether `request` was answered before; writes the item's line of
  /// `reused.jsonl` either way.
  func take(_ request: UnsafeBufferPointer<UInt8>) throws -> Bool {
    looked += 1
    guard let id = try ResultLine.customID(of: request) else {
      throw ToolError.dataError("a request line without a custom_id")
    }
    line.removeAll(keepingCapacity: true)
    var found = false
    if let body = RequestDigest.body(of: request),
      let answer = store.answer(for: RequestDigest(key: key, body: UnsafeBufferPointer(rebasing: request[body]))),
      let answerID = try? ResultLine.customID(of: answer), (try? ResultLine(answer))?.isSuccess == true
    {
      // The answer as it came, with this item's custom_id: the ids are
      // JSON string contents on both sides, so the bytes move as they are.
      line.append(contentsOf: answer[..<answerID.lowerBound])
      line.append(contentsOf: request[id])
      line.append(contentsOf: answer[answerID.upperBound...])
      reused += 1
      found = true
    } else {
      line.append(contentsOf: #"{"custom_id":""#.utf8)
      line.append(contentsOf: request[id])
      line.append(contentsOf: #""}"#.utf8)
    }
    line.append(0x0A)
    try line.withUnsafeBufferPointer { try file.writer.write($0) }
    return found
  }

  func commit() throws { try file.commit() }
  func abandon() { file.abandon() }
}
