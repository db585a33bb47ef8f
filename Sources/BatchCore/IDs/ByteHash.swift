#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A seeded 64-bit hash of byte strings, for the per-line tables.
///
/// Per line, `Hasher` (SipHash) and a `Dictionary<[UInt8], _>` (one array
/// per key) took a quarter of sort's time. This hash reads eight bytes at a
/// time and mixes with 64×64→128-bit multiplications (as wyhash does); the
/// seed is random per process, so that ids made to collide in one run do
/// not collide in the next.
enum ByteHash {
  static let seed: (UInt64, UInt64) = {
    var generator = SystemRandomNumberGenerator()
    return (generator.next(), generator.next())
  }()

  @inline(__always)
  private static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
    let product = a.multipliedFullWidth(by: b)
    return product.high ^ product.low
  }

  @inline(__always)
  private static func load(_ p: UnsafeRawPointer, _ count: Int) -> UInt64 {
    if count >= 8 { return UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)) }
    var value: UInt64 = 0
    for k in 0..<count { value |= UInt64(p.load(fromByteOffset: k, as: UInt8.self)) << (8 * UInt64(k)) }
    return value
  }

  static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
    let (s0, s1) = seed
    let n = bytes.count
    var h = s0 ^ (UInt64(n) &* 0x9E37_79B9_7F4A_7C15)
    guard let base = bytes.baseAddress.map(UnsafeRawPointer.init) else { return mix(h, s1) }
    var i = 0
    while i + 16 <= n {
      h = mix(load(base + i, 8) ^ 0xA076_1D64_78BD_642F ^ h, load(base + i + 8, 8) ^ s1)
      i += 16
    }
    let rest = n - i
    let a = load(base + i, min(rest, 8))
    let b = rest > 8 ? load(base + i + 8, rest - 8) : 0
    h = mix(a ^ 0xE703_7ED1_A0B4_28DB ^ h, b ^ s1)
    return mix(h ^ 0x8EBC_6AF0_9C88_C6E3, UInt64(n) ^ 0x5899_65CC_7537_4CC3)
  }
}
