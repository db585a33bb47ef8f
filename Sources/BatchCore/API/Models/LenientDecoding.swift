import Foundation

// The API's objects, decoded tolerantly. The spec types many optional fields
// as plain strings, but real responses send null; Azure sends "" for absent
// file ids, ISO dates for timestamps and capitalised statuses; every provider
// may add fields. So every optional field is nullable, ids treat "" as
// absent, a timestamp that is not a number becomes nil (or is parsed when it
// is an ISO date), and unknown fields are ignored. Only the fields without
// which an object is meaningless (`id`, a batch's `status`) are required.

/// A JSON value read as text when it is a string or a number, else nil.
struct LenientString: Decodable {
  var value: String?

  init(from decoder: any Decoder) throws {
    let c = try decoder.singleValueContainer()
    if let text = try? c.decode(String.self) {
      value = text
    } else if let number = try? c.decode(Int.self) {
      value = String(number)
    } else if let number = try? c.decode(Double.self) {
      value = String(number)
    } else {
      value = nil
    }
  }
}

extension KeyedDecodingContainer {
  /// A string, or a number as text; nil when absent, null or anything else.
  func apiString(_ key: Key) -> String? {
    (try? decodeIfPresent(LenientString.self, forKey: key))??.value
  }

  /// An object id; `""` (Azure's way of saying none) is nil.
  func apiID(_ key: Key) -> String? {
    guard let text = apiString(key), !text.isEmpty else { return nil }
    return text
  }

  /// An integer, also from `12.0` or `"12"`; nil when absent, null or not a number.
  func apiInt(_ key: Key) -> Int? {
    if let number = try? decodeIfPresent(Int.self, forKey: key) { return number }
    if let number = try? decodeIfPresent(Double.self, forKey: key), number.isFinite,
      number >= -9.0e15, number <= 9.0e15
    {
      return Int(number)
    }
    if let text = try? decodeIfPresent(String.self, forKey: key) { return Int(text) }
    return nil
  }

  /// Unix seconds; an ISO 8601 date (older Azure responses) is converted;
  /// anything else is nil rather than a failed decode.
  func apiTimestamp(_ key: Key) -> Int? {
    if let number = apiInt(key) { return number }
    guard let text = try? decodeIfPresent(String.self, forKey: key) else { return nil }
    let formatter = ISO8601DateFormatter()
    for options: ISO8601DateFormatter.Options in [
      [.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime],
    ] {
      formatter.formatOptions = options
      if let date = formatter.date(from: text) { return Int(date.timeIntervalSince1970) }
    }
    return nil
  }
}
