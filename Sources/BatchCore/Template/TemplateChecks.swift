import Foundation

// What prompt.json must not say, found where it is said (for `file:line:`):
// JSON allows a key twice, and readers differ on which one wins, so the
// request the user reads is not certainly the one that is sent; and the
// output field becomes a key of every merged line, so it must be a name,
// not JSON text.
enum TemplateChecks {
  /// The first key that appears twice in one object, anywhere in the value at `range`.
  ///
  /// - Returns: The key's offset and decoded text, or nil.
  static func firstDuplicateKey(_ scanner: JSONScanner, _ range: Range<Int>) -> (offset: Int, key: String)? {
    var found: (offset: Int, key: String)?
    switch scanner.kind(at: range.lowerBound) {
    case .object?:
      var keys = Set<[UInt8]>()
      _ = try? scanner.forEachMember(ofObjectAt: range.lowerBound) { key, value in
        let name = scanner.decodeString(contents: key)
        if !keys.insert(name).inserted {
          found = (key.lowerBound, String(decoding: name, as: UTF8.self))
        } else {
          found = firstDuplicateKey(scanner, value)
        }
        return found == nil
      }
    case .array?:
      _ = try? scanner.forEachElement(ofArrayAt: range.lowerBound) { value in
        found = firstDuplicateKey(scanner, value)
        return found == nil
      }
    default:
      break
    }
    return found
  }

  /// Whether `name` may be the output field: letters, digits, `_` and `-`.
  static func isPlainName(_ name: String) -> Bool {
    !name.isEmpty && name.utf8.allSatisfy { byte in
      (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
        || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }
  }

  /// The line (from 1) of the byte at `offset`.
  static func line(of offset: Int, in bytes: [UInt8]) -> Int {
    bytes.prefix(offset).filter { $0 == 0x0A }.count + 1
  }
}
