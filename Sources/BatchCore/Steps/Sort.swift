#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What sorting one request file's results found.
public struct SortReport: Sendable, Equatable {
  /// Requests with an answer line.
  public var answered = 0
  /// Requests with an error line.
  public var errors = 0
  /// Requests with neither, in input order (decoded ids).
  public var missing: [String] = []
  /// Result lines that repeated a request's line and were dropped.
  public var duplicates = 0
}

/// Puts the result files of every downloaded batch in input order, in
/// place and atomically, and reports requests that have neither an answer
/// nor an error line.
///
/// Files are sorted on worker threads, one file each (they are
/// independent); they replace their originals, and the ledger records them,
/// one by one in the ledger's order, as before: an error in one file leaves
/// the files before it sorted and recorded, and no file after it changed.
///
/// - Throws: ``ToolError`` 65 for a result line that is not JSON or names a
///   request the file never had; 66 for a missing file.
public func sortRun(_ run: RunDirectory) throws {
  let ledger = try run.loadLedger()
  let lock = try run.lockRun()
  defer { lock.release() }
  let files = ledger.files.filter { $0.isDownloaded && $0.sorted != true }

  // A worker per core: this thread mostly waits (for the ledger's sync).
  // Each file in flight holds its tables and output window, so there are
  // no more files in flight than threads.
  let threads = Concurrency.threads
  let workers = OrderedWorkers<SortJob>(workers: threads > 1 ? threads : 0, depth: threads) { $0.sort() }
  var submitted: [SortJob] = []
  func submitMore() {
    while submitted.count < files.count && workers.hasRoom {
      let job = SortJob(file: files[submitted.count], run: run)
      submitted.append(job)
      workers.submit(job)
    }
  }
  do {
    submitMore()
    while let job = workers.takeOldest() {
      submitMore()
      let file = job.file
      let sorted: SortedResults
      switch job.result! {
      case .failure(let error): throw error
      case .success(let files): sorted = files
      }
      try sorted.commit()
      try run.updateLedger { ledger in
        if let n = ledger.files.firstIndex(where: { $0.inputFilename.local == file.inputFilename.local }) {
          ledger.files[n].sorted = true
        }
      }
      let report = sorted.report
      if !report.missing.isEmpty {
        let shown = report.missing.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
        Diagnostics.note(
          "in/\(file.inputFilename.local): \(report.missing.count) request\(report.missing.count == 1 ? " has" : "s have") "
            + "no answer and no error line: \(shown)\(report.missing.count > 5 ? ", …" : "") (batch \(file.status?.rawValue ?? "?"))")
      }
      if report.duplicates > 0 {
        Diagnostics.note("out/\(file.stem): dropped \(report.duplicates) repeated result line\(report.duplicates == 1 ? "" : "s")")
      }
    }
    workers.stop()
  } catch {
    // Files sorted ahead of the failed one are not put in place.
    workers.stop()
    for job in submitted {
      if case .success(let sorted)? = job.result { sorted.abandon() }
    }
    throw error
  }
}

/// One file to sort on a worker thread, and what came of it.
private final class SortJob {
  let file: RequestFileRecord
  let run: RunDirectory
  var result: Result<SortedResults, Error>?

  init(file: RequestFileRecord, run: RunDirectory) {
    self.file = file
    self.run = run
  }

  func sort() {
    result = Result { try sortResultsUncommitted(of: file, in: run) }
  }
}

/// The sorted result files of one request file, not yet in place.
struct SortedResults {
  var report: SortReport
  /// The rewritten files (none for a file that was in order already).
  var files: [AtomicFile]

  func commit() throws {
    for file in files { try file.commit() }
  }

  func abandon() {
    for file in files { file.abandon() }
  }
}

/// Sorts the output and error files of one request file.
func sortResults(of file: RequestFileRecord, in run: RunDirectory) throws -> SortReport {
  let sorted = try sortResultsUncommitted(of: file, in: run)
  do {
    try sorted.commit()
  } catch {
    sorted.abandon()
    throw error
  }
  return sorted.report
}

/// Sorts the output and error files of one request file into temporary
/// files, which replace them on ``SortedResults/commit()``.
func sortResultsUncommitted(of file: RequestFileRecord, in run: RunDirectory) throws -> SortedResults {
  let requestPath = run.requestPath(file.inputFilename.local)
  let order = try RequestOrder(path: requestPath, displayName: requestPath, expected: file.inputFilename.requests)
  var report = SortReport()
  var seen = [UInt8](repeating: 0, count: order.count)
  var written: [AtomicFile] = []
  do {
    for (result, flag) in [(file.outputFilenames?.ok, UInt8(1)), (file.outputFilenames?.failed, UInt8(2))] {
      guard let local = result?.local else { continue }
      let path = run.resultPath(local)
      let (lines, output) = try sortFile(path: path, order: order, seen: &seen, flag: flag, report: &report)
      if let output { written.append(output) }
      if flag == 1 { report.answered = lines } else { report.errors = lines }
    }
  } catch {
    for file in written { file.abandon() }
    throw error
  }
  for index in 0..<order.count where seen[index] == 0 {
    report.missing.append(String(decoding: order.id(at: index), as: UTF8.self))
  }
  return SortedResults(report: report, files: written)
}

/// The ids of a request file, in order, and a way to find each one's place.
struct RequestOrder {
  private var table: IDTable

  var count: Int { table.count }

  /// - Parameter expected: The number of requests the ledger records, to
  ///   size the table once.
  init(path: String, displayName: String, expected: Int = 0) throws {
    table = IDTable(capacity: expected)
    let reader = try InputLines(path: path, displayName: displayName)
    var scratch: [UInt8] = []
    while let line = try reader.nextLine() {
      do {
        guard let range = try ResultLine.customID(of: line) else {
          throw ToolError.dataError(displayName, line: reader.lineNumber, "no custom_id")
        }
        withDecodedID(line, range, &scratch) { table.append($0) }
      } catch let error as JSONSyntaxError {
        throw ToolError.dataError(displayName, line: reader.lineNumber, "not valid JSON: \(error.reason)")
      }
    }
  }

  /// The place of `id` (decoded): the last request with that id.
  func position(of id: UnsafeBufferPointer<UInt8>) -> Int? { table.position(of: id) }
  func id(at index: Int) -> [UInt8] { table.id(at: index) }
}

/// Calls `body` with the decoded string contents at `range` of `line`:
/// the bytes in place when there is no escape, else decoded into `scratch`.
@inline(__always)
private func withDecodedID<R>(
  _ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ scratch: inout [UInt8],
  _ body: (UnsafeBufferPointer<UInt8>) throws -> R
) rethrows -> R {
  let raw = UnsafeBufferPointer(rebasing: line[range])
  if raw.isEmpty || memchr(raw.baseAddress!, 0x5C, raw.count) == nil { return try body(raw) }
  scratch.removeAll(keepingCapacity: true)
  JSONScanner(line).appendDecodedString(contents: range, to: &scratch)
  return try scratch.withUnsafeBufferPointer { try body($0) }
}

/// How much of a sorted file is put together in memory at a time. The file
/// is read once to find each line's place, then once more per window, in
/// file order, copying the window's lines into place; the window is then
/// written out whole. (Reading a line at a time with `pread`, one system
/// call per line, cost more than the copying.) The passes read the file
/// through its mapping (``MappedFile``), so one more pass costs little; with
/// a file in flight per thread and the 25 MiB a process takes with
/// Foundation, 8 MiB windows keep sort at about 55 MiB.
private let sortWindowBytes = 8 << 20

/// The windows, kept from one file to the next: a fresh window is page
/// faults and zeroed pages in the kernel, which doubled sort's system time.
private let sortWindows = BufferPool(size: sortWindowBytes)

/// Rewrites one result file in the order of `order` into a temporary file.
///
/// - Returns: The number of lines kept, and the new file (nil when the file
///   was in order and is left as it is).
private func sortFile(
  path: String, order: RequestOrder, seen: inout [UInt8], flag: UInt8, report: inout SortReport
) throws -> (Int, AtomicFile?) {
  // First pass: where each line starts and how long it is, in file order,
  // and whose place it takes (-1 for a line dropped).
  var lineOffsets: [Int] = []
  var lineLengths: [Int] = []
  var lineTargets: [Int32] = []
  var sourceOfTarget = [Int32](repeating: -1, count: order.count)
  lineOffsets.reserveCapacity(order.count)
  lineLengths.reserveCapacity(order.count)
  lineTargets.reserveCapacity(order.count)
  var reader: InputLines? = try InputLines(path: path)
  var start = 0
  var alreadyInOrder = true
  var last = -1
  var scratch: [UInt8] = []
  var kept = 0
  while let reader, let line = try reader.nextLine() {
    let lineStart = start
    start = reader.offset
    if line.isEmpty { continue }
    let index: Int
    do {
      guard let range = try ResultLine.customID(of: line) else {
        throw ToolError.dataError(path, line: reader.lineNumber, "no custom_id")
      }
      guard let found = withDecodedID(line, range, &scratch, { order.position(of: $0) }) else {
        let id = JSONScanner(line).decodeString(contents: range)
        throw ToolError.dataError(
          "\(path):\(reader.lineNumber): custom_id '\(ServerText.clean(bytes: id))' is not a request of this batch")
      }
      index = found
    } catch let error as JSONSyntaxError {
      throw ToolError.dataError(path, line: reader.lineNumber, "not valid JSON: \(error.reason)")
    }
    if seen[index] & flag != 0 || (flag == 2 && seen[index] & 1 != 0) {
      // A repeated line, or an error for a request that has an answer: the answer wins.
      report.duplicates += 1
      alreadyInOrder = false
      continue
    }
    seen[index] |= flag
    sourceOfTarget[index] = Int32(lineOffsets.count)
    lineOffsets.append(lineStart)
    lineLengths.append(line.count)
    lineTargets.append(Int32(index))
    kept += 1
    if index < last { alreadyInOrder = false }
    last = index
  }
  if alreadyInOrder { return (kept, nil) }
  // The second pass reads the mapped file again, or the file through a buffer.
  let input: SourceBytes
  if let file = reader?.file {
    input = .mapped(file)
  } else {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw ToolError.system(.noInput, "read", path) }
    input = .read(SequentialBlocks(fd: fd, path: path))
  }
  reader = nil

  // Where each kept line goes in the output: the running sum of the lengths
  // (each with its newline) in request order.
  var outputOffsets = [Int](repeating: -1, count: order.count)
  var total = 0
  for target in 0..<order.count where sourceOfTarget[target] >= 0 {
    outputOffsets[target] = total
    total += lineLengths[Int(sourceOfTarget[target])] + 1
  }

  let output = try AtomicFile(path: path)
  do {
    let windowSize = min(total, sortWindowBytes)
    let window = sortWindows.take()
    defer { sortWindows.give(window) }
    var windowStart = 0
    while windowStart < total {
      let windowEnd = min(windowStart + windowSize, total)
      // Lines are whole in a window: it ends before the first line that
      // would not fit (a line longer than the window gets one of its own).
      var filled = windowStart
      input.rewind()
      for n in 0..<lineOffsets.count {
        let target = Int(lineTargets[n])
        let at = outputOffsets[target]
        let length = lineLengths[n]
        guard at >= windowStart && at + length + 1 <= windowEnd else { continue }
        let bytes = try input.bytes(at: lineOffsets[n], count: length)
        let destination = window.baseAddress! + (at - windowStart)
        destination.copyMemory(from: bytes, byteCount: length)
        destination.storeBytes(of: 0x0A, toByteOffset: length, as: UInt8.self)
        filled = max(filled, at + length + 1)
      }
      if filled == windowStart {
        // The next line is longer than the window: copy it alone.
        let n = Int(sourceOfTarget[nextTarget(at: windowStart, outputOffsets)])
        let length = lineLengths[n]
        let bytes = try input.bytes(at: lineOffsets[n], count: length)
        try output.writer.write(UnsafeBufferPointer(start: bytes.assumingMemoryBound(to: UInt8.self), count: length))
        try output.writer.write([0x0A])
        windowStart += length + 1
        continue
      }
      try output.writer.writeDirectly(
        UnsafeBufferPointer(start: window.baseAddress!.assumingMemoryBound(to: UInt8.self), count: filled - windowStart))
      windowStart = filled
    }
    try output.writer.releaseBuffer()
  } catch {
    output.abandon()
    throw error
  }
  return (kept, output)
}

/// The request whose line starts at output offset `offset`.
private func nextTarget(at offset: Int, _ outputOffsets: [Int]) -> Int {
  outputOffsets.firstIndex(of: offset)!
}

/// The bytes of a result file, read again in the order of its lines.
private enum SourceBytes {
  case mapped(MappedFile)
  case read(SequentialBlocks)

  /// The bytes at `offset` (valid until the next call); offsets increase
  /// between calls to ``rewind()``.
  @inline(__always)
  func bytes(at offset: Int, count: Int) throws -> UnsafeRawPointer {
    switch self {
    case .mapped(let file):
      file.release(before: offset)
      return UnsafeRawPointer(file.base! + offset)
    case .read(let blocks):
      return try blocks.bytes(at: offset, count: count)
    }
  }

  /// Back to the start of the file, for the next window.
  func rewind() {
    if case .mapped(let file) = self { file.rewind() }
  }
}

/// Reads a file in large blocks, forward, handing out byte ranges of it.
private final class SequentialBlocks {
  let fd: Int32
  let path: String
  private var buffer: UnsafeMutableRawBufferPointer
  private var bufferStart = 0
  private var bufferCount = 0

  init(fd: Int32, path: String) {
    self.fd = fd
    self.path = path
    buffer = .allocate(byteCount: 1 << 20, alignment: 16)
  }

  deinit {
    buffer.deallocate()
    close(fd)
  }

  /// The bytes at `offset` (valid until the next call). Offsets should
  /// mostly increase: a range outside the block read last reads the block
  /// that starts there.
  func bytes(at offset: Int, count: Int) throws -> UnsafeRawPointer {
    if offset >= bufferStart && offset + count <= bufferStart + bufferCount {
      return UnsafeRawPointer(buffer.baseAddress! + (offset - bufferStart))
    }
    if count > buffer.count {
      buffer.deallocate()
      buffer = .allocate(byteCount: count, alignment: 16)
    }
    var filled = 0
    while filled < buffer.count {
      let n = pread(fd, buffer.baseAddress! + filled, buffer.count - filled, off_t(offset + filled))
      if n < 0 {
        if errno == EINTR { continue }
        throw ToolError.system(.failure, "read", path)
      }
      if n == 0 { break }
      filled += n
    }
    guard filled >= count else { throw ToolError(.failure, "cannot read '\(path)': short read") }
    bufferStart = offset
    bufferCount = filled
    return UnsafeRawPointer(buffer.baseAddress!)
  }
}
