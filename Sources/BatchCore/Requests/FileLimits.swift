import Foundation

/// The limits a request file must keep, as the server counts them.
public struct FileLimits: Sendable {
  /// Requests per file.
  public var requests = 50_000
  /// Bytes per file, exactly as uploaded. 200 MB is 200,000,000 or
  /// 209,715,200 bytes depending on whom one asks: the smaller is safe.
  public var bytes = 200_000_000
  /// Embedding inputs per file, summed over the requests.
  public var embeddingInputs = 50_000

  public init() {}

  /// The limits, lowered to the provider's (Groq takes 100 MB files; see
  /// ``APIProvider/fromEnvironment(_:)``), and by `BATCHLINE_MAX_REQUESTS`
  /// and `BATCHLINE_MAX_BYTES` where set (smaller files finish sooner).
  ///
  /// - Throws: ``ToolError`` 64 for a value that is not a positive number,
  ///   78 for an unknown `BATCHLINE_PROVIDER`.
  public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws
    -> FileLimits
  {
    var limits = FileLimits()
    let profile = ProviderProfile.standard(for: try APIProvider.fromEnvironment(env))
    limits.requests = min(limits.requests, profile.maxRequestsPerFile)
    limits.bytes = Int(min(Int64(limits.bytes), profile.maxBytesPerFile))
    for (name, keyPath) in [("BATCHLINE_MAX_REQUESTS", \FileLimits.requests), ("BATCHLINE_MAX_BYTES", \FileLimits.bytes)] {
      guard let text = env[name], !text.isEmpty else { continue }
      guard let value = Int(text), value > 0 else { throw ToolError.usage("\(name) must be a positive whole number, not '\(text)'") }
      limits[keyPath: keyPath] = min(limits[keyPath: keyPath], value)
    }
    return limits
  }
}
