import BatchCore

let manual = """
  batch-prepare - turn items and a template into Batch API request files

  usage: batch-prepare [--max-cost USD] [dir [items]]
         batch-prepare --retry [dir]

  Reads dir/prompt.json and the items: dir/items.jsonl, the file given, or
  standard input for "-" (kept as dir/items.jsonl, which merge reads again).
  Writes dir/in/batch_NNN.jsonl, split at 50,000 requests and 200 MB, and a
  new dir/status.json, and prints the request count and the estimated cost.
  --max-cost (or MAX_COST) refuses a run estimated above that many USD,
  or with a model that has no price.
  BATCHLINE_MAX_REQUESTS and BATCHLINE_MAX_BYTES make the files smaller;
  BATCHLINE_PROVIDER=groq splits them at Groq's 100 MB. A rerun whose
  request files come out the same keeps the run as it is.

  A request whose content (endpoint, body, provider and base URL) was
  answered by an earlier run is not sent: its answer is copied to
  dir/out/reused.jsonl for merge, and prepare prints how many were
  answered before and what is left to send. Answers are kept in
  dir/.answers, or in BATCHLINE_CACHE=dir, shared by run directories.

  --retry writes the requests whose failure can be retried (429, 5xx,
  expired, cancelled, never run) into new request files that continue the
  numbering, as the run's next round; make retry carries them through. The
  directory defaults to "batch".

  Exit status: 0 done, 64 usage, 65 bad items, template or cost over the
  limit, 66 missing file, 78 a bad setting (MAX_COST not a number), 1 the
  old run still has batches in flight.
  """

await Tool.run(name: "batch-prepare", manual: manual) { arguments in
  let parsed = try Arguments(arguments, valued: ["--max-cost"], flags: ["--retry"], maxOperands: 2)
  if parsed.flags.contains("--retry") {
    guard parsed.operands.count <= 1 else { throw ToolError.usage("--retry takes only the directory") }
    try prepareRetry(parsed.run, limits: FileLimits.fromEnvironment())
    return
  }
  let operands = parsed.operands == ["-"] ? ["batch", "-"] : parsed.operands
  var options = PrepareOptions(run: RunDirectory(operands.first ?? "batch"), items: operands.dropFirst().first)
  options.maxCost = try parsed.number("--max-cost") ?? environmentNumber("MAX_COST")
  options.limits = try FileLimits.fromEnvironment()
  try prepareRun(options)
}
