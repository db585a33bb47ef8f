// swift-tools-version: 6.0
import PackageDescription

/// One library holds all the logic; each tool is a few lines over it.
let tools: [(name: String, summary: String)] = [
  /** items + template → request files and a fresh ledger */
  ("batch-prepare", "prepare"),
  /** uploads each request file and records its file id */
  ("batch-upload", "upload"),
  /** creates one batch per uploaded file and records its id */
  ("batch-create", "create"),
  /** polls until every batch is terminal; records result file ids */
  ("batch-wait", "wait"),
  /** downloads output and error files into out/ */
  ("batch-download", "download"),
  /** restores input order in each output file; accounts for every request */
  ("batch-sort", "sort"),
  /** adds each answer to its item → items_classified.jsonl; prints the cost */
  ("batch-merge", "merge"),
  /** deletes the remote files this run created, once results are on disk */
  ("batch-cleanup", "cleanup"),
]

let package = Package(
  name: "batchline",
  products: tools.map { .executable(name: $0.name, targets: [$0.name]) },
  targets: [
    /** The pipeline: JSON core, JSONL I/O, ledger, template, HTTP client, steps. */
    .target(name: "BatchCore"),
    .testTarget(name: "BatchCoreTests", dependencies: ["BatchCore"]),
  ] + tools.map { .executableTarget(name: $0.name, dependencies: ["BatchCore"]) }
)
