#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The C library's `write` and `close`, under names that the methods of the
// same names (``BufferedWriter/write(_:)``, ``Diagnostics/write(_:)``) do
// not hide, so that no caller names the C module.

/// `write(2)`.
func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(fd, bytes, count) }

/// `close(2)`.
@discardableResult
func systemClose(_ fd: Int32) -> Int32 { close(fd) }
