// swift-tools-version: 6.0
import PackageDescription

/// One library holds all the logic; each tool is a few lines over it.
let tools: [String] = [
  /** items + template → request files and a fresh ledger */
  "batch-prepare",
  /** uploads each request file and records its file id */
  "batch-upload",
  /** creates one batch per uploaded file and records its id */
  "batch-create",
  /** polls until every batch is terminal; records result file ids */
  "batch-wait",
  /** downloads output and error files into out/ */
  "batch-download",
  /** restores input order in each output file; accounts for every request */
  "batch-sort",
  /** adds each answer to its item → items_classified.jsonl; prints the cost */
  "batch-merge",
  /** deletes the remote files this run created, once results are on disk */
  "batch-cleanup",
]

let package = Package(
  name: "batchline",
  products: tools.map { .executable(name: $0, targets: [$0]) },
  targets: [
    /** The pipeline: JSON core, JSONL I/O, ledger, template, HTTP client, steps. */
    .target(name: "BatchCore"),
    .testTarget(name: "BatchCoreTests", dependencies: ["BatchCore"]),
  ] + tools.map { .executableTarget(name: $0, dependencies: ["BatchCore"]) }
)
