import Foundation

/// The tokens a batch used, as the API reports them.
public struct BatchUsage: Codable, Sendable, Equatable {
  /// Input tokens, cached ones included.
  public var inputTokens: Int?
  /// The breakdown of input tokens.
  public var inputTokensDetails: InputTokensDetails?
  /// Output tokens, reasoning ones included.
  public var outputTokens: Int?
  /// The breakdown of output tokens.
  public var outputTokensDetails: OutputTokensDetails?
  /// Input plus output tokens.
  public var totalTokens: Int?

  /// The breakdown of input tokens.
  public struct InputTokensDetails: Codable, Sendable, Equatable {
    /// Input tokens served from the prompt cache.
    public var cachedTokens: Int?

    enum CodingKeys: String, CodingKey { case cachedTokens = "cached_tokens" }

    /// Creates the breakdown.
    public init(cachedTokens: Int?) { self.cachedTokens = cachedTokens }

    /// Decodes the breakdown.
    public init(from decoder: any Decoder) throws {
      cachedTokens = try decoder.container(keyedBy: CodingKeys.self).apiInt(.cachedTokens)
    }
  }

  /// The breakdown of output tokens.
  public struct OutputTokensDetails: Codable, Sendable, Equatable {
    /// Output tokens spent on reasoning.
    public var reasoningTokens: Int?

    enum CodingKeys: String, CodingKey { case reasoningTokens = "reasoning_tokens" }

    /// Creates the breakdown.
    public init(reasoningTokens: Int?) { self.reasoningTokens = reasoningTokens }

    /// Decodes the breakdown.
    public init(from decoder: any Decoder) throws {
      reasoningTokens = try decoder.container(keyedBy: CodingKeys.self).apiInt(.reasoningTokens)
    }
  }

  enum CodingKeys: String, CodingKey {
    case inputTokens = "input_tokens"
    case inputTokensDetails = "input_tokens_details"
    case outputTokens = "output_tokens"
    case outputTokensDetails = "output_tokens_details"
    case totalTokens = "total_tokens"
  }

  /// Creates a usage record.
  public init(
    inputTokens: Int? = nil, cachedTokens: Int? = nil, outputTokens: Int? = nil,
    reasoningTokens: Int? = nil, totalTokens: Int? = nil
  ) {
    self.inputTokens = inputTokens
    self.inputTokensDetails = cachedTokens.map(InputTokensDetails.init(cachedTokens:))
    self.outputTokens = outputTokens
    self.outputTokensDetails = reasoningTokens.map(OutputTokensDetails.init(reasoningTokens:))
    self.totalTokens = totalTokens
  }

  /// Decodes usage, tolerating nulls.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    inputTokens = c.apiInt(.inputTokens)
    inputTokensDetails = try? c.decodeIfPresent(InputTokensDetails.self, forKey: .inputTokensDetails)
    outputTokens = c.apiInt(.outputTokens)
    outputTokensDetails = try? c.decodeIfPresent(OutputTokensDetails.self, forKey: .outputTokensDetails)
    totalTokens = c.apiInt(.totalTokens)
  }

  /// Input tokens served from the cache, 0 when not reported.
  public var cachedTokens: Int { inputTokensDetails?.cachedTokens ?? 0 }
  /// Output tokens spent on reasoning, 0 when not reported.
  public var reasoningTokens: Int { outputTokensDetails?.reasoningTokens ?? 0 }
}
