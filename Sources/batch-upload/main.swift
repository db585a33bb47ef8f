import BatchCore

let manual = """
  batch-upload - upload each request file to the Files API

  usage: batch-upload [--max-cost USD] [dir]

  Uploads every dir/in/batch_NNN.jsonl that dir/status.json records as not
  uploaded (POST /v1/files, purpose "batch"), three at a time, streaming
  each from disk, and records its file id. An upload cut off by a crash or
  a lost answer is found again on the server and adopted, never repeated.
  --max-cost (or MAX_COST) refuses to upload when the files still to be
  paid for may cost more than that many USD, or use a model without a
  price. Needs OPENAI_API_KEY; OPENAI_BASE_URL picks the server. Each
  upload carries expires_after where the provider takes it:
  BATCHLINE_FILE_EXPIRY (14d, or the window plus a week; none sends
  none). The directory defaults to "batch".

  Exit status: 0 done, 64 usage, 65 a request file changed since prepare
  or the cost over --max-cost, 66 missing file, 75 network trouble (run
  again), 77 key refused, 78 no key, a bad setting or a model without a
  price under --max-cost.
  """

await Tool.run(name: "batch-upload", manual: manual) { arguments in
  let parsed = try Arguments(arguments, valued: ["--max-cost"], maxOperands: 1)
  try await uploadRun(parsed.run, maxCost: try parsed.number("--max-cost") ?? environmentNumber("MAX_COST"))
}
