import Foundation

/// A request that got no complete response.
public struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
  /// Why no response arrived.
  public enum Kind: Sendable, Equatable {
    /// The server could not be reached: refused, unknown host, no network.
    /// Nothing was sent, so the server certainly did not act.
    case cannotConnect
    /// The idle timeout expired.
    case timedOut
    /// The connection dropped after it was established.
    case connectionLost
    /// Anything else (TLS failure, bad response, a local file error).
    case other
  }

  /// Why no response arrived.
  public var kind: Kind
  /// A short, lowercase reason for messages, such as `connection refused`.
  public var reason: String

  /// Creates a transport error.
  public init(_ kind: Kind, _ reason: String) {
    self.kind = kind
    self.reason = reason
  }

  /// Whether the request may have reached the server, so that it may have acted on it.
  public var mayHaveReachedServer: Bool { kind != .cannotConnect }

  /// The ``reason``.
  public var description: String { reason }
}
