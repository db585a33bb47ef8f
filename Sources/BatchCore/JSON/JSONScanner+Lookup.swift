#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Comparing keys, and finding values by name, index or path.
extension JSONScanner {
  /// Whether a key handed out by ``walkMembers(ofObjectAt:depth:_:)`` equals
  /// `name` (compared as decoded text). A key without escapes equals the
  /// name only with the same bytes, which saves looking for a backslash
  /// (5% of merge).
  @inline(__always)
  public func key(_ key: JSONKey, equals name: StaticString) -> Bool {
    name.withUTF8Buffer { self.key(key, equals: $0) }
  }

  /// Whether a key handed out by ``walkMembers(ofObjectAt:depth:_:)`` equals
  /// the UTF-8 text `name`.
  @inline(__always)
  public func key(_ key: JSONKey, equals name: UnsafeBufferPointer<UInt8>) -> Bool {
    guard !key.hasEscape else { return self.key(key.range, equals: name) }
    let m = name.count
    return key.range.count == m && (m == 0 || memcmp(bytes.baseAddress! + key.range.lowerBound, name.baseAddress!, m) == 0)
  }

  /// Whether the escaped key at `range` equals `name` (compared as decoded text).
  @inline(__always)
  public func key(_ range: Range<Int>, equals name: [UInt8]) -> Bool {
    name.withUnsafeBufferPointer { key(range, equals: $0) }
  }

  /// Whether the escaped key at `range` equals `name` (compared as decoded
  /// text). A name known when compiling costs no reference counting as a
  /// literal, where the per-line walks spent a fifth of their time retaining
  /// and releasing arrays of names.
  @inline(__always)
  public func key(_ range: Range<Int>, equals name: StaticString) -> Bool {
    name.withUTF8Buffer { key(range, equals: $0) }
  }

  /// Whether the escaped key at `range` equals the UTF-8 text `name`.
  @inline(__always)
  public func key(_ range: Range<Int>, equals name: UnsafeBufferPointer<UInt8>) -> Bool {
    let n = range.count
    guard n >= name.count else { return false }
    // Most keys differ from the name in their first byte, which is the
    // first byte of the text unless it starts an escape: rejecting those
    // here, inline, halved the cost of matching keys in merge.
    if n > 0 && !name.isEmpty {
      let first = bytes[range.lowerBound]
      if first != name[0] && first != UInt8(ascii: "\\") { return false }
    }
    return keyMatches(range, name)
  }

  private func keyMatches(_ range: Range<Int>, _ name: UnsafeBufferPointer<UInt8>) -> Bool {
    let n = range.count
    let base = bytes.baseAddress! + range.lowerBound
    if n == name.count {
      let same = n == 0 || memcmp(base, name.baseAddress!, n) == 0
      // The same bytes are the same text only without escapes: the key `\n`
      // is a line feed, not the two bytes of the name `\n`.
      if same { return memchr(base, 0x5C, n) == nil || decodeString(contents: range).elementsEqual(name) }
      return false
    }
    // An escaped key is longer than the text it spells.
    guard memchr(base, 0x5C, n) != nil else { return false }
    return decodeString(contents: range).elementsEqual(name)
  }

  /// The value of `name` in the object at `i`: the last member with that key.
  public func member(_ name: [UInt8], ofObjectAt i: Int) throws -> Range<Int>? {
    var found: Range<Int>?
    try forEachMember(ofObjectAt: i) { key, value in
      if self.key(key, equals: name) { found = value }
      return true
    }
    return found
  }

  /// The element at `index` of the array at `i`.
  public func element(_ index: Int, ofArrayAt i: Int) throws -> Range<Int>? {
    var found: Range<Int>?
    var n = 0
    try forEachElement(ofArrayAt: i) { value in
      if n == index {
        found = value
        return false
      }
      n += 1
      return true
    }
    return found
  }

  /// Follows `path` (object keys, or array indices for all-digit parts) from
  /// the value at `range`.
  ///
  /// - Returns: The range of the value found, or nil where a part is missing.
  public func value(at path: [JSONPathComponent], in range: Range<Int>) throws -> Range<Int>? {
    var current = range
    for component in path {
      switch kind(at: current.lowerBound) {
      case .object?:
        guard let next = try member(component.key, ofObjectAt: current.lowerBound) else { return nil }
        current = next
      case .array?:
        guard let index = component.index,
          let next = try element(index, ofArrayAt: current.lowerBound)
        else { return nil }
        current = next
      default:
        return nil
      }
    }
    return current
  }
}
