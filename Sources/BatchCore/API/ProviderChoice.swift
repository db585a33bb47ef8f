import Foundation

/// Which provider a run talks to, and which variables may serve it.
///
/// A key goes only to the provider it was given for. `BATCHLINE_PROVIDER`
/// chooses; without it, the provider is the one whose variables are set,
/// and when two providers' variables are set (an `AZURE_OPENAI_ENDPOINT`
/// left over in a shell that now holds `OPENAI_API_KEY`, say) nothing is
/// guessed: the tools refuse with 78 and name both.
struct ProviderChoice: Equatable {
  /// The provider.
  var provider: APIProvider
  /// Whether `BATCHLINE_PROVIDER` named it.
  var named: Bool
  /// Whether `OPENAI_API_KEY` and `OPENAI_BASE_URL` may serve it: the
  /// provider was named, or it is OpenAI, or `OPENAI_BASE_URL` is on its host.
  var takesOpenAIVariables: Bool

  /// The choice the environment makes.
  ///
  /// - Throws: ``ToolError`` `.configuration` for an unknown
  ///   `BATCHLINE_PROVIDER`, for the variables of two providers without a
  ///   `BATCHLINE_PROVIDER`, and for a named provider whose `OPENAI_BASE_URL`
  ///   is on another provider's host.
  static func fromEnvironment(_ env: [String: String]) throws -> ProviderChoice {
    let value = { environmentValue(env, $0) }
    let openAIHostOwner = value("OPENAI_BASE_URL").flatMap(owner(ofBaseURL:))
    if let name = value("BATCHLINE_PROVIDER") {
      guard let chosen = APIProvider(rawValue: name.lowercased()) else {
        let names = APIProvider.allCases.map(\.rawValue).joined(separator: ", ")
        throw ToolError(.configuration, "BATCHLINE_PROVIDER must be one of \(names), not '\(printable(name))'")
      }
      if chosen != .azure, let owner = openAIHostOwner, owner != chosen {
        throw ToolError(
          .configuration,
          "OPENAI_BASE_URL is on a host of \(owner.rawValue), not of \(chosen.rawValue) that BATCHLINE_PROVIDER names")
      }
      return ProviderChoice(provider: chosen, named: true, takesOpenAIVariables: true)
    }
    // Each provider whose own variables are set, with those variables.
    var claims: [(provider: APIProvider, variables: [String])] = []
    func claim(_ provider: APIProvider, _ variables: [String]) {
      let set = variables.filter { value($0) != nil }
      guard !set.isEmpty else { return }
      if let n = claims.firstIndex(where: { $0.provider == provider }) {
        claims[n].variables += set
      } else {
        claims.append((provider, set))
      }
    }
    // OPENAI_API_KEY and OPENAI_BASE_URL go together, to the host the base URL names.
    claim(openAIHostOwner ?? .openai, ["OPENAI_API_KEY", "OPENAI_BASE_URL"])
    for provider in APIProvider.allCases where provider != .openai {
      let profile = ProviderProfile.standard(for: provider)
      claim(provider, profile.keyVariables + (provider == .azure ? ["AZURE_OPENAI_ENDPOINT"] : []))
    }
    if claims.count > 1 {
      let named = claims.map { "\($0.provider.rawValue) (\($0.variables.joined(separator: ", ")))" }
      let list = named.dropLast().joined(separator: ", ") + " and " + named.last!
      throw ToolError(
        .configuration, "the variables of several providers are set: \(list); set BATCHLINE_PROVIDER to the one to use")
    }
    let provider = claims.first?.provider ?? .openai
    return ProviderChoice(provider: provider, named: false, takesOpenAIVariables: provider == (openAIHostOwner ?? .openai))
  }

  /// The provider that owns the host of `text`, if any.
  private static func owner(ofBaseURL text: String) -> APIProvider? {
    guard let host = URL(string: text)?.host else { return nil }
    return APIProvider.allCases.first { ProviderProfile.standard(for: $0).owns(host: host) }
  }

  /// `text` with control characters replaced, at most 80 characters.
  private static func printable(_ text: String) -> String { OpenAIClient.printable(text) }
}

/// The variable `name` of `env`, trimmed; nil when unset or blank.
func environmentValue(_ env: [String: String], _ name: String) -> String? {
  guard let text = env[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
  return text
}
