import Foundation
import Testing

@testable import BatchCore

/// How often a batch is read, and when a model refused for capacity is
/// tried again.
@Suite struct PollingTests {
  /// Counts that change on every read do not shorten the pause; only the
  /// phases around a change of status are read sooner, doubling up to POLL.
  @Test func aBatchInProgressIsReadOncePerPoll() {
    var schedule = PollSchedule(poll: 60)
    let start = Date(timeIntervalSince1970: 1_000_000)
    #expect(schedule.isDue("a", at: start), "never read: due at once")
    var now = start
    var pauses: [Double] = []
    for status in [Batch.Status.validating, .validating, .validating, .validating, .validating, .validating] {
      schedule.read("a", status: status, at: now)
      pauses.append(schedule.due("a").timeIntervalSince(now))
      now = schedule.due("a")
    }
    #expect(pauses == [2, 4, 8, 16, 32, 60])
    schedule.read("a", status: .inProgress, at: now)
    #expect(schedule.due("a").timeIntervalSince(now) == 60)
    #expect(!schedule.isDue("a", at: now.addingTimeInterval(59)))
    #expect(schedule.isDue("a", at: now.addingTimeInterval(60)))
    schedule.read("a", status: .inProgress, at: now)
    #expect(schedule.due("a").timeIntervalSince(now) == 60)
    schedule.read("a", status: .finalizing, at: now)
    #expect(schedule.due("a").timeIntervalSince(now) == 2)
    // A POLL below the short pauses caps them.
    var fast = PollSchedule(poll: 1)
    fast.read("b", status: .cancelling, at: start)
    #expect(fast.due("b").timeIntervalSince(start) == 1)
  }

  /// A day in progress costs about a day / POLL reads, plus a few for the
  /// short phases.
  @Test func aDayCostsADayOverPollReads() {
    var schedule = PollSchedule(poll: 60)
    var now = Date(timeIntervalSince1970: 0)
    let end = now.addingTimeInterval(86_400)
    var reads = 0
    while now < end {
      let elapsed = now.timeIntervalSince1970
      let status: Batch.Status = elapsed < 600 ? .validating : elapsed < 86_000 ? .inProgress : .finalizing
      schedule.read("a", status: status, at: now)
      reads += 1
      now = schedule.due("a")
    }
    #expect(reads <= 86_400 / 60 + 10)
  }

  @Test func aRefusedModelWaitsByTheClockThenGivesUp() throws {
    var wait = try CapacityWait(environment: [:])
    #expect(wait.firstPause == 60 && wait.giveUpAfter == 86_400)
    let start = Date(timeIntervalSince1970: 1_000_000)
    #expect(wait.mayTry("m", at: start))
    var now = start
    var pauses: [Double] = []
    for _ in 0..<7 {
      let refused = wait.refused("m", at: now)
      let pause = try #require(refused)
      pauses.append(pause)
      #expect(!wait.mayTry("m", at: now.addingTimeInterval(pause - 1)))
      now = now.addingTimeInterval(pause)
      #expect(wait.mayTry("m", at: now))
    }
    #expect(pauses == [60, 120, 240, 480, 600, 600, 600])
    #expect(wait.mayTry("other", at: start), "models wait apart")
    // One of the run's own batches ended: try at once.
    _ = wait.refused("m", at: now)
    wait.freed("m", at: now)
    #expect(wait.mayTry("m", at: now))
    // A batch passed validation: the refusals start over.
    wait.admitted("m")
    let again = wait.refused("m", at: now)
    #expect(again == 60)
    // After the whole wait, no more tries.
    let late = wait.refused("m", at: now.addingTimeInterval(86_400))
    #expect(late == nil)

    let short = try CapacityWait(environment: ["BATCHLINE_CAPACITY_PAUSE": "1", "BATCHLINE_CAPACITY_WAIT": "30"])
    #expect(short.firstPause == 1 && short.giveUpAfter == 30)
    let error = toolError { _ = try CapacityWait(environment: ["BATCHLINE_CAPACITY_WAIT": "a day"]) }
    #expect(error?.status == .configuration)
    #expect(error?.message == "BATCHLINE_CAPACITY_WAIT must be a number of seconds, not 'a day'")
  }
}
