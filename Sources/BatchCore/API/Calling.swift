import Foundation

extension APIError {
  /// The tool error for this API error, with the operation named.
  var asToolError: ToolError { toolError() }
}

/// Runs an API call, turning API errors into tool errors.
func calling<T>(_ body: () async throws -> T) async throws -> T {
  do {
    return try await body()
  } catch let error as APIError {
    throw error.asToolError
  }
}

/// Sleeps for `seconds`, throwing if the task is cancelled.
func pause(_ seconds: Double) async throws {
  guard seconds > 0 else { return }
  try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
}
