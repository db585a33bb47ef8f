#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A run directory (`batch/` by default) and the files in it.
public struct RunDirectory: Sendable {
  /// The directory as given, used in every message.
  public let path: String

  public init(_ path: String) {
    var trimmed = path
    while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
    self.path = trimmed
  }

  public var ledgerPath: String { file("status.json") }
  public var itemsPath: String { file("items.jsonl") }
  public var promptPath: String { file("prompt.json") }
  public var classifiedPath: String { file("items_classified.jsonl") }
  public var inDirectory: String { file("in") }
  public var outDirectory: String { file("out") }
  /// An optional price table that overrides the bundled one.
  public var pricesPath: String { file("prices.json") }

  /// The path of `name` inside the run directory.
  public func file(_ name: String) -> String { "\(path)/\(name)" }

  /// The path of a request file in `in/`.
  public func requestPath(_ local: String) -> String { "\(inDirectory)/\(local)" }

  /// The path of a result file in `out/`.
  public func resultPath(_ local: String) -> String { "\(outDirectory)/\(local)" }

  /// Where batchline 0.1.0 staged downloads (FoundationNetworking wrote each
  /// response to `$TMPDIR`); a download now removes what a killed one left.
  public var incomingDirectory: String { "\(outDirectory)/.incoming" }

  /// Empties and removes ``incomingDirectory``, whatever a killed download
  /// left there. Call it with the run's lock held.
  public func clearIncoming() {
    let directory = incomingDirectory
    guard access(directory, F_OK) == 0 else { return }
    try? FileManager.default.removeItem(atPath: directory)
  }

  /// Creates `in/` and `out/` if they are missing.
  public func makeSubdirectories() throws {
    for directory in [path, inDirectory, outDirectory] {
      if mkdir(directory, 0o755) != 0 && errno != EEXIST {
        throw ToolError.system(.failure, "create", directory)
      }
    }
  }

  // MARK: - The ledger

  /// Whether `status.json` exists.
  public var hasLedger: Bool { access(ledgerPath, F_OK) == 0 }

  /// Reads the ledger.
  ///
  /// - Throws: ``ToolError`` 66 if it is missing, 65 if it is damaged (it
  ///   is then left untouched for a person to look at).
  public func loadLedger() throws -> Ledger {
    guard let data = FileManager.default.contents(atPath: ledgerPath) else {
      throw ToolError(.noInput, "cannot read '\(ledgerPath)': No such file; run batch-prepare first")
    }
    let ledger: Ledger
    do {
      ledger = try Self.decoder.decode(Ledger.self, from: data)
    } catch {
      throw ToolError(.dataError, "'\(ledgerPath)' is damaged (\(describe(error))); it was left as it is")
    }
    // Names from the ledger become paths: only the pipeline's own names pass.
    for file in ledger.files {
      let names = [file.inputFilename.local, file.outputFilenames?.ok.local, file.outputFilenames?.failed.local]
      for case let name? in names where !Self.isRunFileName(name) {
        throw ToolError(.dataError, "'\(ledgerPath)' names a file '\(name)' that is not one of the run's; it was left as it is")
      }
    }
    guard Self.isRunFileName(ledger.items.path) || ledger.items.path == "items.jsonl" else {
      throw ToolError(.dataError, "'\(ledgerPath)' names items '\(ledger.items.path)' outside the run; it was left as it is")
    }
    return ledger
  }

  /// Whether `name` is a plain file name the pipeline writes: `batch_NNN.jsonl`
  /// or `batch_NNN_error.jsonl`, with no directory part.
  static func isRunFileName(_ name: String) -> Bool {
    guard name.hasPrefix("batch_"), name.hasSuffix(".jsonl") else { return false }
    var middle = name.dropFirst("batch_".count).dropLast(".jsonl".count)
    if middle.hasSuffix("_error") { middle = middle.dropLast("_error".count) }
    return !middle.isEmpty && middle.allSatisfy { $0.isASCII && $0.isNumber }
  }

  /// Reads the ledger, lets `body` change it, and writes it back whole if it
  /// changed, all under an exclusive lock so that tools running at once
  /// cannot lose each other's changes.
  @discardableResult
  public func updateLedger<T>(_ body: (inout Ledger) throws -> T) throws -> T {
    let lock = try FileLock(path: path, exclusive: true, wait: true)
    defer { lock.release() }
    var ledger = try loadLedger()
    let before = ledger
    let result = try body(&ledger)
    if ledger != before { try writeLedgerUnlocked(ledger) }
    return result
  }

  /// Replaces the ledger with `ledger` (prepare starts a new run with it).
  public func replaceLedger(_ ledger: Ledger) throws {
    let lock = try FileLock(path: path, exclusive: true, wait: true)
    defer { lock.release() }
    try writeLedgerUnlocked(ledger)
  }

  private func writeLedgerUnlocked(_ ledger: Ledger) throws {
    var data = try Self.encoder.encode(ledger)
    data.append(0x0A)
    try AtomicFile.write([UInt8](data), to: ledgerPath, durable: true)
  }

  /// Takes the run's tool lock, so that two tools that call the API never
  /// work on the same run at once (which could pay twice).
  ///
  /// - Parameter waiting: Whether to wait (with a note) for another tool
  ///   that holds it, rather than fail.
  /// - Throws: ``ToolError`` 75 if another tool holds it and not `waiting`.
  public func lockRun(waiting: Bool = false) throws -> FileLock {
    let lockPath = file(".batchline.lock")
    let fd = open(lockPath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o666)
    guard fd >= 0 else {
      throw ToolError.system(.failure, "open", lockPath)
    }
    close(fd)
    if let lock = try? FileLock(path: lockPath, exclusive: true, wait: false) { return lock }
    guard waiting else {
      // A tool killed a moment ago (Ctrl-C, then the same command again)
      // holds its lock until the kernel has finished tearing it down: give
      // it two seconds before calling it another tool at work.
      for _ in 0..<40 {
        usleep(50_000)
        if let lock = try? FileLock(path: lockPath, exclusive: true, wait: false) { return lock }
      }
      throw ToolError(.tryAgainLater, "another batchline tool is working on '\(path)'; try again when it ends")
    }
    Diagnostics.note("another batchline tool is working on '\(path)'; waiting for it to end")
    return try FileLock(path: lockPath, exclusive: true, wait: true)
  }

  /// Removes what a killed tool left in the run directory, `in/` and
  /// `out/`: temporary files of atomic writes (`status.json`'s,
  /// `items_classified.jsonl`'s), multipart bodies, partial downloads. Call
  /// it with the run lock held, so that no live tool's files go.
  public func removeLeftovers() {
    let fm = FileManager.default
    for directory in [inDirectory, outDirectory] {
      for name in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] {
        let isTemporary = name.hasPrefix(".") && (name.contains(".tmp.") || name.hasSuffix(".upload"))
        if isTemporary || name.hasSuffix(".part") { unlink("\(directory)/\(name)") }
      }
    }
    // The run directory holds the user's own files too: only the exact
    // shape of an atomic write's temporary name goes.
    for name in (try? fm.contentsOfDirectory(atPath: path)) ?? [] where Self.isTemporaryName(name) {
      unlink(file(name))
    }
    clearIncoming()
  }

  /// Whether `name` is the temporary file of an ``AtomicFile``: `.<name>.tmp.` and six letters or digits.
  static func isTemporaryName(_ name: String) -> Bool {
    guard name.hasPrefix("."), let marker = name.range(of: ".tmp.", options: .backwards) else { return false }
    let suffix = name[marker.upperBound...]
    return suffix.count == 6 && suffix.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
  }

  static let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    return encoder
  }()

  static let decoder: JSONDecoder = {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return decoder
  }()
}

/// A short description of a decoding error, without Foundation's noise.
func describe(_ error: Error) -> String {
  switch error {
  case DecodingError.dataCorrupted(let context):
    return context.debugDescription.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
  case DecodingError.keyNotFound(let key, _):
    return "'\(key.stringValue)' is missing"
  case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
    let path = context.codingPath.map(\.stringValue).joined(separator: ".")
    return "'\(path)' has the wrong type"
  default:
    return "\(error)"
  }
}
