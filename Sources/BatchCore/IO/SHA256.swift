#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SHA-256 (FIPS 180-4), for the content digest that identifies a request
/// file across crashes.
///
/// The toolchain ships no hash on Linux. libcurl, which every tool that
/// calls the API loads, needs OpenSSL's libcrypto, whose SHA-256 uses the
/// CPU's SHA instructions, several times the speed of portable code
/// (docs/PERFORMANCE.md). So the hasher uses libcrypto when the system has
/// it, and the portable implementation below otherwise; both give the same
/// digest.
public struct SHA256 {
  private var native: NativeSHA256?
  private var portable = PortableSHA256()

  /// A hasher; OpenSSL's when the system has it.
  public init() { native = NativeSHA256.make() }

  /// A hasher that never uses OpenSSL (for tests that compare the two).
  init(portableOnly: Bool) { native = portableOnly ? nil : NativeSHA256.make() }

  /// Whether this hasher runs on OpenSSL.
  var usesOpenSSL: Bool { native != nil }

  /// Adds bytes to the message.
  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    guard native != nil else { return portable.update(bytes) }
    if !isKnownUniquelyReferenced(&native!) { native = native!.copy() }
    native!.update(bytes)
  }

  /// The digest, as 64 lowercase hex digits.
  public mutating func finalizeHex() -> String {
    guard native != nil else { return portable.finalizeHex() }
    if !isKnownUniquelyReferenced(&native!) { native = native!.copy() }
    return native!.finalizeHex()
  }

  /// The digest of a file's bytes, read in 1 MiB blocks.
  ///
  /// - Throws: ``ToolError`` 66 if the file cannot be read.
  public static func hexDigest(ofFile path: String) throws -> String {
    try digest(ofFile: path).hex
  }

  /// The digest of a file's bytes and how many there were, from one read of it.
  ///
  /// - Throws: ``ToolError`` 66 if the file cannot be read.
  public static func digest(ofFile path: String) throws -> (hex: String, bytes: Int64) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw ToolError.system(.noInput, "read", path) }
    defer { close(fd) }
    var hasher = SHA256()
    var bytes: Int64 = 0
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { buffer.deallocate() }
    while true {
      let n = read(fd, buffer.baseAddress!, buffer.count)
      if n < 0 {
        if errno == EINTR { continue }
        throw ToolError.system(.failure, "read", path)
      }
      if n == 0 { break }
      hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
      bytes += Int64(n)
    }
    return (hasher.finalizeHex(), bytes)
  }
}

/// Lowercase hex of 32-bit words, most significant first.
private func hex(_ words: [UInt32]) -> String {
  words.map { String($0, radix: 16).leftPadded(to: 8) }.joined()
}

/// OpenSSL's EVP SHA-256, from the libcrypto that libcurl needs and so
/// every system running batchline has. Copy-on-write through ``copy()``.
private final class NativeSHA256 {
  private typealias New = @convention(c) () -> OpaquePointer?
  private typealias Free = @convention(c) (OpaquePointer?) -> Void
  private typealias Method = @convention(c) () -> OpaquePointer?
  private typealias Initialize = @convention(c) (OpaquePointer?, OpaquePointer?, OpaquePointer?) -> Int32
  private typealias Update = @convention(c) (OpaquePointer?, UnsafeRawPointer?, Int) -> Int32
  private typealias Final = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt32>?) -> Int32
  private typealias Copy = @convention(c) (OpaquePointer?, OpaquePointer?) -> Int32

  private struct Library {
    let new: New, free: Free, sha256: Method, initialize: Initialize, update: Update, final: Final, copy: Copy
  }

  /// The names of libcrypto's shared library (OpenSSL 3, then 1.1).
  private static let libraryNames = ["libcrypto.so.3", "libcrypto.so.1.1"]

  /// libcrypto's functions, or nil when the system has none that works.
  private static let library: Library? = {
    #if canImport(Glibc)
      guard let handle = libraryNames.lazy.compactMap({ dlopen($0, RTLD_NOW | RTLD_LOCAL) }).first else { return nil }
    #else
      let handle: UnsafeMutableRawPointer? = nil
    #endif
    func symbol<T>(_ name: String, as type: T.Type) -> T? {
      #if canImport(Glibc)
        guard let address = dlsym(handle, name) else { return nil }
        return unsafeBitCast(address, to: type)
      #else
        return nil
      #endif
    }
    guard let new = symbol("EVP_MD_CTX_new", as: New.self),
      let free = symbol("EVP_MD_CTX_free", as: Free.self),
      let sha256 = symbol("EVP_sha256", as: Method.self),
      let initialize = symbol("EVP_DigestInit_ex", as: Initialize.self),
      let update = symbol("EVP_DigestUpdate", as: Update.self),
      let final = symbol("EVP_DigestFinal_ex", as: Final.self),
      let copy = symbol("EVP_MD_CTX_copy_ex", as: Copy.self)
    else { return nil }
    let library = Library(
      new: new, free: free, sha256: sha256, initialize: initialize, update: update, final: final, copy: copy)
    // Trust it only once it has hashed "abc" right.
    guard let probe = NativeSHA256(library) else { return nil }
    Array("abc".utf8).withUnsafeBytes { probe.update($0) }
    guard probe.finalizeHex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" else { return nil }
    return library
  }()

  private let library: Library
  private let context: OpaquePointer

  static func make() -> NativeSHA256? { library.flatMap { NativeSHA256($0) } }

  private init?(_ library: Library) {
    guard let context = library.new() else { return nil }
    guard library.initialize(context, library.sha256(), nil) == 1 else {
      library.free(context)
      return nil
    }
    self.library = library
    self.context = context
  }

  private init(copying other: NativeSHA256, into context: OpaquePointer) {
    library = other.library
    self.context = context
  }

  deinit { library.free(context) }

  func copy() -> NativeSHA256 {
    guard let context = library.new(), library.copy(context, self.context) == 1 else {
      fatalError("OpenSSL could not copy a SHA-256 context")
    }
    return NativeSHA256(copying: self, into: context)
  }

  func update(_ bytes: UnsafeRawBufferPointer) {
    guard bytes.count > 0 else { return }
    guard library.update(context, bytes.baseAddress, bytes.count) == 1 else {
      fatalError("OpenSSL's SHA-256 update failed")
    }
  }

  func finalizeHex() -> String {
    var digest = [UInt8](repeating: 0, count: 32)
    var length: UInt32 = 0
    guard library.final(context, &digest, &length) == 1, length == 32 else {
      fatalError("OpenSSL's SHA-256 final failed")
    }
    return digest.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
  }
}

/// SHA-256 in portable Swift, as fast as coreutils' sha256sum.
struct PortableSHA256 {
  private var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (
    0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19
  )
  private var block = [UInt8](repeating: 0, count: 64)
  private var blockCount = 0
  private var length: UInt64 = 0

  private static let k: [UInt32] = [
    0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
    0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
    0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
    0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
    0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
    0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
    0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
    0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
  ]

  /// Adds bytes to the message.
  mutating func update(_ bytes: UnsafeRawBufferPointer) {
    length += UInt64(bytes.count)
    var i = 0
    if blockCount > 0 {
      while blockCount < 64 && i < bytes.count {
        block[blockCount] = bytes[i]
        blockCount += 1
        i += 1
      }
      if blockCount == 64 {
        block.withUnsafeBytes { compress($0.baseAddress!) }
        blockCount = 0
      }
    }
    while bytes.count - i >= 64 {
      compress(bytes.baseAddress! + i)
      i += 64
    }
    while i < bytes.count {
      block[blockCount] = bytes[i]
      blockCount += 1
      i += 1
    }
  }

  /// The digest, as 64 lowercase hex digits.
  mutating func finalizeHex() -> String {
    let bitLength = length &* 8
    var padding: [UInt8] = [0x80]
    let used = (blockCount + 1) % 64
    padding += [UInt8](repeating: 0, count: used <= 56 ? 56 - used : 120 - used)
    for shift in stride(from: 56, through: 0, by: -8) { padding.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
    let saved = length
    padding.withUnsafeBytes { update($0) }
    length = saved
    return hex([state.0, state.1, state.2, state.3, state.4, state.5, state.6, state.7])
  }

  @inline(__always) private func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }

  private mutating func compress(_ p: UnsafeRawPointer) {
    state = withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
      for t in 0..<16 {
        w[t] = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: t * 4, as: UInt32.self))
      }
      for t in 16..<64 {
        let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
        let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
        w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
      }
      var (a, b, c, d, e, f, g, h) = state
      Self.k.withUnsafeBufferPointer { k in
        for t in 0..<64 {
          let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
          let ch = (e & f) ^ (~e & g)
          let t1 = h &+ s1 &+ ch &+ k[t] &+ w[t]
          let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
          let maj = (a & b) ^ (a & c) ^ (b & c)
          (h, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ s0 &+ maj)
        }
      }
      return (
        state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d, state.4 &+ e, state.5 &+ f, state.6 &+ g, state.7 &+ h
      )
    }
  }
}
