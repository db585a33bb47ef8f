#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

// A run replaced by a new prepare, or forgotten by make clean without a
// key, may still have files on the server. Its ledger is kept as
// `.forgotten/RUN_ID.json` so that `make cleaned` can find and delete them
// later: nothing of a run stays on the server unknown to the tools.
extension RunDirectory {
  var forgottenDirectory: String { file(".forgotten") }

  /// Keeps `ledger` for a later cleanup if the server may still hold files
  /// of it; returns how many files the ledger records there.
  @discardableResult
  func keepForCleanup(_ ledger: Ledger) throws -> Int {
    guard ledger.mayHaveRemoteFiles else { return 0 }
    if mkdir(forgottenDirectory, 0o755) != 0 && errno != EEXIST {
      throw ToolError.system(.failure, "create", forgottenDirectory)
    }
    var data = try Self.encoder.encode(ledger)
    data.append(0x0A)
    try AtomicFile.write([UInt8](data), to: forgottenPath(ledger.runId), durable: true)
    return ledger.remoteFileCount
  }

  func forgottenPath(_ runId: String) -> String {
    // The run id is ours (RunID), but the file may have been edited.
    let safe = runId.filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    return "\(forgottenDirectory)/\(safe).json"
  }

  /// The kept ledgers, each with its path; a file that does not decode is
  /// reported and skipped.
  func forgottenLedgers() -> [(path: String, ledger: Ledger)] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: forgottenDirectory)) ?? []
    var found: [(String, Ledger)] = []
    for name in names.sorted() where name.hasSuffix(".json") && !name.hasPrefix(".") {
      let path = "\(forgottenDirectory)/\(name)"
      guard let data = FileManager.default.contents(atPath: path),
        let ledger = try? Self.decoder.decode(Ledger.self, from: data)
      else {
        Diagnostics.note("'\(path)' is damaged; it was left as it is")
        continue
      }
      found.append((path, ledger))
    }
    return found
  }
}

extension Ledger {
  /// Remote files the ledger records and has not deleted.
  var remoteFileCount: Int { remoteFileIDs.count }

  /// The ids of the remote files the ledger records and has not deleted.
  var remoteFileIDs: [String] {
    files.flatMap { file in
      [
        file.inputFilename.isRemoteDeleted == true ? nil : file.inputFilename.remote,
        file.outputFilenames?.ok.isRemoteDeleted == true ? nil : file.outputFilenames?.ok.remote,
        file.outputFilenames?.failed.isRemoteDeleted == true ? nil : file.outputFilenames?.failed.remote,
      ].compactMap { $0 }
    }
  }

  /// Whether the server may hold files of this run: recorded ones, or an
  /// upload started whose answer was never recorded.
  var mayHaveRemoteFiles: Bool {
    remoteFileCount > 0 || files.contains { $0.inputFilename.uploadStartedAt != nil && $0.inputFilename.remote == nil }
  }
}
