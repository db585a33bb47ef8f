import Foundation

/// What a provider's batch API accepts and how it behaves, as data.
///
/// The pipeline asks the profile (`profile.maxRequestsPerFile`,
/// `profile.acceptsEndpoint(url)`) rather than testing the provider, so a new
/// OpenAI-compatible provider is one more profile. The values come from
/// `reference/api-facts.md` and `reference/batch-api-realworld.md` §3.
public struct ProviderProfile: Sendable, Equatable {
  /// The most request lines one input file may hold.
  public var maxRequestsPerFile: Int

  /// The most bytes one input file may hold, as uploaded.
  ///
  /// OpenAI says 200 MB without saying which megabyte; 200,000,000 is safe
  /// under either reading.
  public var maxBytesPerFile: Int64

  /// The most embedding inputs one file may hold, summed over its lines.
  public var maxEmbeddingInputsPerFile: Int

  /// The batch endpoints the provider accepts, in their `/v1/...` form.
  public var endpoints: [String]

  /// Whether request lines and `endpoint` may also use the form without
  /// `/v1` (`/chat/completions`), as older Azure samples do.
  public var acceptsUnversionedURLs: Bool

  /// The completion window sent when the caller names none.
  public var defaultCompletionWindow: String

  /// The completion windows accepted, in hours (OpenAI: exactly 24; Groq: 24 to 168).
  public var completionWindowHours: ClosedRange<Int>

  /// Whether a batch that runs past its window ends `expired` (Azure keeps running).
  public var batchesExpire: Bool

  /// Whether `error_file_id` may name a 0-byte file when nothing failed (Azure).
  public var mayReportEmptyErrorFile: Bool

  /// Whether `body.model` names a deployment rather than a model (Azure).
  public var modelIsDeploymentName: Bool

  /// Whether the key goes in an `api-key` header rather than `Authorization: Bearer`.
  public var usesAPIKeyHeader: Bool

  /// The most metadata pairs a batch may carry.
  public var maxMetadataPairs: Int
  /// The longest metadata key, in characters.
  public var maxMetadataKeyLength: Int
  /// The longest metadata value, in characters.
  public var maxMetadataValueLength: Int

  /// The `limit` sent when listing batches (OpenAI allows 1 to 100).
  public var batchListPageLimit: Int

  /// The `limit` sent when listing files, or `nil` to send none and take the server's default.
  public var fileListPageLimit: Int?

  /// The upload `purpose` of request files.
  public var uploadPurpose: String

  /// OpenAI's API, and the default for compatible servers.
  public static let openAI = ProviderProfile(
    maxRequestsPerFile: 50_000,
    maxBytesPerFile: 200_000_000,
    maxEmbeddingInputsPerFile: 50_000,
    endpoints: [
      "/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions",
      "/v1/moderations", "/v1/images/generations", "/v1/images/edits", "/v1/videos",
    ],
    acceptsUnversionedURLs: false,
    defaultCompletionWindow: "24h",
    completionWindowHours: 24...24,
    batchesExpire: true,
    mayReportEmptyErrorFile: false,
    modelIsDeploymentName: false,
    usesAPIKeyHeader: false,
    maxMetadataPairs: 16,
    maxMetadataKeyLength: 64,
    maxMetadataValueLength: 512,
    batchListPageLimit: 100,
    fileListPageLimit: 10_000,
    uploadPurpose: "batch")

  /// Azure OpenAI: twice the requests per file, `api-key` auth, deployments
  /// for models, jobs that never expire, and 0-byte error files.
  public static let azure: ProviderProfile = {
    var profile = openAI
    profile.maxRequestsPerFile = 100_000
    // Azure's FAQ: no embeddings through batch.
    profile.endpoints = ["/v1/chat/completions", "/v1/responses"]
    profile.acceptsUnversionedURLs = true
    profile.batchesExpire = false
    profile.mayReportEmptyErrorFile = true
    profile.modelIsDeploymentName = true
    profile.usesAPIKeyHeader = true
    // Azure's list-files limit is not documented; take its default page and follow the cursor.
    profile.fileListPageLimit = nil
    return profile
  }()

  /// Groq: chat completions only, windows from 24 hours to 7 days, and
  /// files up to 100 MB (its SDK's docstring; the stricter of the figures seen).
  public static let groq: ProviderProfile = {
    var profile = openAI
    profile.maxBytesPerFile = 100_000_000
    profile.endpoints = ["/v1/chat/completions"]
    profile.completionWindowHours = 24...168
    profile.fileListPageLimit = nil
    return profile
  }()

  /// The standard profile of `provider`.
  ///
  /// - Parameter provider: The provider.
  /// - Returns: Its profile.
  public static func standard(for provider: APIProvider) -> ProviderProfile {
    switch provider {
    case .openai: return .openAI
    case .azure: return .azure
    case .groq: return .groq
    }
  }

  /// Whether `url` (a request line's `url`, or a batch's `endpoint`) is accepted.
  ///
  /// - Parameter url: The endpoint, such as `/v1/chat/completions`.
  /// - Returns: `true` when the provider accepts it.
  public func acceptsEndpoint(_ url: String) -> Bool {
    if endpoints.contains(url) { return true }
    return acceptsUnversionedURLs && endpoints.contains("/v1" + url)
  }

  /// Whether `window` (`24h`, `7d`) is a completion window the provider accepts.
  ///
  /// - Parameter window: The window as sent to the API.
  /// - Returns: `true` for the default window, or, where the provider takes
  ///   a range, a window that parses and lies in ``completionWindowHours``.
  public func acceptsCompletionWindow(_ window: String) -> Bool {
    if window == defaultCompletionWindow { return true }
    // OpenAI rejects "1d" although it is 24 hours: only ranges parse.
    guard completionWindowHours.count > 1 else { return false }
    guard let unit = window.last, let count = Int(window.dropLast()), count > 0 else { return false }
    let hours: Int
    switch unit {
    case "h": hours = count
    case "d": hours = count * 24
    default: return false
    }
    return completionWindowHours.contains(hours)
  }
}
