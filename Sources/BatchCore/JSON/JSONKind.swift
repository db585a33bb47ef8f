/// The kind of a JSON value, read from its first byte.
public enum JSONKind: Sendable, Equatable {
  case object, array, string, number, bool, null
}
