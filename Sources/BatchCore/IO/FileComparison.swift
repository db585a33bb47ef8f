#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Whether two paths name the same file (the same device and inode).
func isSameFile(_ a: String, _ b: String) -> Bool {
  var x = stat()
  var y = stat()
  guard stat(a, &x) == 0, stat(b, &y) == 0 else { return false }
  return x.st_dev == y.st_dev && x.st_ino == y.st_ino
}

/// Whether two files have the same bytes.
func filesEqual(_ a: String, _ b: String) -> Bool {
  let x = open(a, O_RDONLY | O_CLOEXEC)
  let y = open(b, O_RDONLY | O_CLOEXEC)
  defer {
    if x >= 0 { close(x) }
    if y >= 0 { close(y) }
  }
  guard x >= 0, y >= 0 else { return false }
  let size = 1 << 16
  var left = [UInt8](repeating: 0, count: size)
  var right = [UInt8](repeating: 0, count: size)
  while true {
    let n = readFully(x, &left)
    let m = readFully(y, &right)
    guard n == m, n >= 0 else { return false }
    if n == 0 { return true }
    if memcmp(left, right, n) != 0 { return false }
  }
}

/// Reads until `buffer` is full or the file ends; -1 on an error.
private func readFully(_ fd: Int32, _ buffer: inout [UInt8]) -> Int {
  var filled = 0
  let count = buffer.count
  while filled < count {
    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, count - filled) }
    if n < 0 {
      if errno == EINTR { continue }
      return -1
    }
    if n == 0 { break }
    filled += n
  }
  return filled
}
