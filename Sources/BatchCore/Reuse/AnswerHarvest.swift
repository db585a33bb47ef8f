#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The provider and base URL the environment points at, as the ledger
/// records a base URL; nil when the settings are bad. The key is not
/// needed (prepare runs without one), so a placeholder stands in for it.
func answeringServer(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> (provider: String, baseURL: String)? {
  // Only the chosen provider's own key variable gets the placeholder: a
  // placeholder for another provider would read as that provider's
  // variables being set, which the provider choice refuses.
  guard let provider = try? APIProvider.fromEnvironment(environment) else { return nil }
  var env = environment
  let keyNames = ProviderProfile.standard(for: provider).keyVariables + ["OPENAI_API_KEY"]
  if keyNames.allSatisfy({ (env[$0] ?? "").isEmpty }), let name = keyNames.first {
    env[name] = "unused"
  }
  guard let configuration = try? APIConfiguration.fromEnvironment(env) else { return nil }
  var url = configuration.baseURL.absoluteString
  while url.hasSuffix("/") { url.removeLast() }
  return (configuration.provider.rawValue, url)
}

/// Puts the answers of the run's sorted request files into the store, each
/// file once (a segment named after the run and the file). Only answers
/// (status 200) go in: failed requests are retried, never reused.
///
/// It never fails the step that calls it: answers that cannot be kept are
/// only sent again later, and a note says why.
func rememberAnswers(_ ledger: Ledger, run: RunDirectory, environment: [String: String] = ProcessInfo.processInfo.environment) {
  guard let baseURL = ledger.baseUrl, let provider = try? APIProvider.fromEnvironment(environment) else { return }
  let key = RequestDigest.key(provider: provider.rawValue, baseURL: baseURL, endpoint: ledger.endpoint)
  let directory = run.answerStorePath(environment)
  for file in ledger.files where file.sorted == true && file.isDownloaded {
    guard let answersName = file.outputFilenames?.ok.local else { continue }
    let name = "\(ledger.runId)-\(file.stem)"
    guard access("\(directory)/\(name).index", F_OK) != 0 else { continue }
    var segment: AnswerSegmentWriter?
    do {
      let requests = try InputLines(path: run.requestPath(file.inputFilename.local))
      let answers = try PeekingReader(path: run.resultPath(answersName))
      let writer = try AnswerSegmentWriter(directory: directory, name: name)
      segment = writer
      var id: [UInt8] = []
      while let request = try requests.nextLine() {
        guard let range = try ResultLine.customID(of: request) else { continue }
        id.removeAll(keepingCapacity: true)
        JSONScanner(request).appendDecodedString(contents: range, to: &id)
        guard let answer = try answers.takeLine(id), let body = RequestDigest.body(of: request),
          (try? ResultLine(answer))?.isSuccess == true
        else { continue }
        try writer.add(answer, digest: RequestDigest(key: key, body: UnsafeBufferPointer(rebasing: request[body])))
      }
      guard try answers.leftover() == nil else {
        throw ToolError.dataError("\(run.resultPath(answersName)) is not in the order of its requests")
      }
      try writer.commit()
    } catch {
      segment?.abandon()
      Diagnostics.note("the answers of in/\(file.inputFilename.local) are not kept for reuse: \(error)")
    }
  }
}
