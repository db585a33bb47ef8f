import Foundation

/// What a provider's batch API accepts and how it behaves, as data.
///
/// The pipeline asks the profile (`profile.maxRequestsPerFile`,
/// `profile.acceptsEndpoint(url)`) rather than testing the provider, so a new
/// OpenAI-compatible provider is one more profile. The values come from
/// `reference/api-facts.md` and `reference/batch-api-realworld.md` §3.
public struct ProviderProfile: Sendable, Equatable {
  /// The provider's name, as `BATCHLINE_PROVIDER` spells it.
  public var name: String

  /// The base URL when none is set, or `nil` where the user must give one
  /// (Azure: `AZURE_OPENAI_ENDPOINT`).
  public var defaultBaseURL: String?

  /// The variables that hold the provider's own key, in order of preference.
  public var keyVariables: [String]

  /// Host names (and their subdomains) that belong to the provider, to
  /// recognise it behind `OPENAI_BASE_URL`.
  public var hosts: [String]

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

  /// The completion windows accepted as written; the first is sent when
  /// the caller names none.
  public var completionWindows: [String]

  /// Where the provider takes any window in a range (Groq: 24 to 168
  /// hours, written `48h` or `3d`), the range in hours; `nil` where only
  /// ``completionWindows`` are taken.
  public var completionWindowHours: ClosedRange<Int>?

  /// The `expires_after` seconds an upload may carry, or `nil` where the
  /// provider documents none (it is then not sent).
  public var fileExpirySeconds: ClosedRange<Int>?

  /// The `output_expires_after` seconds a batch may carry, or `nil` where
  /// the provider documents none (it is then not sent).
  public var outputExpirySeconds: ClosedRange<Int>?

  /// The multipart fields of `expires_after` on upload, anchor then seconds:
  /// OpenAI's SDKs write `expires_after[anchor]`, Azure's REST samples
  /// `expires_after.anchor`.
  public var fileExpiryFields: [String]

  /// Whether an upload is `uploaded` for a while before it is `processed`
  /// and may be used by a batch (Azure).
  public var filesNeedProcessing: Bool

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

  /// The completion window sent when the caller names none.
  public var defaultCompletionWindow: String { completionWindows[0] }

  /// OpenAI's API, and the default for compatible servers.
  public static let openAI = ProviderProfile(
    name: "openai",
    defaultBaseURL: "https://api.openai.com/v1",
    keyVariables: ["OPENAI_API_KEY"],
    hosts: ["api.openai.com"],
    maxRequestsPerFile: 50_000,
    maxBytesPerFile: 200_000_000,
    maxEmbeddingInputsPerFile: 50_000,
    endpoints: [
      "/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions",
      "/v1/moderations", "/v1/images/generations", "/v1/images/edits", "/v1/videos",
    ],
    acceptsUnversionedURLs: false,
    completionWindows: ["24h"],
    completionWindowHours: nil,
    fileExpirySeconds: 3600...2_592_000,
    outputExpirySeconds: 3600...2_592_000,
    fileExpiryFields: ["expires_after[anchor]", "expires_after[seconds]"],
    filesNeedProcessing: false,
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
    profile.name = "azure"
    profile.defaultBaseURL = nil
    profile.keyVariables = ["AZURE_OPENAI_API_KEY"]
    profile.hosts = ["openai.azure.com", "cognitiveservices.azure.com"]
    // 14 to 30 days; with an expiry a resource holds 10,000 batch files instead of 500.
    profile.fileExpirySeconds = 1_209_600...2_592_000
    profile.outputExpirySeconds = 1_209_600...2_592_000
    profile.fileExpiryFields = ["expires_after.anchor", "expires_after.seconds"]
    profile.filesNeedProcessing = true
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
    var profile = compatible(
      name: "groq", baseURL: "https://api.groq.com/openai/v1", keyVariables: ["GROQ_API_KEY"], host: "groq.com")
    profile.maxBytesPerFile = 100_000_000
    profile.endpoints = ["/v1/chat/completions"]
    profile.completionWindowHours = 24...168
    return profile
  }()

  /// Nebius Token Factory (formerly AI Studio): chat and embeddings, 24
  /// hours, files of up to 5,000,000 requests and 10 GB (prepare still
  /// splits at OpenAI's sizes unless told otherwise).
  public static let nebius: ProviderProfile = {
    var profile = compatible(
      name: "nebius", baseURL: "https://api.tokenfactory.nebius.com/v1", keyVariables: ["NEBIUS_API_KEY"],
      host: "nebius.com")
    profile.maxRequestsPerFile = 5_000_000
    profile.maxBytesPerFile = 10_000_000_000
    profile.endpoints = ["/v1/chat/completions", "/v1/embeddings"]
    return profile
  }()

  /// DeepInfra: chat, completions and embeddings under `/v1/openai`, 24
  /// hours, `output_expires_after` as OpenAI takes it. File limits are not
  /// published; OpenAI's are assumed.
  public static let deepinfra: ProviderProfile = {
    var profile = compatible(
      name: "deepinfra", baseURL: "https://api.deepinfra.com/v1/openai",
      keyVariables: ["DEEPINFRA_TOKEN", "DEEPINFRA_API_KEY"], host: "deepinfra.com")
    profile.endpoints = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings"]
    profile.outputExpirySeconds = 3600...2_592_000
    return profile
  }()

  /// Parasail: chat and embeddings, 24 hours, 50,000 requests and 100 MB per file.
  public static let parasail: ProviderProfile = {
    var profile = compatible(
      name: "parasail", baseURL: "https://api.parasail.io/v1", keyVariables: ["PARASAIL_API_KEY"],
      host: "parasail.io")
    profile.maxBytesPerFile = 100_000_000
    profile.endpoints = ["/v1/chat/completions", "/v1/embeddings"]
    return profile
  }()

  /// Doubleword: chat and embeddings, a 24-hour and a 1-hour window, 200 MB
  /// per file (the request cap is not published; OpenAI's is assumed).
  public static let doubleword: ProviderProfile = {
    var profile = compatible(
      name: "doubleword", baseURL: "https://api.doubleword.ai/v1", keyVariables: ["DOUBLEWORD_API_KEY"],
      host: "doubleword.ai")
    profile.endpoints = ["/v1/chat/completions", "/v1/embeddings"]
    profile.completionWindows = ["24h", "1h"]
    return profile
  }()

  /// OpenAI's limits for a service that documents the same API: its own
  /// address and key, no `expires_after` (none of them documents it on
  /// uploads), and the server's default page size when listing files.
  private static func compatible(name: String, baseURL: String, keyVariables: [String], host: String)
    -> ProviderProfile
  {
    var profile = openAI
    profile.name = name
    profile.defaultBaseURL = baseURL
    profile.keyVariables = keyVariables
    profile.hosts = [host]
    profile.fileExpirySeconds = nil
    profile.outputExpirySeconds = nil
    profile.fileListPageLimit = nil
    return profile
  }

  /// The standard profile of `provider`.
  ///
  /// - Parameter provider: The provider.
  /// - Returns: Its profile.
  public static func standard(for provider: APIProvider) -> ProviderProfile {
    switch provider {
    case .openai: return .openAI
    case .azure: return .azure
    case .groq: return .groq
    case .nebius: return .nebius
    case .deepinfra: return .deepinfra
    case .parasail: return .parasail
    case .doubleword: return .doubleword
    }
  }

  /// Whether `host` is one of the provider's hosts or a subdomain of one.
  public func owns(host: String) -> Bool {
    let name = host.lowercased()
    return hosts.contains { name == $0 || name.hasSuffix("." + $0) }
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
  /// - Returns: `true` for one of ``completionWindows``, or, where the
  ///   provider takes a range, a window that parses and lies in ``completionWindowHours``.
  public func acceptsCompletionWindow(_ window: String) -> Bool {
    if completionWindows.contains(window) { return true }
    // OpenAI rejects "1d" although it is 24 hours: only ranges parse.
    guard let range = completionWindowHours, let hours = Self.hours(of: window) else { return false }
    return range.contains(hours)
  }

  /// The hours of a window written `24h` or `7d`, or `nil`.
  public static func hours(of window: String) -> Int? {
    guard let unit = window.last, let count = Int(window.dropLast()), count > 0, count < 100_000 else { return nil }
    switch unit {
    case "h": return count
    case "d": return count * 24
    default: return nil
    }
  }
}
