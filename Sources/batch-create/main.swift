import BatchCore

let manual = """
  batch-create - create one batch per uploaded request file

  usage: batch-create [--token-limit N] [--poll SECONDS] [--max-cost USD] [dir]

  Creates a batch (POST /v1/batches) for every uploaded file in
  dir/status.json that has none, tagged with the run, file and digest in
  its metadata, and waits until each has passed validation. Batches go in
  only while the model's enqueued input tokens stay under its limit (given
  with --token-limit or TOKEN_LIMIT, or learned from a refusal). A file
  refused for the enqueued-token or -request limit, which other jobs may
  hold, is tried again after BATCHLINE_CAPACITY_PAUSE seconds (60),
  doubling up to ten times that, or as soon as one of the run's batches
  of the model ends, for up to BATCHLINE_CAPACITY_WAIT seconds (86400).
  A create cut off by a crash is found in the batch list and adopted,
  never repeated. A batch is read once per --poll (or POLL, 60) seconds,
  sooner while it validates. COMPLETION_WINDOW sets the window (24h; Groq
  takes up to 7d), BATCHLINE_FILE_EXPIRY how long the server keeps the
  results (14d; none: the provider's default). On Azure a file is used
  once the server has processed it. --max-cost (or MAX_COST) refuses to
  create any batch when those still to be made may cost more than that
  many USD, or use a model without a price. The directory defaults to
  "batch".

  Exit status: 0 done, 64 usage, 65 an upload the server could not
  process or the cost over --max-cost, 66 files not uploaded, 75 network
  trouble or no capacity within BATCHLINE_CAPACITY_WAIT (the files stay
  unsubmitted: run again), 77 key refused, 78 no key, a bad setting or a
  model without a price under --max-cost.
  """

await Tool.run(name: "batch-create", manual: manual) { arguments in
  let parsed = try Arguments(arguments, valued: ["--token-limit", "--poll", "--max-cost"], maxOperands: 1)
  var options = CreateOptions(run: parsed.run)
  if let limit = try parsed.number("--token-limit") ?? environmentNumber("TOKEN_LIMIT") { options.tokenLimit = Int(limit) }
  options.poll = try parsed.number("--poll") ?? environmentNumber("POLL") ?? 60
  options.maxCost = try parsed.number("--max-cost") ?? environmentNumber("MAX_COST")
  try await createRun(options)
}
