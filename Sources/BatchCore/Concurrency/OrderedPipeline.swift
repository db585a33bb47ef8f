import Foundation

/// A reusable batch of lines that a pipeline fills on the calling thread,
/// works on with ``OrderedWorkers``, and hands back in order.
protocol PipelineChunk: AnyObject {
  init()
  /// Whether the chunk has enough to be worth handing over.
  var isFull: Bool { get }
  /// Empties the chunk for reuse, keeping its buffers' capacity.
  func reset()
  /// Ends the chunk with an error of the reading, reported after its lines.
  func stop(with error: Error)
}

/// The loop that prepare and merge share: read lines into chunks on this
/// thread, work on the chunks on the workers (and on this thread while it
/// waits), and finish each chunk here, in the order it was read.
///
/// An error of the reading goes into the chunk being read and stops the
/// loop: it is reported once the lines before it are finished, so that an
/// error a worker finds in an earlier line comes first, as it would one line
/// at a time.
///
/// - Parameters:
///   - work: What a worker does with a chunk; it records its own errors.
///   - read: Adds the next line to the chunk; false at the end.
///   - finish: Takes a done chunk back, in order (writes it, counts it), and
///     throws the chunk's error if it has one.
func runOrderedPipeline<Chunk: PipelineChunk>(
  work: @escaping (Chunk) -> Void, read: (Chunk) throws -> Bool, finish: (Chunk) throws -> Void
) throws {
  let workers = OrderedWorkers<Chunk>(workers: Concurrency.threads - 1, depth: Concurrency.pipelineDepth, work: work)
  defer { workers.stop() }
  var spare: [Chunk] = []
  func takeBack() throws {
    guard let chunk = workers.takeOldest() else { return }
    try finish(chunk)
    spare.append(chunk)
  }
  func submit(_ chunk: Chunk) throws {
    if !workers.hasRoom { try takeBack() }
    workers.submit(chunk)
  }

  var chunk = Chunk()
  while true {
    do {
      guard try read(chunk) else { break }
    } catch {
      chunk.stop(with: error)
      break
    }
    if chunk.isFull {
      try submit(chunk)
      chunk = spare.popLast() ?? Chunk()
      chunk.reset()
    }
  }
  try submit(chunk)
  while workers.pending > 0 { try takeBack() }
}
