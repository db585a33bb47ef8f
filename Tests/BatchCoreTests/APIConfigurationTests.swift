import Foundation
import Testing

@testable import BatchCore

@Suite struct APIConfigurationTests {
  private func configurationError(_ env: [String: String]) -> ToolError? {
    do {
      _ = try APIConfiguration.fromEnvironment(env)
      return nil
    } catch let error as ToolError {
      return error
    } catch {
      return nil
    }
  }

  @Test func aMissingKeyIsAConfigurationError() {
    for env in [[:], ["OPENAI_API_KEY": ""], ["OPENAI_API_KEY": "  \n"]] {
      let error = configurationError(env)
      #expect(error?.status == .configuration)
      #expect(error?.message == "OPENAI_API_KEY is not set (make demo runs without one)")
    }
  }

  @Test func openAIIsTheDefault() throws {
    let configuration = try APIConfiguration.fromEnvironment(["OPENAI_API_KEY": "sk-abc\n"])
    #expect(configuration.provider == .openai)
    #expect(configuration.apiKey == "sk-abc")
    #expect(configuration.url("files").absoluteString == "https://api.openai.com/v1/files")
    #expect(configuration.authorizationHeaders == ["Authorization": "Bearer sk-abc"])
    #expect(configuration.profile == .openAI)
    #expect(configuration.requestTimeout == 60)
  }

  @Test func theBaseURLToleratesATrailingSlash() throws {
    let configuration = try APIConfiguration.fromEnvironment([
      "OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "http://127.0.0.1:8080/v1/",
    ])
    #expect(
      configuration.url("batches", query: [("after", "batch_1"), ("limit", nil)]).absoluteString
        == "http://127.0.0.1:8080/v1/batches?after=batch_1")
  }

  @Test func theKeyIsNeverSentInClearTextToAnotherHost() {
    let error = configurationError(["OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "http://api.example.com/v1"])
    #expect(error?.status == .configuration)
    #expect(error?.message == "refusing to send the API key over plain http to 'api.example.com'")
    for base in ["http://localhost:9/v1", "http://127.0.0.1/v1", "http://127.9.8.7:1/v1", "http://[::1]:8080/v1"] {
      #expect(configurationError(["OPENAI_API_KEY": "k", "OPENAI_BASE_URL": base]) == nil, "\(base)")
    }
  }

  @Test func loopbackMeansThisMachineOnly() {
    for host in ["localhost", "LOCALHOST", "localhost.", "127.0.0.1", "127.255.0.9", "::1", "[::1]", "0:0:0:0:0:0:0:1"] {
      #expect(APIConfiguration.isLoopback(host), "\(host)")
    }
    for host in ["128.0.0.1", "10.0.0.1", "::2", "localhost.evil.com", "127.0.0.1.evil.com", "0.0.0.0", ""] {
      #expect(!APIConfiguration.isLoopback(host), "\(host)")
    }
  }

  @Test func aBaseURLMustBeHTTP() {
    for base in ["ftp://x/v1", "not a url", "https://", "https://api.openai.com/v1?x=1"] {
      #expect(configurationError(["OPENAI_API_KEY": "k", "OPENAI_BASE_URL": base])?.status == .configuration, "\(base)")
    }
  }

  @Test func azureUsesTheEndpointTheKeyHeaderAndTheVersion() throws {
    let configuration = try APIConfiguration.fromEnvironment([
      "AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com", "AZURE_OPENAI_API_KEY": "azurekey1234",
      "OPENAI_API_VERSION": "2025-04-01-preview",
    ])
    #expect(configuration.provider == .azure)
    #expect(configuration.apiKey == "azurekey1234")
    #expect(
      configuration.url("files/file-1/content").absoluteString
        == "https://res.openai.azure.com/openai/files/file-1/content?api-version=2025-04-01-preview")
    #expect(configuration.authorizationHeaders == ["api-key": "azurekey1234"])
    #expect(configuration.profile.maxRequestsPerFile == 100_000)
  }

  @Test func azureVersionV1UsesTheUnversionedPaths() throws {
    for env in [
      ["AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com/", "OPENAI_API_VERSION": "v1"],
      ["AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com/openai/v1/"],
    ] {
      let configuration = try APIConfiguration.fromEnvironment(env.merging(["AZURE_OPENAI_API_KEY": "k"]) { a, _ in a })
      #expect(configuration.apiVersion == nil)
      #expect(
        configuration.url("files", query: [("purpose", "batch")]).absoluteString
          == "https://res.openai.azure.com/openai/v1/files?purpose=batch")
    }
    let versioned = try APIConfiguration.fromEnvironment([
      "AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com/openai", "OPENAI_API_VERSION": "2024-10-21",
      "AZURE_OPENAI_API_KEY": "k",
    ])
    #expect(versioned.url("batches").absoluteString == "https://res.openai.azure.com/openai/batches?api-version=2024-10-21")
  }

  @Test func azureNeedsItsEndpointAndAKey() {
    #expect(configurationError(["BATCHLINE_PROVIDER": "azure", "OPENAI_API_KEY": "k"])?.status == .configuration)
    #expect(
      configurationError(["AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com"])?.message
        == "AZURE_OPENAI_API_KEY is not set (make demo runs without one)")
  }

  @Test func groqIsFoundByItsHostOrChosen() throws {
    let byHost = try APIConfiguration.fromEnvironment([
      "OPENAI_BASE_URL": "https://api.groq.com/openai/v1", "GROQ_API_KEY": "gsk_abc",
    ])
    #expect(byHost.provider == .groq)
    #expect(byHost.authorizationHeaders == ["Authorization": "Bearer gsk_abc"])
    let chosen = try APIConfiguration.fromEnvironment(["BATCHLINE_PROVIDER": "GROQ", "OPENAI_API_KEY": "k"])
    #expect(chosen.url("batches").absoluteString == "https://api.groq.com/openai/v1/batches")
    #expect(chosen.profile.acceptsCompletionWindow("7d"))
    #expect(
      configurationError(["BATCHLINE_PROVIDER": "anthropic", "OPENAI_API_KEY": "k"])?.message
        == "BATCHLINE_PROVIDER must be one of openai, azure, groq, nebius, deepinfra, parasail, doubleword, not 'anthropic'")
  }

  @Test func twoProvidersWithoutAChoiceAreRefused() {
    // The shell of issue 12: an Azure endpoint left over, an OpenAI key and base URL set now.
    let leftover = [
      "AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com", "OPENAI_API_KEY": "sk-mine",
      "OPENAI_BASE_URL": "https://proxy.example.com/v1",
    ]
    let error = configurationError(leftover)
    #expect(error?.status == .configuration)
    #expect(
      error?.message
        == "the variables of several providers are set: openai (OPENAI_API_KEY, OPENAI_BASE_URL) and azure "
        + "(AZURE_OPENAI_ENDPOINT); set BATCHLINE_PROVIDER to the one to use")
    // Each pair of a key of one provider and a variable of another.
    for env in [
      ["AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com", "AZURE_OPENAI_API_KEY": "a1234", "OPENAI_API_KEY": "sk-x"],
      ["GROQ_API_KEY": "gsk_abc", "OPENAI_API_KEY": "sk-x"],
      ["GROQ_API_KEY": "gsk_abc", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"],
      ["NEBIUS_API_KEY": "n1234", "DEEPINFRA_TOKEN": "d1234"],
      ["OPENAI_BASE_URL": "https://api.groq.com/openai/v1", "OPENAI_API_KEY": "k", "AZURE_OPENAI_API_KEY": "a1234"],
    ] {
      #expect(configurationError(env)?.status == .configuration, "\(env)")
      #expect(throws: ToolError.self) { try APIProvider.fromEnvironment(env) }
    }
  }

  @Test func anotherProvidersKeyServesOnlyTheProviderNamed() throws {
    let leftover = [
      "AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com", "OPENAI_API_KEY": "sk-mine",
      "OPENAI_BASE_URL": "https://proxy.example.com/v1",
    ]
    let openAI = try APIConfiguration.fromEnvironment(leftover.merging(["BATCHLINE_PROVIDER": "openai"]) { $1 })
    #expect(openAI.url("files").absoluteString == "https://proxy.example.com/v1/files")
    #expect(openAI.authorizationHeaders == ["Authorization": "Bearer sk-mine"])
    let azure = try APIConfiguration.fromEnvironment(leftover.merging(["BATCHLINE_PROVIDER": "azure"]) { $1 })
    #expect(azure.url("batches").host == "res.openai.azure.com")
    #expect(azure.authorizationHeaders == ["api-key": "sk-mine"])
    // Named, a provider whose OPENAI_BASE_URL is another provider's host is refused.
    #expect(
      configurationError([
        "BATCHLINE_PROVIDER": "groq", "GROQ_API_KEY": "gsk_abc", "OPENAI_BASE_URL": "https://api.openai.com/v1",
      ])?.message == "OPENAI_BASE_URL is on a host of openai, not of groq that BATCHLINE_PROVIDER names")
    // Not named, a provider's own key goes to its own host only.
    let groq = try APIConfiguration.fromEnvironment(["GROQ_API_KEY": "gsk_abc"])
    #expect(groq.url("files").absoluteString == "https://api.groq.com/openai/v1/files")
    // ... and the OpenAI variables to the host OPENAI_BASE_URL names.
    let byHost = try APIConfiguration.fromEnvironment([
      "OPENAI_BASE_URL": "https://api.deepinfra.com/v1/openai", "OPENAI_API_KEY": "k1234",
    ])
    #expect(byHost.provider == .deepinfra)
    #expect(byHost.apiKey == "k1234")
  }

  @Test func eachServiceHasItsAddressAndKeyVariable() throws {
    let cases: [(String, String, APIProvider, String)] = [
      ("NEBIUS_API_KEY", "n1", .nebius, "https://api.tokenfactory.nebius.com/v1/batches"),
      ("DEEPINFRA_TOKEN", "d1", .deepinfra, "https://api.deepinfra.com/v1/openai/batches"),
      ("DEEPINFRA_API_KEY", "d2", .deepinfra, "https://api.deepinfra.com/v1/openai/batches"),
      ("PARASAIL_API_KEY", "p1", .parasail, "https://api.parasail.io/v1/batches"),
      ("DOUBLEWORD_API_KEY", "w1", .doubleword, "https://api.doubleword.ai/v1/batches"),
      ("GROQ_API_KEY", "g1", .groq, "https://api.groq.com/openai/v1/batches"),
    ]
    for (variable, key, provider, url) in cases {
      let configuration = try APIConfiguration.fromEnvironment([variable: key])
      #expect(configuration.provider == provider)
      #expect(configuration.url("batches").absoluteString == url)
      #expect(configuration.authorizationHeaders == ["Authorization": "Bearer \(key)"])
      #expect(configuration.profile == ProviderProfile.standard(for: provider))
      let named = try APIConfiguration.fromEnvironment(["BATCHLINE_PROVIDER": provider.rawValue, variable: key])
      #expect(named.provider == provider)
    }
  }

  @Test func organisationAndTimeoutComeFromTheEnvironment() throws {
    let configuration = try APIConfiguration.fromEnvironment([
      "OPENAI_API_KEY": "k", "OPENAI_ORG_ID": "org-1", "OPENAI_PROJECT_ID": "proj_2", "BATCHLINE_HTTP_TIMEOUT": "5",
    ])
    #expect(configuration.authorizationHeaders["OpenAI-Organization"] == "org-1")
    #expect(configuration.authorizationHeaders["OpenAI-Project"] == "proj_2")
    #expect(configuration.requestTimeout == 5)
    #expect(configurationError(["OPENAI_API_KEY": "k", "BATCHLINE_HTTP_TIMEOUT": "0.5"])?.status == .configuration)
  }

  @Test func aKeyWithControlCharactersIsRefused() {
    #expect(configurationError(["OPENAI_API_KEY": "sk-a\rb"])?.message == "OPENAI_API_KEY contains control characters")
  }

  @Test func redactionRemovesTheKeyAndKeyShapedTokens() throws {
    let configuration = try APIConfiguration.fromEnvironment(["OPENAI_API_KEY": "azure0123456789"])
    #expect(configuration.redact("key azure0123456789 refused") == "key *** refused")
    #expect(
      configuration.redact("Incorrect API key provided: sk-abc***wxyz. See docs")
        == "Incorrect API key provided: ***. See docs")
    #expect(configuration.redact("bad sk-proj-Ab_Cd-Ef and gsk_XyZ123") == "bad *** and ***")
    #expect(configuration.redact("a task-force at risk-free desk-top") == "a task-force at risk-free desk-top")
    #expect(APIConfiguration.redact("abc abc", key: "abc") == "abc abc")
  }

  @Test func profilesDescribeWhatEachProviderAccepts() {
    #expect(ProviderProfile.openAI.maxRequestsPerFile == 50_000)
    #expect(ProviderProfile.openAI.maxBytesPerFile == 200_000_000)
    #expect(ProviderProfile.openAI.acceptsEndpoint("/v1/embeddings"))
    #expect(!ProviderProfile.openAI.acceptsEndpoint("/chat/completions"))
    #expect(ProviderProfile.azure.acceptsEndpoint("/chat/completions"))
    #expect(ProviderProfile.azure.acceptsEndpoint("/v1/chat/completions"))
    #expect(!ProviderProfile.azure.acceptsEndpoint("/v1/embeddings"))
    #expect(ProviderProfile.azure.mayReportEmptyErrorFile && !ProviderProfile.azure.batchesExpire)
    #expect(ProviderProfile.openAI.acceptsCompletionWindow("24h"))
    #expect(!ProviderProfile.openAI.acceptsCompletionWindow("1d"))
    #expect(!ProviderProfile.openAI.acceptsCompletionWindow("48h"))
    #expect(ProviderProfile.groq.acceptsCompletionWindow("48h"))
    #expect(!ProviderProfile.groq.acceptsCompletionWindow("8d"))
    #expect(!ProviderProfile.groq.acceptsCompletionWindow("h"))
    #expect(ProviderProfile.doubleword.acceptsCompletionWindow("1h"))
    #expect(!ProviderProfile.doubleword.acceptsCompletionWindow("2h"))
    #expect(ProviderProfile.parasail.maxBytesPerFile == 100_000_000)
    #expect(!ProviderProfile.nebius.acceptsEndpoint("/v1/responses"))
    #expect(ProviderProfile.deepinfra.acceptsEndpoint("/v1/completions"))
    #expect(ProviderProfile.openAI.fileExpirySeconds == 3600...2_592_000)
    #expect(ProviderProfile.azure.fileExpirySeconds == 1_209_600...2_592_000)
    #expect(ProviderProfile.groq.fileExpirySeconds == nil && ProviderProfile.deepinfra.outputExpirySeconds != nil)
  }

  @Test func prepareSplitsAtTheChosenProvidersLimits() throws {
    #expect(try FileLimits.fromEnvironment(["BATCHLINE_PROVIDER": "parasail"]).bytes == 100_000_000)
    #expect(try FileLimits.fromEnvironment(["GROQ_API_KEY": "gsk_abc"]).bytes == 100_000_000)
    // Larger files are allowed by Nebius, but OpenAI's sizes stay the default.
    let nebius = try FileLimits.fromEnvironment(["NEBIUS_API_KEY": "n1"])
    #expect(nebius.requests == 50_000 && nebius.bytes == 200_000_000)
    #expect(throws: ToolError.self) { try FileLimits.fromEnvironment(["GROQ_API_KEY": "g", "OPENAI_API_KEY": "k"]) }
  }
}
