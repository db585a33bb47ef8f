#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

// Reuse/: answers already paid for, found again by the content of their
// request (its digest), so that a rerun over grown or re-split items sends
// only what is new.

extension RunDirectory {
  /// The run's own store of answers; `make clean` forgets it with the run.
  var answersDirectory: String { file(".answers") }

  /// Where answers are kept: `BATCHLINE_CACHE` (shared by run directories)
  /// or the run's own store.
  func answerStorePath(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
    if let shared = environment["BATCHLINE_CACHE"], !shared.isEmpty { return shared }
    return answersDirectory
  }

  /// Removes the run's own store (a shared one stays: other runs use it).
  func forgetAnswers() {
    guard access(answersDirectory, F_OK) == 0 else { return }
    try? FileManager.default.removeItem(atPath: answersDirectory)
  }
}

extension Ledger {
  /// Items answered by an earlier run's answer.
  var reusedAnswers: Int { reused?.answers ?? 0 }
}
