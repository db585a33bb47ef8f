import Foundation

/// A chunk of items, rendered into request lines on a worker thread.
final class PrepareChunk: PipelineChunk {
  /// What rendering one item found: plain values, so that handing them
  /// over involves no reference counting.
  struct Rendered {
    /// Where the line ends in the output.
    var end: Int
    /// The fingerprint of the decoded `custom_id`, when the template makes one.
    var fingerprint: UInt64?
    /// Which of `models`.
    var model: Int
    var estimatedTokens: Int
    var embeddingInputs: Int
  }

  // The properties are unchecked for exclusive access: one thread at a time
  // uses a chunk (the hand-over goes through a lock), and the checks at run
  // time cost more than the work on short lines.

  /// The items, back to back, and where each ends.
  @exclusivity(unchecked) private var input: [UInt8] = []
  @exclusivity(unchecked) private var itemEnds: [Int] = []
  @exclusivity(unchecked) private var firstLine = 0
  @exclusivity(unchecked) private var output: [UInt8] = []
  @exclusivity(unchecked) private var rendered: [Rendered] = []
  /// The models of the lines, each once per run of lines that share it.
  @exclusivity(unchecked) private var models: [String] = []
  private var scratch = RenderScratch()
  private var idScratch: [UInt8] = []
  /// The item that could not be rendered (its line), and why.
  private(set) var failure: (line: Int, error: Error)?
  /// An error of the reading, after the chunk's items.
  private(set) var stopError: Error?

  /// About how many bytes of items make a chunk: large enough that handing
  /// it over costs nothing, small enough that the chunks in flight (with
  /// their request lines, four times larger) take little memory.
  private static let targetBytes = 512 << 10

  init() {
    input.reserveCapacity(Self.targetBytes + (1 << 16))
    output.reserveCapacity(4 * Self.targetBytes)
  }

  var isFull: Bool { input.count >= Self.targetBytes }

  func reset() {
    input.removeAll(keepingCapacity: true)
    itemEnds.removeAll(keepingCapacity: true)
    output.removeAll(keepingCapacity: true)
    rendered.removeAll(keepingCapacity: true)
    models.removeAll(keepingCapacity: true)
    failure = nil
    stopError = nil
  }

  func add(_ item: UnsafeBufferPointer<UInt8>, lineNumber: Int) {
    if itemEnds.isEmpty { firstLine = lineNumber }
    input.append(contentsOf: item)
    itemEnds.append(input.count)
  }

  /// Ends the chunk with an error of the reading.
  func stop(with error: Error) { stopError = error }

  /// Renders the items, up to the first that fails (on a worker thread).
  func render(_ template: CompiledTemplate) {
    // Locals in the loop: a class's properties are checked for exclusive
    // access at run time, at every use.
    var output = self.output
    var rendered = self.rendered
    var models = self.models
    var scratch = self.scratch
    var idScratch = self.idScratch
    self.output = []
    input.withUnsafeBufferPointer { input in
      var start = 0
      for (n, end) in itemEnds.enumerated() {
        let item = UnsafeBufferPointer(rebasing: input[start..<end])
        start = end
        do {
          let line = try template.render(item: item, lineNumber: firstLine + n, into: &output, scratch: &scratch)
          var fingerprint: UInt64?
          if template.customID != nil {
            fingerprint = output.withUnsafeBufferPointer { out in
              let raw = UnsafeBufferPointer(rebasing: out[line.customID])
              guard raw.contains(UInt8(ascii: "\\")) else { return ByteHash.hash(raw) }
              idScratch.removeAll(keepingCapacity: true)
              JSONScanner(out).appendDecodedString(contents: line.customID, to: &idScratch)
              return idScratch.withUnsafeBufferPointer { ByteHash.hash($0) }
            }
          }
          let model = line.model ?? ""
          if models.isEmpty || models[models.count - 1] != model { models.append(model) }
          rendered.append(
            Rendered(
              end: output.count, fingerprint: fingerprint, model: models.count - 1,
              estimatedTokens: line.estimatedTokens, embeddingInputs: line.embeddingInputs))
        } catch {
          failure = (firstLine + n, error)
          break
        }
      }
    }
    self.output = output
    self.rendered = rendered
    self.models = models
    self.scratch = scratch
    self.idScratch = idScratch
  }

  /// Adds the rendered lines, in order, to the request files (those that
  /// `reuse` has no answer for) and their ids to the duplicate finder.
  ///
  /// - Returns: The number of lines added.
  func write(
    to writer: inout RequestFileWriter, duplicates: inout DuplicateFinder?, reuse: ReusePlan? = nil,
    digest: inout SHA256, itemsName: String
  ) throws -> Int {
    try output.withUnsafeBufferPointer { out in
      digest.update(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: out[0..<(rendered.last?.end ?? 0)])))
      var start = 0
      for (n, line) in rendered.enumerated() {
        if let fingerprint = line.fingerprint { duplicates?.add(fingerprint: fingerprint, line: firstLine + n) }
        // A request answered before is not sent again.
        if let reuse, try reuse.take(UnsafeBufferPointer(rebasing: out[start..<line.end])) {
          start = line.end
          continue
        }
        try writer.add(
          UnsafeBufferPointer(rebasing: out[start..<line.end]), model: models[line.model],
          estimatedTokens: line.estimatedTokens, embeddingInputs: line.embeddingInputs, itemLine: firstLine + n,
          itemsName: itemsName)
        start = line.end
      }
      // The lines are written before their buffer is reused.
      try writer.flushPending()
      return rendered.count
    }
  }
}
