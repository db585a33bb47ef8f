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
    var hasher = Hasher()
    id.withUnsafeBytes { hasher.combine(bytes: $0) }
    pending.append(Entry(fingerprint: UInt64(bitPattern: Int64(hasher.finalize())), line: line))
    if pending.count == Self.runLength { spillRun() }
  }

  private mutating func spillRun() {
    pending.sort()
    if spill < 0 {
      var template = Array("/tmp/batchline-ids.XXXXXX".utf8CString)
      spill = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
      if spill >= 0 { template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) } }
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
    var candidates: [(Int, Int)] = []
    var previous: Entry?
    while candidates.count < 10_000 {
      var best: Entry?
      var bestIndex = -1
      for (n, cursor) in cursors.enumerated() {
        if let head = cursor.head, best == nil || head < best! {
          best = head
          bestIndex = n
        }
      }
      for (n, run) in memory.enumerated() where run.1 < run.0.count {
        let head = run.0[run.1]
        if best == nil || head < best! {
          best = head
          bestIndex = cursors.count + n
        }
      }
      guard let entry = best else { break }
      if bestIndex < cursors.count { cursors[bestIndex].advance() } else { memory[bestIndex - cursors.count].1 += 1 }
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
