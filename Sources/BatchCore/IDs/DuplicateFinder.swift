#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds duplicate `custom_id`s in flat memory, whatever the number of items.
///
/// Each id is reduced to a 64-bit fingerprint; fingerprints are sorted in
/// runs of 64 Ki, spilled to an unlinked temporary file, and merged at the
/// end. Equal fingerprints are only candidates: the ids of those lines are
/// rendered again and compared byte for byte.
struct DuplicateFinder {
  private struct Entry: Comparable {
    var fingerprint: UInt64
    var line: Int
    static func < (a: Entry, b: Entry) -> Bool {
      (a.fingerprint, a.line) < (b.fingerprint, b.line)
    }
  }

  private static let runLength = 1 << 16
  private var pending: [Entry] = []
  private var runs: [(offset: Int, count: Int)] = []
  private var spill: Int32 = -1
  private var spilled = 0

  init() {
    pending.reserveCapacity(Self.runLength)
  }

  /// Records the id of the item on `line`.
  mutating func add(_ id: [UInt8], line: Int) {
    add(fingerprint: id.withUnsafeBufferPointer { ByteHash.hash($0) }, line: line)
  }

  /// Records the id of the item on `line` by its fingerprint,
  /// `ByteHash.hash` of the decoded id (made where the line is rendered).
  mutating func add(fingerprint: UInt64, line: Int) {
    pending.append(Entry(fingerprint: fingerprint, line: line))
    if pending.count == Self.runLength { spillRun() }
  }

  private mutating func spillRun() {
    Self.sortByFingerprint(&pending)
    if spill < 0 {
      spill = openScratchFile(prefix: "batchline-ids")
    }
    let bytes = pending.count * MemoryLayout<Entry>.stride
    let written = pending.withUnsafeBytes { pwrite(spill, $0.baseAddress!, bytes, off_t(spilled)) }
    if spill < 0 || written != bytes {
      // No temporary space: keep the run in memory rather than fail the check.
      memoryRuns.append(pending)
    } else {
      runs.append((spilled, pending.count))
      spilled += bytes
    }
    pending.removeAll(keepingCapacity: true)
  }

  private var memoryRuns: [[Entry]] = []

  /// The first duplicate in file order: the earlier line with its id, and
  /// the later line.
  ///
  /// - Parameters:
  ///   - itemsPath: Where to read the items again, or nil to read `copy`.
  mutating func firstDuplicate(template: Template, itemsPath: String?, copy: AtomicFile?) throws
    -> (first: (line: Int, id: [UInt8]), second: Int)?
  {
    if !pending.isEmpty { spillRun() }
    defer { if spill >= 0 { close(spill) } }
    // Merge the sorted runs and collect lines that share a fingerprint.
    var cursors = runs.map { RunCursor(fd: spill, offset: $0.offset, count: $0.count) }
    var memory = memoryRuns.map { ($0, 0) }
    /// The next entry of run `n` (spilled runs first, then those in memory), taken.
    func next(_ n: Int) -> Entry? {
      if n < cursors.count {
        guard let head = cursors[n].head else { return nil }
        cursors[n].advance()
        return head
      }
      let m = n - cursors.count
      guard memory[m].1 < memory[m].0.count else { return nil }
      memory[m].1 += 1
      return memory[m].0[memory[m].1 - 1]
    }
    // A heap of the runs' heads gives the entries in order (with 160 runs
    // for 10 million items, scanning every head per entry was quadratic).
    var heap = EntryHeap()
    for n in 0..<(cursors.count + memory.count) {
      if let entry = next(n) { heap.push(entry, from: n) }
    }
    var candidates: [(Int, Int)] = []
    var previous: Entry?
    while candidates.count < 10_000, let (entry, n) = heap.pop() {
      if let following = next(n) { heap.push(following, from: n) }
      if let previous, previous.fingerprint == entry.fingerprint {
        candidates.append((previous.line, entry.line))
      }
      previous = entry
    }
    guard !candidates.isEmpty else { return nil }

    // Render the ids of the candidate lines again and compare them.
    let wanted = Set(candidates.flatMap { [$0.0, $0.1] })
    var ids: [Int: [UInt8]] = [:]
    if let copy { try copy.writer.flush() }
    let reader = try LineReader(path: itemsPath ?? copy!.temporaryPath)
    var scratch: [UInt8] = []
    while let item = try reader.nextLine() {
      guard wanted.contains(reader.lineNumber) else { continue }
      scratch.removeAll(keepingCapacity: true)
      ids[reader.lineNumber] = try template.render(item: item, lineNumber: reader.lineNumber, into: &scratch).customID
    }
    var found: (first: (line: Int, id: [UInt8]), second: Int)?
    for (a, b) in candidates {
      let (first, second) = a < b ? (a, b) : (b, a)
      guard let id = ids[first], ids[second] == id else { continue }
      if found == nil || second < found!.second {
        // The earliest line with this id is the one to name.
        let earliest = candidates.filter { ids[$0.0] == id || ids[$0.1] == id }.flatMap { [$0.0, $0.1] }.min() ?? first
        found = ((earliest, id), second)
      }
    }
    return found
  }

  /// Sorts a run by fingerprint, keeping the order of equal fingerprints:
  /// the entries come in line order, so this is their order by
  /// (fingerprint, line). A counting pass on the top 16 bits and an
  /// insertion sort of each (mostly one-entry) bucket take a third of the
  /// time of `sort()`.
  private static func sortByFingerprint(_ entries: inout [Entry]) {
    let count = entries.count
    guard count > 1 else { return }
    var starts = [Int](repeating: 0, count: 65_537)
    for entry in entries { starts[Int(entry.fingerprint >> 48) + 1] += 1 }
    for b in 1...65_536 { starts[b] += starts[b - 1] }
    var sorted = entries
    var next = starts
    for entry in entries {
      let b = Int(entry.fingerprint >> 48)
      sorted[next[b]] = entry
      next[b] += 1
    }
    for b in 0..<65_536 where starts[b + 1] - starts[b] > 1 {
      for i in (starts[b] + 1)..<starts[b + 1] {
        let entry = sorted[i]
        var j = i
        while j > starts[b] && sorted[j - 1].fingerprint > entry.fingerprint {
          sorted[j] = sorted[j - 1]
          j -= 1
        }
        sorted[j] = entry
      }
    }
    entries = sorted
  }

  /// A min-heap of entries, each with the run it came from.
  private struct EntryHeap {
    private var items: [(entry: Entry, run: Int)] = []

    mutating func push(_ entry: Entry, from run: Int) {
      items.append((entry, run))
      var i = items.count - 1
      while i > 0 {
        let parent = (i - 1) / 2
        guard items[i].entry < items[parent].entry else { break }
        items.swapAt(i, parent)
        i = parent
      }
    }

    mutating func pop() -> (Entry, Int)? {
      guard let top = items.first else { return nil }
      let last = items.removeLast()
      if !items.isEmpty {
        items[0] = last
        var i = 0
        while true {
          let left = 2 * i + 1
          guard left < items.count else { break }
          var child = left
          if left + 1 < items.count && items[left + 1].entry < items[left].entry { child = left + 1 }
          guard items[child].entry < items[i].entry else { break }
          items.swapAt(i, child)
          i = child
        }
      }
      return (top.entry, top.run)
    }
  }

  /// Reads one spilled run back through a small buffer.
  private struct RunCursor {
    let fd: Int32
    var offset: Int
    var remaining: Int
    var buffer: [Entry] = []
    var index = 0

    init(fd: Int32, offset: Int, count: Int) {
      self.fd = fd
      self.offset = offset
      self.remaining = count
      fill()
    }

    var head: Entry? { index < buffer.count ? buffer[index] : nil }

    mutating func advance() {
      index += 1
      if index == buffer.count { fill() }
    }

    private mutating func fill() {
      let n = min(remaining, 1024)
      buffer = [Entry](repeating: Entry(fingerprint: 0, line: 0), count: n)
      index = 0
      guard n > 0 else { return }
      let bytes = n * MemoryLayout<Entry>.stride
      let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, bytes, off_t(offset)) }
      if got != bytes { buffer = [] }
      offset += bytes
      remaining -= n
    }
  }
}
