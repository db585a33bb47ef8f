import Foundation

/// A line reader that can look at its next line before taking it.
///
/// The line stays in the reader's buffer until it is taken: nothing is
/// copied, since each reader has a buffer of its own.
final class PeekingReader {
  private let reader: InputLines
  // Unchecked: read and written only here, one call at a time; the checks
  // at run time were 7% of the thread that reads the files.
  @exclusivity(unchecked) private var current: UnsafeBufferPointer<UInt8>?
  @exclusivity(unchecked) private var currentID: Range<Int>?

  init(path: String) throws {
    reader = try InputLines(path: path)
  }

  /// The file's name, for messages.
  var name: String { reader.name }
  /// The file, when it is mapped (its lines then stay where they are).
  var mappedFile: MappedFile? { reader.file }
  var isMapped: Bool { reader.file != nil }
  /// How far behind its position the reader keeps the file's pages mapped.
  var keepBehind: Int {
    get { reader.keepBehind }
    set { reader.keepBehind = newValue }
  }
  /// The number of the line last taken or looked at.
  var lineNumber: Int { reader.lineNumber }

  /// The next line if its `custom_id` is `id`, parsed; else nil.
  func take(_ id: [UInt8]) throws -> ResultLine? {
    guard let line = try takeLine(id) else { return nil }
    do {
      return try ResultLine(line)
    } catch let error as JSONSyntaxError {
      throw ToolError.dataError(reader.name, line: reader.lineNumber, "not valid JSON: \(error.reason)")
    }
  }

  /// The next line if its `custom_id` is `id`, as it is (valid until the
  /// reader moves on); else nil. Only the line's top level up to the id is
  /// checked.
  func takeLine(_ id: [UInt8]) throws -> UnsafeBufferPointer<UInt8>? {
    if current == nil {
      guard let line = try reader.nextLine() else { return nil }
      current = line
      do {
        currentID = try ResultLine.customID(of: line)
      } catch let error as JSONSyntaxError {
        throw ToolError.dataError(reader.name, line: reader.lineNumber, "not valid JSON: \(error.reason)")
      }
    }
    guard let line = current, let range = currentID, sameID(line, range, id) else { return nil }
    current = nil
    return line
  }

  /// The file and line of a line not taken yet, if any.
  func leftover() throws -> (name: String, number: Int)? {
    if current != nil { return (reader.name, reader.lineNumber) }
    while let line = try reader.nextLine() {
      if !line.isEmpty { return (reader.name, reader.lineNumber) }
    }
    return nil
  }

  /// Whether the escaped id at `range` of `line` spells `id`.
  private func sameID(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ id: [UInt8]) -> Bool {
    let raw = UnsafeBufferPointer(rebasing: line[range])
    if raw.count == id.count
      && id.withUnsafeBufferPointer({ raw.count == 0 || memcmp(raw.baseAddress!, $0.baseAddress!, raw.count) == 0 })
    {
      return true
    }
    guard raw.contains(UInt8(ascii: "\\")) else { return false }
    return JSONScanner(line).decodeString(contents: range) == id
  }
}
