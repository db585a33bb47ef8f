// IDs/: custom_ids by the million: a seeded byte hash, the table sort
// places result lines with, and prepare's duplicate check.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The ids of a request file in order, and each id's place: a flat
/// open-addressing table over one byte arena.
///
/// Looking an id up neither allocates nor hashes with SipHash. An id added
/// twice keeps its last place, as a dictionary's assignment would. A slot
/// holds the place and 32 bits of the hash, so that a probe touches the id's
/// bytes only when the hashes agree: the lookups are cache misses, and were
/// a tenth of sort's time with the hashes in an array of their own.
struct IDTable {
  /// The ids, back to back.
  private var arena: [UInt8] = []
  /// Where id `n` starts in `arena`; one more entry marks the end.
  private var starts: [Int] = [0]
  /// Slots: the hash's top 32 bits, then `place + 1`; 0 when empty.
  private var slots: [UInt64]
  private var mask: Int
  private(set) var count = 0

  /// - Parameter capacity: The number of ids expected (a hint).
  init(capacity: Int = 0) {
    var size = 1024
    while size < 2 * capacity { size *= 2 }
    slots = [UInt64](repeating: 0, count: size)
    mask = size - 1
    starts.reserveCapacity(capacity + 1)
  }

  /// The id at `index`.
  func id(at index: Int) -> [UInt8] {
    Array(arena[starts[index]..<starts[index + 1]])
  }

  @inline(__always)
  private static func tag(_ hash: UInt64) -> UInt64 { hash & 0xFFFF_FFFF_0000_0000 }

  @inline(__always)
  private static func place(_ entry: UInt64) -> Int { Int(entry & 0xFFFF_FFFF) - 1 }

  /// Adds the next id; a repeated id now has this later place.
  mutating func append(_ id: UnsafeBufferPointer<UInt8>) {
    precondition(count < Int(UInt32.max))
    let index = count
    let hash = ByteHash.hash(id)
    arena.append(contentsOf: id)
    starts.append(arena.count)
    count += 1
    if 2 * count > slots.count { grow() }
    let entry = Self.tag(hash) | UInt64(index + 1)
    var slot = Int(truncatingIfNeeded: hash) & mask
    while true {
      let occupant = slots[slot]
      if occupant == 0 || (Self.tag(occupant) == Self.tag(hash) && equals(Self.place(occupant), id)) {
        slots[slot] = entry
        return
      }
      slot = (slot + 1) & mask
    }
  }

  /// The place of `id`, or nil when the table does not have it.
  func position(of id: UnsafeBufferPointer<UInt8>) -> Int? {
    let hash = ByteHash.hash(id)
    var slot = Int(truncatingIfNeeded: hash) & mask
    while true {
      let occupant = slots[slot]
      if occupant == 0 { return nil }
      if Self.tag(occupant) == Self.tag(hash) && equals(Self.place(occupant), id) { return Self.place(occupant) }
      slot = (slot + 1) & mask
    }
  }

  @inline(__always)
  private func equals(_ index: Int, _ id: UnsafeBufferPointer<UInt8>) -> Bool {
    let start = starts[index]
    let length = starts[index + 1] - start
    guard length == id.count else { return false }
    return arena.withUnsafeBufferPointer { arena in
      length == 0 || memcmp(arena.baseAddress! + start, id.baseAddress!, length) == 0
    }
  }

  /// Doubles the slots and places every id in them again.
  private mutating func grow() {
    let old = slots
    let size = slots.count * 2
    slots = [UInt64](repeating: 0, count: size)
    mask = size - 1
    // The old slots hold each id once, at its latest place; the hash's low
    // bits, which choose the slot, are computed again from the id.
    for occupant in old where occupant != 0 {
      let index = Self.place(occupant)
      let hash = arena.withUnsafeBufferPointer { ByteHash.hash(UnsafeBufferPointer(rebasing: $0[starts[index]..<starts[index + 1]])) }
      var slot = Int(truncatingIfNeeded: hash) & mask
      while slots[slot] != 0 { slot = (slot + 1) & mask }
      slots[slot] = occupant
    }
  }
}
