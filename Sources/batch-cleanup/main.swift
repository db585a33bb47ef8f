import BatchCore

let manual = """
  batch-cleanup - delete the remote files this run created

  usage: batch-cleanup [--forget] [dir]

  Deletes (DELETE /v1/files/ID) every request file of dir/status.json whose
  batch has finished and whose results are downloaded, every downloaded
  output and error file, and any upload of this run that a crash left
  unrecorded. Files still needed are kept and counted. Then deletes every
  remote file of the earlier runs kept in dir/.forgotten/ (runs a new
  prepare replaced, or --forget left without a key). It never uploads or
  creates anything; with nothing recorded as remote it says so and calls
  nothing.

  --forget forgets the run locally (status.json, in/, out/, the stamps,
  items_classified.jsonl and the store of answers; the items, prompt.json
  and prices.json stay), and is refused while batches are in flight. With
  a key it deletes the run's remote files first; without one it keeps the
  run's ledger in dir/.forgotten/ so that a later batch-cleanup (make
  cleaned) deletes them. The directory defaults to "batch".

  Exit status: 0 done, 1 batches in flight (--forget), 64 usage, 75
  network trouble (run again), 77 key refused, 78 no key or a bad
  setting.
  """

await Tool.run(name: "batch-cleanup", manual: manual) { arguments in
  let parsed = try Arguments(arguments, flags: ["--forget"], maxOperands: 1)
  if parsed.flags.contains("--forget") {
    try await forgetRun(parsed.run)
  } else {
    try await cleanupRun(parsed.run)
  }
}
