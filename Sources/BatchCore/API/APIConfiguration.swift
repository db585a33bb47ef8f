#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The batch API provider that a run talks to; its limits are its ``ProviderProfile``.
public enum APIProvider: String, Sendable, CaseIterable {
  /// OpenAI itself, or anything that speaks its API at `OPENAI_BASE_URL`.
  case openai
  /// Azure OpenAI: `api-key` header, `/openai/...` paths, an `api-version` query.
  case azure
  /// Groq's OpenAI-compatible batch API.
  case groq
  /// Nebius Token Factory.
  case nebius
  /// DeepInfra's OpenAI-compatible batch API.
  case deepinfra
  /// Parasail.
  case parasail
  /// Doubleword.
  case doubleword

  /// The provider: `BATCHLINE_PROVIDER` when set; otherwise the one whose
  /// variables are set (OpenAI when none is), and an error when the
  /// variables of two are set. See ``ProviderChoice``.
  ///
  /// - Parameter env: The environment.
  /// - Returns: The provider.
  /// - Throws: ``ToolError`` `.configuration` for an unknown `BATCHLINE_PROVIDER`
  ///   or the variables of several providers.
  public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws
    -> APIProvider
  {
    try ProviderChoice.fromEnvironment(env).provider
  }
}

/// Where the API is, which key to send, and what the provider accepts.
///
/// Build it with ``fromEnvironment(_:)``; the key is read from the
/// environment only and is never written anywhere. Everything the client
/// shows (errors, retry notes) goes through ``redact(_:)`` first.
public struct APIConfiguration: Sendable {
  /// The provider, from `BATCHLINE_PROVIDER` or the one whose variables are set.
  public var provider: APIProvider

  /// The URL that resource paths are appended to, without a trailing slash:
  /// `https://api.openai.com/v1`, `https://res.openai.azure.com/openai`, or
  /// `https://res.openai.azure.com/openai/v1`.
  public var baseURL: URL

  /// The API key. Never print it; pass text through ``redact(_:)``.
  public var apiKey: String

  /// The Azure `api-version` query value, or `nil` where none is sent
  /// (OpenAI, Groq, and Azure's v1 API).
  public var apiVersion: String?

  /// Extra headers sent with every request (`OpenAI-Organization`, `OpenAI-Project`).
  public var extraHeaders: [String: String]

  /// What the provider accepts; the rest of the code asks this, not ``provider``.
  public var profile: ProviderProfile

  /// The idle timeout of small JSON calls, in whole seconds.
  ///
  /// An integer of at least 1, as `BATCHLINE_HTTP_TIMEOUT` takes it. The
  /// timer measures idle time: a call fails after this many seconds of less
  /// than a byte a second; the total deadline is separate.
  public var requestTimeout: Int

  /// The idle timeout of uploads and downloads, in whole seconds.
  ///
  /// Longer than ``requestTimeout`` because the server may think for a while
  /// before it answers a 200 MB upload or starts sending a large file.
  public var transferTimeout: Int

  /// The total time an upload or download may take: twelve idle timeouts
  /// (an hour by default, 200 MB at 60 KB/s), so that a server dripping
  /// bytes cannot hold a tool for ever. JSON calls get two idle timeouts.
  public var transferDeadline: Int { 12 * transferTimeout }

  /// The Azure `api-version` used when `OPENAI_API_VERSION` is not set.
  public static let defaultAzureAPIVersion = "2025-04-01-preview"

  /// Creates a configuration from its parts; most code uses ``fromEnvironment(_:)``.
  ///
  /// - Parameters:
  ///   - provider: The provider.
  ///   - baseURL: The URL resource paths are appended to.
  ///   - apiKey: The key.
  ///   - apiVersion: The Azure `api-version` value, if any.
  ///   - extraHeaders: Headers added to every request.
  ///   - profile: The provider's limits; by default the provider's standard profile.
  ///   - requestTimeout: The idle timeout of JSON calls, in whole seconds.
  ///   - transferTimeout: The idle timeout of uploads and downloads, in whole seconds.
  public init(
    provider: APIProvider, baseURL: URL, apiKey: String, apiVersion: String? = nil,
    extraHeaders: [String: String] = [:], profile: ProviderProfile? = nil,
    requestTimeout: Int = 60, transferTimeout: Int = 300
  ) {
    self.provider = provider
    self.baseURL = baseURL
    self.apiKey = apiKey
    self.apiVersion = apiVersion
    self.extraHeaders = extraHeaders
    self.profile = profile ?? ProviderProfile.standard(for: provider)
    self.requestTimeout = max(1, requestTimeout)
    self.transferTimeout = max(1, transferTimeout)
  }

  /// Reads the configuration from environment variables.
  ///
  /// The provider comes from ``ProviderChoice``. OpenAI needs
  /// `OPENAI_API_KEY` and optionally `OPENAI_BASE_URL`. Every other provider
  /// reads its own key variable (``ProviderProfile/keyVariables``) and has
  /// its own base URL; `OPENAI_API_KEY` and `OPENAI_BASE_URL` stand in for
  /// them only when `BATCHLINE_PROVIDER` names the provider, or when
  /// `OPENAI_BASE_URL` is on the provider's host. Azure reads
  /// `AZURE_OPENAI_ENDPOINT`, `AZURE_OPENAI_API_KEY` and
  /// `OPENAI_API_VERSION` (`v1` selects the unversioned `/openai/v1` API).
  /// `BATCHLINE_HTTP_TIMEOUT` sets the idle timeout of every call, transfers
  /// included, in whole seconds.
  ///
  /// - Parameter env: The environment; the process's by default.
  /// - Returns: The configuration.
  /// - Throws: ``ToolError`` with status `.configuration` when the key is
  ///   missing, a URL is invalid, or the key would go over plain http to a
  ///   host other than this machine.
  public static func fromEnvironment(
    _ env: [String: String] = ProcessInfo.processInfo.environment
  ) throws -> APIConfiguration {
    let value = { environmentValue(env, $0) }
    let choice = try ProviderChoice.fromEnvironment(env)
    let provider = choice.provider
    let profile = ProviderProfile.standard(for: provider)
    let keyNames = profile.keyVariables + (choice.takesOpenAIVariables && provider != .openai ? ["OPENAI_API_KEY"] : [])
    var apiVersion: String? = nil
    let baseURL: URL
    if provider == .azure {
      guard let endpointText = value("AZURE_OPENAI_ENDPOINT") else {
        throw ToolError(.configuration, "AZURE_OPENAI_ENDPOINT is not set (e.g. https://NAME.openai.azure.com)")
      }
      (baseURL, apiVersion) = try azureBaseURL(endpointText, version: value("OPENAI_API_VERSION"))
    } else {
      let given = choice.takesOpenAIVariables ? value("OPENAI_BASE_URL") : nil
      baseURL = try parseBaseURL(given ?? profile.defaultBaseURL ?? "", variable: "OPENAI_BASE_URL")
    }

    guard let key = keyNames.lazy.compactMap(value).first else {
      throw ToolError(.configuration, "\(keyNames[0]) is not set (make demo runs without one)")
    }
    // A key with a control character would split the header line.
    if key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
      throw ToolError(.configuration, "\(keyNames[0]) contains control characters")
    }
    try refuseCleartext(baseURL)

    var headers: [String: String] = [:]
    if provider == .openai {
      // The names the official SDKs read, for keys that belong to several organisations.
      if let organization = value("OPENAI_ORG_ID") { headers["OpenAI-Organization"] = organization }
      if let project = value("OPENAI_PROJECT_ID") { headers["OpenAI-Project"] = project }
    }

    var requestTimeout = 60
    var transferTimeout = 300
    if let text = value("BATCHLINE_HTTP_TIMEOUT") {
      guard let seconds = Int(text), seconds >= 1 else {
        throw ToolError(.configuration, "BATCHLINE_HTTP_TIMEOUT must be a whole number of seconds, not '\(text)'")
      }
      // Given by hand, it bounds transfers too: a connection closed under an
      // upload the server stopped reading is only noticed by the idle timeout.
      requestTimeout = seconds
      transferTimeout = seconds
    }

    return APIConfiguration(
      provider: provider, baseURL: baseURL, apiKey: key, apiVersion: apiVersion,
      extraHeaders: headers, profile: profile, requestTimeout: requestTimeout,
      transferTimeout: transferTimeout)
  }

  /// The base URL and `api-version` of an Azure endpoint.
  ///
  /// People paste either the resource endpoint or the SDK base URL that
  /// already ends in /openai or /openai/v1; all three are accepted.
  private static func azureBaseURL(_ text: String, version: String?) throws -> (URL, String?) {
    var endpoint = try parseBaseURL(text, variable: "AZURE_OPENAI_ENDPOINT")
    var impliesV1 = false
    if endpoint.path.hasSuffix("/openai/v1") {
      impliesV1 = true
      endpoint = endpoint.deletingLastPathComponent().deletingLastPathComponent()
    } else if endpoint.path.hasSuffix("/openai") {
      endpoint = endpoint.deletingLastPathComponent()
    }
    let version = version ?? (impliesV1 ? "v1" : defaultAzureAPIVersion)
    if version.lowercased() == "v1" {
      return (endpoint.appendingPathComponent("openai").appendingPathComponent("v1"), nil)
    }
    return (endpoint.appendingPathComponent("openai"), version)
  }

  /// Parses an http(s) base URL and removes trailing slashes from its path.
  private static func parseBaseURL(_ text: String, variable: String) throws -> URL {
    var text = text
    while text.hasSuffix("/") { text.removeLast() }
    // `user:password@` would go to the server, and into every message that
    // shows the URL: refused, without showing it.
    let authority = text.components(separatedBy: "://").dropFirst().first?.split(separator: "/", maxSplits: 1).first
    if authority?.contains("@") == true {
      throw ToolError(.configuration, "\(variable) holds a user name or password; remove them (the key goes in the environment)")
    }
    guard let url = URL(string: text), let scheme = url.scheme?.lowercased(),
      scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty,
      url.query == nil, url.fragment == nil
    else {
      throw ToolError(.configuration, "\(variable) is not an http(s) URL: '\(redact(text, key: nil))'")
    }
    return url
  }

  /// Throws unless `url` is https, or http to this machine.
  ///
  /// - Throws: ``ToolError`` `.configuration` naming the host.
  static func refuseCleartext(_ url: URL) throws {
    guard url.scheme?.lowercased() == "http" else { return }
    let host = url.host ?? ""
    if !isLoopback(host) {
      throw ToolError(.configuration, "refusing to send the API key over plain http to '\(host)'")
    }
  }

  /// Whether `host` names this machine: `localhost`, 127.0.0.0/8 or ::1.
  ///
  /// - Parameter host: A host name or address, IPv6 with or without brackets.
  /// - Returns: `true` for a loopback host.
  public static func isLoopback(_ host: String) -> Bool {
    var name = host.lowercased()
    if name.hasPrefix("[") && name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
    if name.hasSuffix(".") { name.removeLast() }
    if name == "localhost" { return true }
    var v4 = in_addr()
    if inet_pton(AF_INET, name, &v4) == 1 {
      // s_addr is in network order: its first byte in memory is the first octet.
      return withUnsafeBytes(of: &v4) { $0[0] } == 127
    }
    var v6 = in6_addr()
    if inet_pton(AF_INET6, name, &v6) == 1 {
      let bytes = withUnsafeBytes(of: &v6) { Array($0) }
      return bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1
    }
    return false
  }

  /// The URL of a resource under ``baseURL``, with Azure's `api-version` added.
  ///
  /// - Parameters:
  ///   - path: The resource path relative to the base, such as `files/file-abc/content`.
  ///   - query: Query items; `nil` values are left out.
  /// - Returns: The full URL.
  public func url(_ path: String, query: [(String, String?)] = []) -> URL {
    var components = URLComponents(url: baseURL, resolvingAgainstBaseURL: false)
      ?? URLComponents()
    let base = components.percentEncodedPath.hasSuffix("/")
      ? String(components.percentEncodedPath.dropLast()) : components.percentEncodedPath
    // Ids in paths are validated to [A-Za-z0-9_-] before they get here, so
    // plain concatenation cannot inject anything.
    components.percentEncodedPath = base + "/" + path
    var items = query.compactMap { name, value in value.map { URLQueryItem(name: name, value: $0) } }
    if let apiVersion { items.append(URLQueryItem(name: "api-version", value: apiVersion)) }
    components.queryItems = items.isEmpty ? nil : items
    return components.url ?? baseURL
  }

  /// The headers that authenticate a request: `api-key` on Azure, Bearer elsewhere.
  public var authorizationHeaders: [String: String] {
    var headers = extraHeaders
    if profile.usesAPIKeyHeader {
      headers["api-key"] = apiKey
    } else {
      headers["Authorization"] = "Bearer \(apiKey)"
    }
    return headers
  }

  /// Returns `text` with the key, and anything shaped like an API key, replaced by `***`.
  ///
  /// Servers echo parts of a refused key (`Incorrect API key provided:
  /// sk-abc***wxyz`), so every server message passes through here before it
  /// is shown or logged.
  ///
  /// - Parameter text: Any text that may be shown to the user.
  /// - Returns: The text without secrets.
  public func redact(_ text: String) -> String {
    Self.redact(text, key: apiKey)
  }

  /// Returns `text` with `key` and anything shaped like an API key replaced by `***`.
  ///
  /// Keys shorter than 4 characters are not replaced: they are no secret, and
  /// replacing them would garble every message.
  ///
  /// - Parameters:
  ///   - text: Any text that may be shown to the user.
  ///   - key: The key in use, if any.
  /// - Returns: The text without secrets.
  public static func redact(_ text: String, key: String?) -> String {
    var result = text
    if let key, key.count >= 4 {
      result = result.replacingOccurrences(of: key, with: "***")
    }
    // OpenAI keys (sk-..., sk-proj-..., also echoed half-masked as sk-abc***wxyz)
    // and Groq keys (gsk_...).
    let pattern = #"\b(?:sk-|gsk_)[A-Za-z0-9_*\-]{3,}"#
    if let regex = try? NSRegularExpression(pattern: pattern) {
      let range = NSRange(result.startIndex..., in: result)
      result = regex.stringByReplacingMatches(in: result, range: range, withTemplate: "***")
    }
    return result
  }
}
