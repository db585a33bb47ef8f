// Concurrency/: the threads of the local steps: the ordered pipeline that
// prepare and merge run their chunks through, and what it is built on.

import Foundation

/// How many threads the local steps use for their CPU-bound work.
///
/// One per core (`BATCHLINE_THREADS` overrides it; `1` makes every step run
/// its work on the calling thread, which gives the same output).
enum Concurrency {
  static let threads: Int = {
    if let text = ProcessInfo.processInfo.environment["BATCHLINE_THREADS"], let n = Int(text), n > 0 {
      return min(n, 64)
    }
    return max(1, ProcessInfo.processInfo.activeProcessorCount)
  }()

  /// Jobs in flight for the pipelines whose caller reads and writes: two
  /// per thread, so that each has the next ready when it finishes one.
  static var pipelineDepth: Int { 2 * threads }
}
