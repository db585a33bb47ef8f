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
/// - Throws: ``ToolError`` 65 for a result line that is not JSON or names a
///   request the file never had; 66 for a missing file.
public func sortRun(_ run: RunDirectory) throws {
  let ledger = try run.loadLedger()
  let lock = try run.lockRun()
  defer { lock.release() }
  for file in ledger.files where file.isDownloaded && file.sorted != true {
    let report = try sortResults(of: file, in: run)
    try run.updateLedger { ledger in
      if let n = ledger.files.firstIndex(where: { $0.inputFilename.local == file.inputFilename.local }) {
        ledger.files[n].sorted = true
      }
    }
    if !report.missing.isEmpty {
      let shown = report.missing.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
      Diagnostics.note(
        "in/\(file.inputFilename.local): \(report.missing.count) request\(report.missing.count == 1 ? " has" : "s have") "
          + "no answer and no error line: \(shown)\(report.missing.count > 5 ? ", …" : "") (batch \(file.status ?? "?"))")
    }
    if report.duplicates > 0 {
      Diagnostics.note("out/\(file.stem): dropped \(report.duplicates) repeated result line\(report.duplicates == 1 ? "" : "s")")
    }
  }
}

/// Sorts the output and error files of one request file.
func sortResults(of file: RequestFileRecord, in run: RunDirectory) throws -> SortReport {
  let requestPath = run.requestPath(file.inputFilename.local)
  let order = try RequestOrder(path: requestPath, displayName: requestPath)
  var report = SortReport()
  var seen = [UInt8](repeating: 0, count: order.count)
  for (result, flag) in [(file.outputFilenames?.ok, UInt8(1)), (file.outputFilenames?.failed, UInt8(2))] {
    guard let local = result?.local else { continue }
    let path = run.resultPath(local)
    let lines = try sortFile(path: path, order: order, seen: &seen, flag: flag, report: &report)
    if flag == 1 { report.answered = lines } else { report.errors = lines }
  }
  for index in 0..<order.count where seen[index] == 0 {
    report.missing.append(String(decoding: order.id(at: index), as: UTF8.self))
  }
  return report
}

/// The ids of a request file, in order, and a way to find each one's place.
struct RequestOrder {
  private var positions: [[UInt8]: Int32] = [:]
  private var ids: [[UInt8]] = []

  var count: Int { ids.count }

  init(path: String, displayName: String) throws {
    let reader = try LineReader(path: path, displayName: displayName)
    while let line = try reader.nextLine() {
      let id: [UInt8]
      do {
        guard let range = try ResultLine.customID(of: line) else {
          throw ToolError.dataError("\(displayName):\(reader.lineNumber): no custom_id")
        }
        id = JSONScanner(line).decodeString(contents: range)
      } catch let error as JSONSyntaxError {
        throw ToolError.dataError("\(displayName):\(reader.lineNumber): not valid JSON: \(error.reason)")
      }
      positions[id] = Int32(ids.count)
      ids.append(id)
    }
  }

  func position(of id: [UInt8]) -> Int? { positions[id].map(Int.init) }
  func id(at index: Int) -> [UInt8] { ids[index] }
}

/// Rewrites one result file in the order of `order`, atomically.
///
/// - Returns: The number of lines kept.
private func sortFile(
  path: String, order: RequestOrder, seen: inout [UInt8], flag: UInt8, report: inout SortReport
) throws -> Int {
  // First pass: where each line starts, and whose it is.
  var places = [(offset: Int, length: Int)?](repeating: nil, count: order.count)
  let reader = try LineReader(path: path)
  var start = 0
  var alreadyInOrder = true
  var last = -1
  while let line = try reader.nextLine() {
    let lineStart = start
    start = reader.offset
    if line.isEmpty { continue }
    let id: [UInt8]
    do {
      guard let range = try ResultLine.customID(of: line) else {
        throw ToolError.dataError("\(path):\(reader.lineNumber): no custom_id")
      }
      id = JSONScanner(line).decodeString(contents: range)
    } catch let error as JSONSyntaxError {
      throw ToolError.dataError("\(path):\(reader.lineNumber): not valid JSON: \(error.reason)")
    }
    guard let index = order.position(of: id) else {
      throw ToolError.dataError(
        "\(path):\(reader.lineNumber): custom_id '\(String(decoding: id, as: UTF8.self))' is not a request of this batch")
    }
    if seen[index] & flag != 0 || (flag == 2 && seen[index] & 1 != 0) {
      // A repeated line, or an error for a request that has an answer: the answer wins.
      report.duplicates += 1
      alreadyInOrder = false
      continue
    }
    seen[index] |= flag
    places[index] = (lineStart, line.count)
    if index < last { alreadyInOrder = false }
    last = index
  }
  let kept = places.reduce(0) { $0 + ($1 == nil ? 0 : 1) }
  if alreadyInOrder { return kept }

  // Second pass: copy the lines out in order.
  let fd = open(path, O_RDONLY | O_CLOEXEC)
  guard fd >= 0 else { throw ToolError.noInput("cannot read '\(path)': \(String(cString: strerror(errno)))") }
  defer { close(fd) }
  let output = try AtomicFile(path: path)
  var buffer = [UInt8](repeating: 0, count: 1 << 16)
  do {
    for place in places {
      guard let place else { continue }
      if buffer.count < place.length + 1 { buffer = [UInt8](repeating: 0, count: place.length + 1) }
      let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, place.length, off_t(place.offset)) }
      guard got == place.length else { throw ToolError(.failure, "cannot read '\(path)': short read") }
      buffer[place.length] = 0x0A
      try buffer.withUnsafeBufferPointer { try output.writer.write(UnsafeBufferPointer(rebasing: $0[0...place.length])) }
    }
    try output.commit()
  } catch {
    output.abandon()
    throw error
  }
  return kept
}
