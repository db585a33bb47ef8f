import Foundation
import Testing

@testable import BatchCore

private let chatTemplate =
  #"{"url":"/v1/chat/completions","custom_id":"{{id}}","body":{"model":"gpt-4o-mini","max_tokens":50,"messages":[{"role":"user","content":"Item: {{name}}"}]}}"#

/// A run directory with items and a template, prepared on demand.
private struct Fixture {
  let scratch: ScratchDirectory
  let run: RunDirectory

  init(items: String, prompt: String = chatTemplate) throws {
    scratch = try ScratchDirectory("prepare")
    run = try scratch.makeRun()
    try writeText(items, to: run.itemsPath)
    try writeText(prompt, to: run.promptPath)
  }

  func prepare(limits: FileLimits = FileLimits(), maxCost: Double? = nil, items: String? = nil) throws {
    var options = PrepareOptions(run: run, items: items, maxCost: maxCost)
    options.limits = limits
    try prepareRun(options)
  }

  var ledger: Ledger { get throws { try run.loadLedger() } }

  func request(_ local: String) -> String { readText(run.requestPath(local)) }

  /// Every file of the run (the lock file aside), by path inside the run, with its bytes.
  func snapshot() -> [String: [UInt8]] {
    var files: [String: [UInt8]] = [:]
    for name in listDirectory(run.path) where name != ".batchline.lock" {
      if name == "in" || name == "out" {
        for inner in listDirectory(run.file(name)) { files["\(name)/\(inner)"] = readBytes(run.file("\(name)/\(inner)")) }
      } else {
        files[name] = readBytes(run.file(name))
      }
    }
    return files
  }
}

/// `n` items `{"id":"i<k>","name":"name<k>"}`, one per line.
private func items(_ n: Int, id: (Int) -> String = { "i\($0)" }) -> String {
  (1...n).map { #"{"id":"\#(id($0))","name":"n\#(String($0).leftPadded(to: 4))"}"# }.joined(separator: "\n") + "\n"
}

@Suite struct PrepareTests {
  @Test func requestFilesAndANewLedger() throws {
    let fixture = try Fixture(items: #"{"id":"a","name":"Brie"}"# + "\n" + #"{"name":"Comté","id":"b","x":[1]}"# + "\n")
    try fixture.prepare()
    #expect(
      fixture.request("batch_001.jsonl")
        == #"{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","max_tokens":50,"messages":[{"role":"user","content":"Item: Brie"}]}}"#
        + "\n"
        + #"{"custom_id":"b","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","max_tokens":50,"messages":[{"role":"user","content":"Item: Comté"}]}}"#
        + "\n")
    #expect(listDirectory(fixture.run.inDirectory) == ["batch_001.jsonl"])
    #expect(listDirectory(fixture.run.outDirectory).isEmpty)

    let ledger = try fixture.ledger
    #expect(ledger.runId.hasPrefix("run-") && ledger.runId.count == 20)
    #expect(ledger.runId.dropFirst(4).allSatisfy { $0.isHexDigit })
    #expect(abs(ledger.createdAt - Int(Date().timeIntervalSince1970)) < 60)
    #expect(ledger.endpoint == "/v1/chat/completions")
    #expect(ledger.outputField == "llm")
    #expect(ledger.baseUrl == nil && ledger.tokenLimits == nil)
    #expect(ledger.items == ItemsRecord(path: "items.jsonl", count: 2, bytes: readBytes(fixture.run.itemsPath).count))
    let file = try #require(ledger.files.first)
    #expect(ledger.files.count == 1)
    #expect(file.inputFilename == InputFile(local: "batch_001.jsonl", requests: 2, bytes: readBytes(fixture.run.requestPath("batch_001.jsonl")).count))
    #expect(file.round == 1)
    #expect(file.model == "gpt-4o-mini")
    #expect(file.maxOutputTokens == 50)
    #expect(file.estimatedInputTokens > 0)
    #expect(file.batchId == nil && file.status == nil && file.outputFilenames == nil)
  }

  @Test func crlfAndAMissingFinalNewlineMakeTheSameRequests() throws {
    let plain = try Fixture(items: #"{"id":"a","name":"x"}"# + "\n" + #"{"id":"b","name":"y"}"# + "\n")
    let crlf = try Fixture(items: #"{"id":"a","name":"x"}"# + "\r\n" + #"{"id":"b","name":"y"}"#)
    try plain.prepare()
    try crlf.prepare()
    #expect(plain.request("batch_001.jsonl") == crlf.request("batch_001.jsonl"))
    #expect(try crlf.ledger.items.bytes == readBytes(crlf.run.itemsPath).count)
    #expect(try crlf.ledger.items.count == 2)
  }

  @Test func splitsAtTheRequestLimit() throws {
    let whole = try Fixture(items: items(5))
    try whole.prepare()
    let split = try Fixture(items: items(5))
    var limits = FileLimits()
    limits.requests = 2
    try split.prepare(limits: limits)
    let ledger = try split.ledger
    #expect(ledger.files.map(\.inputFilename.local) == ["batch_001.jsonl", "batch_002.jsonl", "batch_003.jsonl"])
    #expect(ledger.files.map(\.inputFilename.requests) == [2, 2, 1])
    for file in ledger.files {
      #expect(file.inputFilename.bytes == readBytes(split.run.requestPath(file.inputFilename.local)).count)
      #expect(file.round == 1)
    }
    #expect(ledger.files.map(\.estimatedInputTokens).reduce(0, +) == (try whole.ledger.files[0].estimatedInputTokens))
    let joined = ledger.files.map { split.request($0.inputFilename.local) }.joined()
    #expect(joined == whole.request("batch_001.jsonl"))
  }

  @Test func splitsAtTheByteLimit() throws {
    let whole = try Fixture(items: items(5))
    try whole.prepare()
    let lines = readLines(of: whole.run.requestPath("batch_001.jsonl"))
    let size = lines[0].utf8.count + 1
    #expect(lines.allSatisfy { $0.utf8.count + 1 == size })

    for (limit, perFile) in [(2 * size, 2), (2 * size + size / 2, 2), (3 * size - 1, 2), (3 * size, 3), (size, 1)] {
      let split = try Fixture(items: items(5))
      var limits = FileLimits()
      limits.bytes = limit
      try split.prepare(limits: limits)
      let ledger = try split.ledger
      let expected = stride(from: 0, to: 5, by: perFile).map { min(perFile, 5 - $0) }
      #expect(ledger.files.map(\.inputFilename.requests) == expected, "limit \(limit)")
      for file in ledger.files {
        #expect(file.inputFilename.bytes <= limit)
        #expect(file.inputFilename.bytes == readBytes(split.run.requestPath(file.inputFilename.local)).count)
      }
    }
  }

  @Test func aRequestOverTheByteLimitIsBadData() throws {
    let fixture = try Fixture(items: items(3))
    var limits = FileLimits()
    limits.bytes = 100
    let error = toolError { try fixture.prepare(limits: limits) }
    #expect(error?.status == .dataError)
    #expect(error?.message.hasPrefix("\(fixture.run.itemsPath):1: the request is ") == true)
    #expect(error?.message.hasSuffix(" bytes, over the 100-byte file limit") == true)
    #expect(listDirectory(fixture.run.inDirectory).isEmpty)
    #expect(!fixture.run.hasLedger)
  }

  @Test func embeddingInputsCountTowardTheirLimit() throws {
    let prompt = #"{"url":"/v1/embeddings","custom_id":"{{id}}","body":{"model":"text-embedding-3-small","input":"{{texts}}"}}"#
    let text = [#"{"id":"a","texts":["1","2","3"]}"#, #"{"id":"b","texts":["4"]}"#, #"{"id":"c","texts":["5","6"]}"#]
    let fixture = try Fixture(items: text.joined(separator: "\n"), prompt: prompt)
    var limits = FileLimits()
    limits.embeddingInputs = 4
    try fixture.prepare(limits: limits)
    #expect(try fixture.ledger.files.map(\.inputFilename.requests) == [2, 1])

    let over = try Fixture(items: #"{"id":"a","texts":["1","2","3","4","5"]}"#, prompt: prompt)
    let error = toolError { try over.prepare(limits: limits) }
    #expect(error?.status == .dataError)
    #expect(error?.message == "\(over.run.itemsPath):1: 5 embedding inputs, over the limit of 4 per file")
  }

  @Test func aTemplatedModelStartsANewFileWhenItChanges() throws {
    let prompt = #"{"url":"/v1/chat/completions","custom_id":"{{id}}","body":{"model":"{{model}}","messages":[{"role":"user","content":"{{name}}"}]}}"#
    let text = [("a", "gpt-4o-mini"), ("b", "gpt-4o-mini"), ("c", "gpt-4o"), ("d", "gpt-4o-mini")]
      .map { #"{"id":"\#($0.0)","model":"\#($0.1)","name":"x"}"# }.joined(separator: "\n")
    let fixture = try Fixture(items: text, prompt: prompt)
    try fixture.prepare()
    let ledger = try fixture.ledger
    #expect(ledger.files.map(\.model) == ["gpt-4o-mini", "gpt-4o", "gpt-4o-mini"])
    #expect(ledger.files.map(\.inputFilename.requests) == [2, 1, 1])
    #expect(fixture.request("batch_002.jsonl").contains(#""custom_id":"c""#))
    #expect(fixture.request("batch_002.jsonl").contains(#""model":"gpt-4o""#))
  }

  /// Over 2 MB of items: several chunks rendered at once, which must come out
  /// exactly as the items rendered one by one, split where one by one splits.
  @Test func manyChunksComeOutAsItemsRenderedOneByOne() throws {
    let prompt = #"{"url":"/v1/chat/completions","custom_id":"{{id}}","body":{"model":"{{model}}","messages":[{"role":"user","content":"{{name}}"}]}}"#
    let count = 24_000
    let padding = String(repeating: "x", count: 60)
    let lines = (1...count).map { n in
      let model = (9_000..<9_100).contains(n) ? "gpt-4o" : "gpt-4o-mini"
      return #"{"id":"i\#(n)","name":"\#(padding) \#(n)","model":"\#(model)"}"#
    }
    let fixture = try Fixture(items: lines.joined(separator: "\n") + "\n", prompt: prompt)
    var limits = FileLimits()
    limits.requests = 5_000
    try fixture.prepare(limits: limits)

    // One by one: render each item, start a file at 5,000 requests or a new model.
    let template = try Template(bytes: Array(prompt.utf8), name: "prompt.json")
    var expected: [(model: String, requests: Int, text: [UInt8])] = []
    for (index, line) in lines.enumerated() {
      var out: [UInt8] = []
      let bytes = Array(line.utf8)
      let request = try bytes.withUnsafeBufferPointer { try template.render(item: $0, lineNumber: index + 1, into: &out) }
      let model = request.model ?? ""
      if expected.isEmpty || expected[expected.count - 1].requests == 5_000 || expected[expected.count - 1].model != model {
        expected.append((model, 0, []))
      }
      expected[expected.count - 1].requests += 1
      expected[expected.count - 1].text += out
    }
    let ledger = try fixture.ledger
    #expect(ledger.items.count == count)
    #expect(ledger.files.map(\.model) == expected.map(\.model))
    #expect(ledger.files.map(\.inputFilename.requests) == expected.map(\.requests))
    for (file, want) in zip(ledger.files, expected) {
      #expect(readBytes(fixture.run.requestPath(file.inputFilename.local)) == want.text, "\(file.inputFilename.local)")
    }

    // A bad item deep in a later chunk is named by its own line.
    var bad = lines
    bad[19_999] = #"{"id":"i20000","model":"gpt-4o-mini"}"#
    bad[22_000] = "not json"
    try writeText(bad.joined(separator: "\n") + "\n", to: fixture.run.itemsPath)
    let before = fixture.snapshot()
    let error = toolError { try fixture.prepare(limits: limits) }
    #expect(error?.message == "\(fixture.run.itemsPath):20000: field 'name' is missing")
    var after = fixture.snapshot()
    after["items.jsonl"] = before["items.jsonl"]
    #expect(after == before)
  }

  // MARK: - Bad input

  static let badItems: [(name: String, items: [UInt8], message: String)] = [
    ("not JSON", Array((#"{"id":"a","name":"x"}"# + "\n" + #"{"id":"b","#).utf8), ":2: not valid JSON: "),
    ("not an object", Array((#"{"id":"a","name":"x"}"# + "\n[1]\n").utf8), ":2: not a JSON object"),
    ("missing field", Array(#"{"id":"a"}"#.utf8), ":1: field 'name' is missing"),
    ("byte-order mark", [0xEF, 0xBB, 0xBF] + Array(#"{"id":"a","name":"x"}"#.utf8),
     ":1: byte-order mark at the start of the file (save it as UTF-8 without BOM)"),
    ("blank line", Array((#"{"id":"a","name":"x"}"# + "\n\n" + #"{"id":"b","name":"y"}"#).utf8), ":2: blank line"),
    ("blank last line", Array((#"{"id":"a","name":"x"}"# + "\n\n").utf8), ":2: blank line"),
    ("empty", [], ": no items (the file is empty)"),
    ("duplicate", Array(items(3, id: { $0 == 3 ? "i1" : "i\($0)" }).utf8), ":3: duplicate custom_id 'i1' (first on line 1)"),
    ("escaped duplicate", Array((#"{"id":"a3","name":"x"}"# + "\n" + #"{"id":"a\u0033","name":"y"}"#).utf8),
     ":2: duplicate custom_id 'a3' (first on line 1)"),
    ("has the output field", Array(#"{"id":"a","name":"x","llm":"old"}"#.utf8),
     #":1: the item already has a field 'llm'; set "output_field" in prompt.json"#),
    ("invalid UTF-8", Array(#"{"id":"a","name":"x"#.utf8) + [0xFF] + Array(#""}"#.utf8), ":1: not valid JSON: invalid UTF-8"),
    ("trailing text", Array(#"{"id":"a","name":"x"} {}"#.utf8), ":1: not valid JSON: unexpected text after the JSON value"),
    ("empty id", Array(#"{"id":"","name":"x"}"#.utf8), ":1: custom_id is empty"),
  ]

  @Test(arguments: PrepareTests.badItems.indices)
  func badItemsLeaveNoFileBehind(_ index: Int) throws {
    let (name, bad, message) = Self.badItems[index]
    let fixture = try Fixture(items: "")
    try writeBytes(bad, to: fixture.run.itemsPath)
    let error = toolError { try fixture.prepare() }
    #expect(error?.status == .dataError, "\(name)")
    #expect(error?.message.hasPrefix(fixture.run.itemsPath + message) == true, "\(name): \(error?.message ?? "")")
    #expect(listDirectory(fixture.run.inDirectory).isEmpty, "\(name)")
    #expect(listDirectory(fixture.run.outDirectory).isEmpty, "\(name)")
    #expect(listDirectory(fixture.run.path).filter { $0 != ".batchline.lock" } == ["in", "items.jsonl", "out", "prompt.json"])
  }

  @Test(arguments: PrepareTests.badItems.indices)
  func badItemsLeaveTheEarlierRunAsItWas(_ index: Int) throws {
    let (name, bad, _) = Self.badItems[index]
    let fixture = try Fixture(items: items(4))
    var limits = FileLimits()
    limits.requests = 3
    try fixture.prepare(limits: limits)
    try writeText("{}\n", to: fixture.run.resultPath("batch_001.jsonl"))
    let before = fixture.snapshot()
    try writeBytes(bad, to: fixture.run.itemsPath)
    let error = toolError { try fixture.prepare(limits: limits) }
    #expect(error?.status == .dataError, "\(name)")
    var after = fixture.snapshot()
    after["items.jsonl"] = before["items.jsonl"]
    #expect(after == before, "\(name)")
  }

  @Test func aBadTemplateLeavesTheEarlierRunAsItWas() throws {
    let fixture = try Fixture(items: items(2))
    try fixture.prepare()
    let before = fixture.snapshot()
    try writeText(#"{"url":"/v1/chat/completions","body":{"model":"m","messages":[{"content":"{{name"}]}}"#, to: fixture.run.promptPath)
    let error = toolError { try fixture.prepare() }
    #expect(error?.status == .dataError)
    #expect(error?.message == #"\#(fixture.run.promptPath): unclosed placeholder in "{{name""#)
    var after = fixture.snapshot()
    after["prompt.json"] = before["prompt.json"]
    #expect(after == before)
  }

  @Test func missingFilesAreMissingInput() throws {
    let fixture = try Fixture(items: items(1))
    try FileManager.default.removeItem(atPath: fixture.run.itemsPath)
    #expect(toolError { try fixture.prepare() }?.status == .noInput)
    try writeText(items(1), to: fixture.run.itemsPath)
    try FileManager.default.removeItem(atPath: fixture.run.promptPath)
    #expect(toolError { try fixture.prepare() }?.status == .noInput)
    #expect(!fixture.run.hasLedger)
  }

  @Test func duplicatesFarApartAreFound() throws {
    // Over 65,536 lines apart: the two ids land in different sorted runs.
    let count = 70_010
    let text = (1...count).map { #"{"id":"i\#($0 == 70_005 ? 2 : $0)"}"# }.joined(separator: "\n")
    let fixture = try Fixture(
      items: text, prompt: #"{"url":"/v1/embeddings","custom_id":"{{id}}","body":{"model":"m","input":"x"}}"#)
    let error = toolError { try fixture.prepare() }
    #expect(error?.status == .dataError)
    #expect(error?.message == "\(fixture.run.itemsPath):70005: duplicate custom_id 'i2' (first on line 2)")
    #expect(listDirectory(fixture.run.inDirectory).isEmpty)
    #expect(!fixture.run.hasLedger)
  }

  @Test func theEarliestDuplicateIsReported() throws {
    // i5 repeats on line 9; i1 repeats later, on line 12.
    let fixture = try Fixture(items: items(12, id: { $0 == 9 ? "i5" : $0 == 12 ? "i1" : "i\($0)" }))
    let error = toolError { try fixture.prepare() }
    #expect(error?.message == "\(fixture.run.itemsPath):9: duplicate custom_id 'i5' (first on line 5)")
  }

  // MARK: - Reruns

  @Test func aRerunWithUnchangedItemsKeepsTheRun() throws {
    let fixture = try Fixture(items: items(5))
    var limits = FileLimits()
    limits.requests = 2
    try fixture.prepare(limits: limits)
    // The run went on: upload recorded an id.
    try fixture.run.updateLedger { ledger in
      ledger.baseUrl = "https://api.openai.com/v1"
      ledger.files[0].inputFilename.remote = "file-abc"
      ledger.files[0].inputFilename.uploadStartedAt = 1
    }
    let before = fixture.snapshot()
    try fixture.prepare(limits: limits)
    #expect(fixture.snapshot() == before)
    #expect(try fixture.ledger.files[0].inputFilename.remote == "file-abc")
  }

  @Test func aChangedItemIsRefusedWhileABatchIsInFlight() throws {
    let fixture = try Fixture(items: items(3))
    try fixture.prepare()
    for state in ["batch", "upload intent", "create intent", "not downloaded"] {
      try fixture.run.updateLedger { ledger in
        var file = ledger.files[0]
        file.inputFilename.remote = nil
        file.inputFilename.uploadStartedAt = nil
        file.createStartedAt = nil
        file.batchId = nil
        file.status = nil
        switch state {
        case "batch":
          file.inputFilename.remote = "file-1"
          file.batchId = "batch_1"
          file.status = .inProgress
        case "upload intent":
          file.inputFilename.uploadStartedAt = 1
        case "create intent":
          file.inputFilename.remote = "file-1"
          file.createStartedAt = 1
        default:
          file.inputFilename.remote = "file-1"
          file.batchId = "batch_1"
          file.status = .completed
          file.outputFilenames = OutputFiles(ok: ResultFile(remote: "file-out"), failed: ResultFile(remote: nil))
        }
        ledger.files[0] = file
      }
      try writeText(items(3), to: fixture.run.itemsPath)
      let before = fixture.snapshot()
      try writeText(items(3, id: { "changed\($0)" }), to: fixture.run.itemsPath)
      let error = toolError { try fixture.prepare() }
      #expect(error?.status == .failure, "\(state)")
      #expect(
        error?.message
          == "'\(fixture.run.ledgerPath)' has 1 batch not finished or not downloaded; to finish it as recorded, "
          + "run make sorted -o \(fixture.run.path)/.stamps/prepared (then make merged reuses its answers)",
        "\(state)")
      var after = fixture.snapshot()
      after["items.jsonl"] = before["items.jsonl"]
      #expect(after == before, "\(state)")
    }
  }

  @Test func aChangedItemAfterAFinishedRunStartsANewRun() throws {
    let fixture = try Fixture(items: items(5))
    var limits = FileLimits()
    limits.requests = 2
    try fixture.prepare(limits: limits)
    let old = try fixture.ledger
    try fixture.run.updateLedger { ledger in
      for n in ledger.files.indices {
        ledger.files[n].inputFilename.remote = "file-\(n)"
        ledger.files[n].batchId = "batch_\(n)"
        ledger.files[n].status = .completed
        var ok = ResultFile(remote: "file-out\(n)")
        ok.local = "batch_00\(n + 1).jsonl"
        ledger.files[n].outputFilenames = OutputFiles(ok: ok, failed: ResultFile(remote: nil))
      }
    }
    try writeText("{}\n", to: fixture.run.resultPath("batch_001.jsonl"))
    try writeText("{}\n", to: fixture.run.resultPath("batch_002_error.jsonl"))
    try writeText(items(2, id: { "new\($0)" }), to: fixture.run.itemsPath)
    try fixture.prepare(limits: limits)
    let ledger = try fixture.ledger
    #expect(ledger.runId != old.runId)
    #expect(ledger.files.count == 1)
    #expect(ledger.files[0].inputFilename.remote == nil)
    #expect(listDirectory(fixture.run.inDirectory) == ["batch_001.jsonl"])
    #expect(listDirectory(fixture.run.outDirectory).isEmpty)
    #expect(fixture.request("batch_001.jsonl").contains(#""custom_id":"new1""#))
  }

  @Test func maxCostRefusesAnExpensiveRun() throws {
    let fixture = try Fixture(items: items(20))
    let error = toolError { try fixture.prepare(maxCost: 0.000_001) }
    #expect(error?.status == .dataError)
    #expect(error?.message.hasPrefix("the estimated cost, up to ") == true)
    #expect(error?.message.hasSuffix(" USD, is over the limit of 0.000001 USD (MAX_COST or --max-cost)") == true)
    #expect(listDirectory(fixture.run.inDirectory).isEmpty)
    #expect(!fixture.run.hasLedger)
    try fixture.prepare(maxCost: 100)
    #expect(fixture.run.hasLedger)
  }

  @Test func itemsFromAnotherFileAreTheItemsMergeReads() throws {
    let fixture = try Fixture(items: items(2, id: { "stale\($0)" }))
    let other = fixture.scratch.path + "/other.jsonl"
    try writeText(items(2, id: { "given\($0)" }), to: other)
    try fixture.prepare(items: other)
    #expect(fixture.request("batch_001.jsonl").contains(#""custom_id":"given1""#))
    let ledger = try fixture.ledger
    // Merge reads the items again from the ledger's path: it must be the file given.
    #expect(readBytes(fixture.run.file(ledger.items.path)) == readBytes(other))
  }
}

@Suite struct FileLimitsTests {
  @Test func openAIsLimitsByDefault() throws {
    let limits = try FileLimits.fromEnvironment([:])
    #expect(limits.requests == 50_000)
    #expect(limits.bytes == 200_000_000)
  }

  /// Groq takes files of 100 MB, whether named or recognised by its URL.
  @Test(arguments: [
    ["BATCHLINE_PROVIDER": "groq"], ["BATCHLINE_PROVIDER": "Groq"],
    ["OPENAI_BASE_URL": "https://api.groq.com/openai/v1"],
  ])
  func groqFilesAreSmaller(env: [String: String]) throws {
    let limits = try FileLimits.fromEnvironment(env)
    #expect(limits.bytes == 100_000_000)
    #expect(limits.requests == 50_000)
  }

  /// The variables only ever lower a limit.
  @Test func variablesLowerTheProvidersLimits() throws {
    let groq = try FileLimits.fromEnvironment(["BATCHLINE_PROVIDER": "groq", "BATCHLINE_MAX_BYTES": "150000000"])
    #expect(groq.bytes == 100_000_000)
    let small = try FileLimits.fromEnvironment(["BATCHLINE_MAX_BYTES": "1000", "BATCHLINE_MAX_REQUESTS": "60000"])
    #expect(small.bytes == 1000)
    #expect(small.requests == 50_000)
  }

  @Test func anUnknownProviderIsAConfigurationError() {
    #expect {
      _ = try FileLimits.fromEnvironment(["BATCHLINE_PROVIDER": "acme"])
    } throws: { ($0 as? ToolError)?.status == .configuration }
  }
}
