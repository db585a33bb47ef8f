import Foundation

/// Buffers of one size, handed out and taken back by any thread, so that
/// large buffers are allocated once per thread rather than once per use.
final class BufferPool: @unchecked Sendable {
  private let monitor = Monitor()
  private var free: [UnsafeMutableRawBufferPointer] = []
  let size: Int

  init(size: Int) {
    self.size = size
  }

  func take() -> UnsafeMutableRawBufferPointer {
    monitor.locked { free.popLast() } ?? .allocate(byteCount: size, alignment: 64)
  }

  func give(_ buffer: UnsafeMutableRawBufferPointer) {
    monitor.locked { free.append(buffer) }
  }
}
