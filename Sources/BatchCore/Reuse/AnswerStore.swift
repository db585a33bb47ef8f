#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Answers already paid for, on disk, by request digest.
///
/// The store is a directory of segments, one per request file of a
/// finished run: `NAME.answers` holds the answer lines as downloaded, and
/// `NAME.index` a header and fixed-size records (digest, offset, length)
/// sorted by digest. Lookups map the index and search it by halves, so a
/// million answers take no memory beyond the pages touched. A segment is
/// written whole or not at all: the answers first, the index last, each
/// renamed into place; an answers file without its index is not a segment.
///
/// Nothing in it is trusted blindly: the index header carries the SHA-256
/// of the answers file and of the records, checked when the store opens;
/// a segment that fails is left out with a note, so a damaged store costs
/// a request sent again, never a wrong answer.
final class AnswerStore {
  let directory: String
  private var segments: [Segment] = []
  /// The names of the segments present (whole), damaged ones included.
  private(set) var names: Set<String> = []

  private struct Segment {
    let index: MappedFile
    let answers: MappedFile
    let count: Int
  }

  static let magic = Array("BLANSWR1".utf8)
  /// Magic, count, answers' size, answers' SHA-256, records' SHA-256.
  static let headerSize = 8 + 8 + 8 + 32 + 32
  /// Digest, offset, length.
  static let recordSize = RequestDigest.byteCount + 8 + 8

  /// Opens the store at `directory`; a missing directory is an empty store.
  init(directory: String) {
    self.directory = directory
    let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    for file in files.sorted() where file.hasSuffix(".index") && !file.hasPrefix(".") {
      let name = String(file.dropLast(".index".count))
      names.insert(name)
      do {
        if let segment = try Self.open(directory: directory, name: name) { segments.append(segment) }
      } catch let error as DamagedSegment {
        Diagnostics.note("'\(directory)/\(name).index': \(error.reason); its answers are not reused")
      } catch {
        Diagnostics.note("'\(directory)/\(name).index' cannot be read; its answers are not reused")
      }
    }
  }

  /// Whether the store has any answer.
  var isEmpty: Bool { segments.isEmpty }

  private struct DamagedSegment: Error { let reason: String }

  /// Opens and checks one segment; nil for one without answers.
  private static func open(directory: String, name: String) throws -> Segment? {
    guard let index = try MappedFile.map(path: "\(directory)/\(name).index"), let header = index.base,
      index.count >= headerSize, memcmp(header, magic, magic.count) == 0
    else { throw DamagedSegment(reason: "not an index of answers") }
    let raw = UnsafeRawPointer(header)
    let count = Int(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
    let answersSize = Int(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)))
    guard count >= 0, count <= (index.count - headerSize) / recordSize, index.count == headerSize + count * recordSize else {
      throw DamagedSegment(reason: "its size does not match its count")
    }
    var recordsSHA = SHA256()
    recordsSHA.update(UnsafeRawBufferPointer(start: raw + headerSize, count: count * recordSize))
    guard recordsSHA.finalizeHex() == hex(raw + 56) else { throw DamagedSegment(reason: "its records do not match their digest") }
    guard count > 0 else { return nil }
    let answersPath = "\(directory)/\(name).answers"
    guard let answers = try MappedFile.map(path: answersPath), answers.count == answersSize,
      try SHA256.hexDigest(ofFile: answersPath) == hex(raw + 24)
    else { throw DamagedSegment(reason: "its answers file is missing or changed") }
    return Segment(index: index, answers: answers, count: count)
  }

  private static func hex(_ bytes: UnsafeRawPointer) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    for i in 0..<32 {
      let byte = bytes.load(fromByteOffset: i, as: UInt8.self)
      text.append(digits[Int(byte >> 4)])
      text.append(digits[Int(byte & 15)])
    }
    return String(decoding: text, as: UTF8.self)
  }

  /// The answer line stored for `digest` (without its newline), or nil.
  func answer(for digest: RequestDigest) -> UnsafeBufferPointer<UInt8>? {
    for segment in segments.reversed() {
      let records = UnsafeRawPointer(segment.index.base!) + Self.headerSize
      var low = 0
      var high = segment.count
      while low < high {
        let mid = (low + high) / 2
        let found = RequestDigest(bytes: records + mid * Self.recordSize)
        if found < digest { low = mid + 1 } else { high = mid }
      }
      guard low < segment.count else { continue }
      let record = records + low * Self.recordSize
      guard RequestDigest(bytes: record) == digest else { continue }
      let offset = Int(UInt64(littleEndian: record.loadUnaligned(fromByteOffset: 32, as: UInt64.self)))
      let length = Int(UInt64(littleEndian: record.loadUnaligned(fromByteOffset: 40, as: UInt64.self)))
      guard offset >= 0, length > 0, length <= segment.answers.count, offset <= segment.answers.count - length else { continue }
      return segment.answers.bytes(offset..<(offset + length))
    }
    return nil
  }
}

/// Writes one segment of the store: answer lines as they come, then the
/// sorted index. Memory holds one record (48 bytes) per answer of the
/// segment, that is of one request file (50,000 at most).
final class AnswerSegmentWriter {
  private let directory: String
  private let name: String
  private let answers: AtomicFile
  private var sha = SHA256()
  private var records: [(digest: RequestDigest, offset: UInt64, length: UInt64)] = []
  private var size = 0

  init(directory: String, name: String) throws {
    if mkdir(directory, 0o755) != 0 && errno != EEXIST {
      throw ToolError.system(.failure, "create", directory)
    }
    self.directory = directory
    self.name = name
    answers = try AtomicFile(path: "\(directory)/\(name).answers", durable: true)
  }

  /// Adds an answer line (without its newline).
  func add(_ line: UnsafeBufferPointer<UInt8>, digest: RequestDigest) throws {
    try answers.writer.write(line)
    try answers.writer.write([0x0A])
    sha.update(UnsafeRawBufferPointer(line))
    withUnsafeBytes(of: UInt8(0x0A)) { sha.update($0) }
    records.append((digest, UInt64(size), UInt64(line.count)))
    size += line.count + 1
  }

  /// Puts the segment in place: the answers, then the index that makes them count.
  func commit() throws {
    try answers.commit()
    records.sort { $0.digest < $1.digest }
    var body: [UInt8] = []
    body.reserveCapacity(records.count * AnswerStore.recordSize)
    for record in records {
      record.digest.write(to: &body)
      withUnsafeBytes(of: record.offset.littleEndian) { body.append(contentsOf: $0) }
      withUnsafeBytes(of: record.length.littleEndian) { body.append(contentsOf: $0) }
    }
    var recordsSHA = SHA256()
    body.withUnsafeBytes { recordsSHA.update($0) }
    var index = AnswerStore.magic
    withUnsafeBytes(of: UInt64(records.count).littleEndian) { index.append(contentsOf: $0) }
    withUnsafeBytes(of: UInt64(size).littleEndian) { index.append(contentsOf: $0) }
    index.append(contentsOf: Self.bytes(hex: sha.finalizeHex()))
    index.append(contentsOf: Self.bytes(hex: recordsSHA.finalizeHex()))
    index.append(contentsOf: body)
    try AtomicFile.write(index, to: "\(directory)/\(name).index", durable: true)
  }

  func abandon() { answers.abandon() }

  private static func bytes(hex: String) -> [UInt8] {
    var out: [UInt8] = []
    let digest = RequestDigest(hex: hex)!
    digest.write(to: &out)
    return out
  }
}
