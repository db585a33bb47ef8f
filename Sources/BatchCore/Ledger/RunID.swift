import Foundation

/// A random run id: `run-` and 16 hex digits.
func newRunID() -> String {
  var generator = SystemRandomNumberGenerator()
  return "run-" + String(generator.next() as UInt64, radix: 16).leftPadded(to: 16)
}
