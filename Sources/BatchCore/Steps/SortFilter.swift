#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `batch-sort` as a filter: result lines from a file or standard input,
/// written to standard output in the order of a request file.
///
/// Standard input is copied to an unlinked temporary file as it is read, so
/// that the lines can be written back in any order in flat memory. Requests
/// with no result line are named on standard error; a result line for a
/// request the file does not have is bad data.
///
/// - Parameters:
///   - requests: The request file whose order the output follows.
///   - results: The result lines: a path, or `-` for standard input.
/// - Throws: ``ToolError`` 65 for a line that is not JSON or names an
///   unknown request, 66 for a missing file.
public func sortFilter(requests: String, results: String) throws {
  let order = try RequestOrder(path: requests, displayName: requests)
  let source = try SpooledInput(path: results)
  defer { source.close() }
  var places = [(offset: Int, length: Int)?](repeating: nil, count: order.count)
  var repeated = 0
  while true {
    let lineStart = source.position
    guard let line = try source.reader.nextLine() else { break }
    try source.spool(line)
    if line.isEmpty { continue }
    let name = "\(source.name):\(source.reader.lineNumber)"
    let range: Range<Int>
    do {
      guard let found = try ResultLine.customID(of: line) else { throw ToolError.dataError("\(name): no custom_id") }
      range = found
    } catch let error as JSONSyntaxError {
      throw ToolError.dataError("\(name): not valid JSON: \(error.reason)")
    }
    let id = JSONScanner(line).decodeString(contents: range)
    guard let index = id.withUnsafeBufferPointer({ order.position(of: $0) }) else {
      throw ToolError.dataError("\(name): custom_id '\(ServerText.clean(bytes: id))' is not in '\(requests)'")
    }
    if places[index] != nil {
      repeated += 1
      continue
    }
    places[index] = (lineStart, line.count)
  }
  try source.finishSpool()

  let output = BufferedWriter(fd: 1, name: "<stdout>")
  var buffer = [UInt8](repeating: 0, count: 1 << 16)
  var missing: [String] = []
  for (index, place) in places.enumerated() {
    guard let place else {
      missing.append(ServerText.clean(bytes: order.id(at: index)))
      continue
    }
    if buffer.count < place.length + 1 { buffer = [UInt8](repeating: 0, count: place.length + 1) }
    try source.read(into: &buffer, offset: place.offset, count: place.length)
    buffer[place.length] = 0x0A
    try buffer.withUnsafeBufferPointer { try output.write(UnsafeBufferPointer(rebasing: $0[0...place.length])) }
  }
  try output.flush()
  if repeated > 0 { Diagnostics.note("dropped \(repeated) repeated result line\(repeated == 1 ? "" : "s")") }
  if !missing.isEmpty {
    let shown = missing.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
    Diagnostics.note(
      "\(missing.count) request\(missing.count == 1 ? " has" : "s have") no result line: \(shown)\(missing.count > 5 ? ", …" : "")")
  }
}

/// Lines read once in order, then read again by offset: a file is read in
/// place; standard input is copied to an unlinked temporary file first.
private final class SpooledInput {
  let reader: LineReader
  let name: String
  private var fd: Int32
  private let spooling: Bool
  private var spoolWriter: BufferedWriter?

  init(path: String) throws {
    reader = try LineReader(path: path)
    name = reader.name
    if path == "-" {
      fd = openScratchFile(prefix: "batchline-sort")
      guard fd >= 0 else { throw ToolError(.failure, "cannot make a temporary file: \(systemReason())") }
      spooling = true
      spoolWriter = BufferedWriter(fd: fd, name: "<spool>")
    } else {
      fd = open(path, O_RDONLY | O_CLOEXEC)
      guard fd >= 0 else { throw ToolError.system(.noInput, "read", path) }
      spooling = false
    }
  }

  /// Where the next line starts in what ``read(into:offset:count:)`` reads.
  var position: Int { spoolWriter?.bytesWritten ?? reader.offset }

  /// Copies a line (with a newline) to the spool.
  func spool(_ line: UnsafeBufferPointer<UInt8>) throws {
    guard spooling, let spoolWriter else { return }
    try spoolWriter.write(line)
    try spoolWriter.write([0x0A])
  }

  func finishSpool() throws {
    try spoolWriter?.flush()
  }

  /// Reads `count` bytes at `offset` (of the file, or of the spool).
  func read(into buffer: inout [UInt8], offset: Int, count: Int) throws {
    let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, count, off_t(offset)) }
    guard got == count else { throw ToolError(.failure, "cannot read '\(name)' again: short read") }
  }

  func close() {
    if fd >= 0 {
      systemClose(fd)
      fd = -1
    }
  }
}
