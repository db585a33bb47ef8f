import Foundation

/// Decides which redirects are followed: those that cannot lose a body or leak the key.
///
/// Only `GET` follows redirects (a `POST` redirected with 307 or 308 would be
/// sent again, and with 301-303 would lose its body), never from https down
/// to http, and without the credentials once the redirect leaves the
/// original scheme, host and port.
enum RedirectGuard {
  /// The statuses that carry a `Location` to follow.
  static let statuses: Set<Int> = [301, 302, 303, 307, 308]

  /// The headers that carry credentials.
  static let credentialHeaders: Set<String> = ["authorization", "api-key", "openai-organization", "openai-project"]

  /// The request to send after `head`, or `nil` to hand the answer back to the caller.
  static func follow(_ request: HTTPRequest, _ head: HTTPResponseHead) -> HTTPRequest? {
    guard request.method == "GET", statuses.contains(head.status), let location = head.header("location"),
      let target = URL(string: location, relativeTo: request.url)?.absoluteURL,
      let toScheme = target.scheme?.lowercased(), toScheme == "http" || toScheme == "https"
    else { return nil }
    let from = request.url
    let fromScheme = from.scheme?.lowercased()
    if fromScheme == "https" && toScheme != "https" { return nil }
    var next = request
    next.url = target
    if from.host?.lowercased() != target.host?.lowercased() || from.port != target.port || fromScheme != toScheme {
      next.headers = next.headers.filter { !credentialHeaders.contains($0.key.lowercased()) }
    }
    return next
  }
}
