import Foundation

/// Text that came from the server, made fit to print and to store.
///
/// A server's strings (batch statuses, error codes and messages, model
/// names, file names, custom_ids it invented) reach the terminal through
/// notes, the live display, `make status` and merge's failure list, and
/// reach `status.json`. A hostile or broken server can put escape sequences
/// in them that retitle or clear the user's terminal, a megabyte of text, or
/// the key it was sent. So each such string passes through ``clean(_:key:limit:)``
/// where it enters the program: when the API's objects are decoded, and when
/// a custom_id of a result file is put into a message.
public enum ServerText {
  /// The most characters kept of one string; longer ones end in `…`.
  public static let defaultLimit = 500

  /// `text` without control characters, secrets or excess length.
  ///
  /// C0 and C1 controls (ESC, the one-byte CSI, NUL, BS, DEL, …) are
  /// dropped; tabs and line breaks become a space, so that a message stays
  /// on its line; bidirectional overrides, which reorder what the terminal
  /// shows, are dropped too. The key and anything shaped like a key is
  /// replaced by `***` as in HTTP errors (``APIConfiguration/redact(_:key:)``);
  /// without a `key`, so is every key the environment offers a provider.
  /// The result is at most `limit` characters, the last one `…` when cut.
  ///
  /// - Parameters:
  ///   - text: A string from the server.
  ///   - key: The API key in use, if known.
  ///   - limit: The most characters kept.
  /// - Returns: Text safe to print and to store.
  public static func clean(_ text: String, key: String? = nil, limit: Int = defaultLimit) -> String {
    var scalars = String.UnicodeScalarView()
    var unsafe = false
    for scalar in text.unicodeScalars {
      if isShown(scalar) {
        scalars.append(scalar)
      } else {
        unsafe = true
        if scalar == "\t" || scalar == "\n" || scalar == "\r" { scalars.append(" ") }
      }
    }
    var result = unsafe ? String(scalars) : text
    if key == nil {
      // Sort and merge hold no client that knows the key in use; an Azure
      // key, say, is not shaped like one that redact(_:key:) finds.
      for other in environmentKeys where result.contains(other) {
        result = result.replacingOccurrences(of: other, with: "***")
      }
    }
    if mayHoldSecret(result, key: key) {
      result = APIConfiguration.redact(result, key: key)
    }
    if result.count > limit {
      result = String(result.prefix(max(0, limit - 1))) + "…"
    }
    return result
  }

  /// Cleans the bytes of a string the per-line paths decoded (a custom_id).
  public static func clean(bytes: some Collection<UInt8>, limit: Int = 200) -> String {
    clean(String(decoding: bytes, as: UTF8.self), limit: limit)
  }

  /// The values of every provider's key variables in this process's environment.
  static let environmentKeys: [String] = {
    let env = ProcessInfo.processInfo.environment
    let names = Set(APIProvider.allCases.flatMap { ProviderProfile.standard(for: $0).keyVariables })
    return names.compactMap { environmentValue(env, $0) }.filter { $0.count >= 4 }
  }()

  /// Whether `scalar` may reach a terminal: not a C0 or C1 control, not DEL,
  /// not a bidirectional embedding, override or isolate.
  private static func isShown(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x00..<0x20, 0x7F..<0xA0: return false
    case 0x202A...0x202E, 0x2066...0x2069: return false
    default: return true
    }
  }

  /// A cheap test that spares the regular expression for the common text.
  private static func mayHoldSecret(_ text: String, key: String?) -> Bool {
    if text.contains("sk-") || text.contains("gsk_") { return true }
    if let key, key.count >= 4, text.contains(key) { return true }
    return false
  }
}

extension CodingUserInfoKey {
  /// The API key, for ``ServerText`` to redact it in decoded server text.
  static let apiKey = CodingUserInfoKey(rawValue: "batchline.apiKey")!
}

extension Decoder {
  /// `text` cleaned with ``ServerText/clean(_:key:limit:)``, redacting the key
  /// the decoding client put in `userInfo`.
  func serverText(_ text: String?, limit: Int = ServerText.defaultLimit) -> String? {
    text.map { ServerText.clean($0, key: userInfo[.apiKey] as? String, limit: limit) }
  }
}
