import BatchCore

let manual = """
  batch-cleanup - delete the remote files this run created

  usage: batch-cleanup [--forget] [dir]

  Deletes (DELETE /v1/files/ID) every request file of dir/status.json whose
  batch has finished and whose results are downloaded, every downloaded
  output and error file, and any upload of this run that a crash left
  unrecorded. Files still needed are kept and counted.

  --forget deletes nothing remote: it forgets the run locally (status.json,
  in/, out/, the stamps and items_classified.jsonl; the items, prompt.json
  and prices.json stay), and is refused while batches are in flight. The
  directory defaults to "batch".

  Exit status: 0 done, 1 batches in flight (--forget), 64 usage, 66 no
  status.json, 75 network trouble (run again), 77 key refused, 78 no key
  or a bad setting.
  """

await Tool.run(name: "batch-cleanup", manual: manual) { arguments in
  let parsed = try Arguments(arguments, flags: ["--forget"], maxOperands: 1)
  if parsed.flags.contains("--forget") {
    try forgetRun(parsed.run)
  } else {
    try await cleanupRun(parsed.run)
  }
}
