import Foundation

/// What a run's uploads and batches are created with: the completion window,
/// and how long the server keeps the request and result files.
///
/// Files that expire by themselves mean a forgotten `make cleaned` leaves
/// nothing on the server for ever, and on Azure they lift the resource's
/// limit of 500 batch files. The lifetime is sent only where the provider
/// documents it (``ProviderProfile/fileExpirySeconds``,
/// ``ProviderProfile/outputExpirySeconds``).
public struct BatchTerms: Sendable, Equatable {
  /// The `completion_window` of every batch.
  public var completionWindow: String
  /// The `expires_after` seconds of uploads, or `nil` to send none.
  public var fileExpiry: Int?
  /// The `output_expires_after` seconds of batches, or `nil` to send none.
  public var outputExpiry: Int?

  /// What is kept beyond the completion window by default: a week to
  /// download the results (or to wait for capacity before the batch starts).
  public static let downloadMargin = 7 * 86_400
  /// The shortest default lifetime: two weeks, also Azure's minimum.
  public static let shortestDefault = 14 * 86_400

  /// Creates terms from their parts.
  public init(completionWindow: String, fileExpiry: Int?, outputExpiry: Int?) {
    self.completionWindow = completionWindow
    self.fileExpiry = fileExpiry
    self.outputExpiry = outputExpiry
  }

  /// The terms `COMPLETION_WINDOW` and `BATCHLINE_FILE_EXPIRY` ask for,
  /// checked against what `profile` accepts.
  ///
  /// `COMPLETION_WINDOW` is the provider's first window (`24h`) when unset.
  /// `BATCHLINE_FILE_EXPIRY` is a number of seconds, or of hours or days
  /// (`336h`, `14d`), or `none` to send no lifetime and keep the provider's
  /// default; unset, it is two weeks, or the window plus a week when that is
  /// longer, within what the provider takes.
  ///
  /// - Parameters:
  ///   - env: The environment.
  ///   - profile: The provider's profile.
  /// - Returns: The terms.
  /// - Throws: ``ToolError`` `.configuration` for a window the provider does
  ///   not take, or a lifetime it does not take or that ends within the window.
  public static func fromEnvironment(
    _ env: [String: String] = ProcessInfo.processInfo.environment, profile: ProviderProfile
  ) throws -> BatchTerms {
    let window = environmentValue(env, "COMPLETION_WINDOW") ?? profile.defaultCompletionWindow
    guard profile.acceptsCompletionWindow(window), let windowHours = ProviderProfile.hours(of: window) else {
      throw ToolError(
        .configuration,
        "COMPLETION_WINDOW '\(OpenAIClient.printable(window))' is not a window \(profile.name) takes "
          + "(\(describeWindows(profile)))")
    }
    let windowSeconds = windowHours * 3600
    guard let text = environmentValue(env, "BATCHLINE_FILE_EXPIRY") else {
      let wanted = max(shortestDefault, windowSeconds + downloadMargin)
      return BatchTerms(
        completionWindow: window, fileExpiry: profile.fileExpirySeconds.map { clamp(wanted, to: $0) },
        outputExpiry: profile.outputExpirySeconds.map { clamp(wanted, to: $0) })
    }
    if text.lowercased() == "none" {
      return BatchTerms(completionWindow: window, fileExpiry: nil, outputExpiry: nil)
    }
    guard let seconds = seconds(of: text) else {
      throw ToolError(
        .configuration, "BATCHLINE_FILE_EXPIRY must be seconds, hours (336h), days (14d) or none, not '\(OpenAIClient.printable(text))'")
    }
    for range in [profile.fileExpirySeconds, profile.outputExpirySeconds].compactMap({ $0 })
    where !range.contains(seconds) {
      throw ToolError(
        .configuration,
        "BATCHLINE_FILE_EXPIRY '\(text)' is outside the \(describe(range)) \(profile.name) takes")
    }
    if profile.fileExpirySeconds != nil && seconds <= windowSeconds {
      throw ToolError(
        .configuration, "BATCHLINE_FILE_EXPIRY '\(text)' would delete the request files within the \(window) window")
    }
    return BatchTerms(
      completionWindow: window, fileExpiry: profile.fileExpirySeconds.map { _ in seconds },
      outputExpiry: profile.outputExpirySeconds.map { _ in seconds })
  }

  /// The seconds of `14d`, `336h`, `1209600s` or `1209600`, or `nil`.
  static func seconds(of text: String) -> Int? {
    let units: [Character: Int] = ["s": 1, "h": 3600, "d": 86_400]
    var digits = Substring(text)
    var unit = 1
    if let last = text.last, let size = units[last] {
      digits = digits.dropLast()
      unit = size
    }
    guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy(\.isASCII), let count = Int(digits), count > 0
    else { return nil }
    return count * unit
  }

  private static func clamp(_ value: Int, to range: ClosedRange<Int>) -> Int {
    min(max(value, range.lowerBound), range.upperBound)
  }

  /// `1 h to 30 days`, `14 to 30 days`.
  private static func describe(_ range: ClosedRange<Int>) -> String {
    func text(_ seconds: Int) -> String {
      seconds % 86_400 == 0 ? "\(seconds / 86_400) days" : seconds % 3600 == 0 ? "\(seconds / 3600) h" : "\(seconds) s"
    }
    return "\(text(range.lowerBound)) to \(text(range.upperBound))"
  }

  /// `24h`, `24h or 1h`, `24h to 168h`.
  private static func describeWindows(_ profile: ProviderProfile) -> String {
    if let range = profile.completionWindowHours {
      return "\(range.lowerBound)h to \(range.upperBound)h"
    }
    return profile.completionWindows.joined(separator: " or ")
  }
}
