/// How much of an answer is read.
///
/// Reading a whole body whatever its size let a 1 GB error body take 6.3 GB
/// of memory. JSON calls (and the answers to uploads) keep at most
/// ``answerLimit`` bytes of a success and ``errorPrefixLimit`` of an error,
/// and the transfer stops there; a download keeps all of a success (it goes
/// to disk) and the prefix of an error.
public struct ReadLimits: Sendable, Equatable {
  /// The largest answer read: a page of 10,000 files is about 3 MB.
  public var answerLimit: Int
  /// How much of an error body is kept: its message is near the start.
  public var errorPrefixLimit: Int

  public static let standard = ReadLimits(answerLimit: 4 << 20, errorPrefixLimit: 64 << 10)

  public init(answerLimit: Int, errorPrefixLimit: Int) {
    self.answerLimit = answerLimit
    self.errorPrefixLimit = errorPrefixLimit
  }
}
