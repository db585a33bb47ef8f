#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Runs jobs on worker threads and on the caller, and hands them back in
/// the order they were submitted, with at most ``depth`` of them in flight.
///
/// The local steps read and write their files in order on the calling
/// thread and leave the CPU-bound part of each chunk (rendering, parsing) to
/// the jobs; the bound on jobs in flight bounds the memory.
///
/// While the caller waits for the oldest job, it runs queued jobs itself.
/// Where the caller has work of its own between jobs (reading, writing),
/// the steps start one worker fewer than there are cores: with a worker per
/// core, the caller competed with two workers for two cores and set the
/// pace of the whole step (measured in docs/PERFORMANCE.md).
///
/// Jobs are objects the caller reuses: ``submit(_:)`` takes one,
/// ``takeOldest()`` gives the oldest back once it is done. Call ``stop()``
/// when done (the threads keep the object alive until then).
final class OrderedWorkers<Job: AnyObject>: @unchecked Sendable {
  private let monitor = Monitor()
  private let work: (Job) -> Void
  private var queue: [Job] = []
  private var queueHead = 0
  private var inFlight: [Job] = []
  private var inFlightHead = 0
  private var finished = Set<ObjectIdentifier>()
  private var stopping = false
  private var threads: [pthread_t] = []
  /// The most jobs submitted and not taken back.
  let depth: Int

  /// - Parameters:
  ///   - workers: Threads to start besides the caller; with none, every job
  ///     runs on the caller.
  ///   - depth: The most jobs in flight.
  ///   - work: What to do with a job. It must not throw: a job records its
  ///     own error.
  init(workers: Int, depth: Int, work: @escaping (Job) -> Void) {
    self.work = work
    self.depth = max(depth, 1)
    for _ in 0..<max(workers, 0) {
      if let thread = startThread({ [self] in runWorker() }) { self.threads.append(thread) }
    }
  }

  /// Jobs submitted and not taken back yet.
  var pending: Int { monitor.locked { inFlight.count - inFlightHead } }

  /// Whether another job can be submitted before one is taken back.
  var hasRoom: Bool { pending < depth }

  /// Queues a job.
  func submit(_ job: Job) {
    monitor.locked {
      inFlight.append(job)
      queue.append(job)
      monitor.broadcast()
    }
  }

  /// The oldest job submitted, once it is done (running queued jobs on this
  /// thread meanwhile); nil when none is pending.
  func takeOldest() -> Job? {
    while true {
      let next: (done: Job?, run: Job?) = monitor.locked {
        guard inFlightHead < inFlight.count else { return (nil, nil) }
        let job = inFlight[inFlightHead]
        let id = ObjectIdentifier(job)
        while !finished.contains(id) {
          if let queued = dequeue() { return (nil, queued) }
          monitor.wait()
        }
        finished.remove(id)
        inFlightHead += 1
        if inFlightHead >= 64 {
          inFlight.removeFirst(inFlightHead)
          inFlightHead = 0
        }
        return (job, nil)
      }
      if let job = next.run {
        run(job)
        continue
      }
      return next.done
    }
  }

  /// Ends the threads once the jobs they are running are done; jobs queued
  /// and not started are dropped. Nothing can be taken back after.
  func stop() {
    monitor.locked {
      stopping = true
      monitor.broadcast()
    }
    for thread in threads { pthread_join(thread, nil) }
    threads = []
  }

  /// The next queued job, taken off the queue; call with the lock held.
  private func dequeue() -> Job? {
    guard !stopping, queueHead < queue.count else { return nil }
    let job = queue[queueHead]
    queueHead += 1
    if queueHead >= 64 {
      queue.removeFirst(queueHead)
      queueHead = 0
    }
    return job
  }

  /// Runs a job and marks it done.
  private func run(_ job: Job) {
    work(job)
    monitor.locked {
      finished.insert(ObjectIdentifier(job))
      monitor.broadcast()
    }
  }

  /// One worker's loop: take the next queued job, run it.
  private func runWorker() {
    while true {
      let job: Job? = monitor.locked {
        while queueHead == queue.count && !stopping { monitor.wait() }
        return dequeue()
      }
      guard let job else { return }
      run(job)
    }
  }
}
