import BatchCore

let manual = """
  batch-download - fetch each batch's output and error files

  usage: batch-download [dir]

  For every finished batch in dir/status.json, downloads its output file to
  dir/out/batch_NNN.jsonl and its error file to dir/out/batch_NNN_error.jsonl
  (GET /v1/files/ID/content), four at a time, streaming to disk; each file
  lands whole or not at all and is checked against Content-Length and the
  batch's request counts. Each transfer is written straight into
  dir/out/NAME.part and renamed when it is whole. The directory defaults
  to "batch".

  Exit status: 0 done, 64 usage, 66 batches not finished, 75 network
  trouble (run again), 77 key refused, 78 no key or a bad setting.
  """

await Tool.run(name: "batch-download", manual: manual) { arguments in
  let parsed = try Arguments(arguments, maxOperands: 1)
  try await downloadRun(parsed.run)
}
