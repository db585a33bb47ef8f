import BatchCore

let manual = """
  batch-sort - put each batch's results back in input order

  usage: batch-sort [dir]
         batch-sort --requests file [results]

  For every batch whose results are downloaded (dir/status.json), rewrites
  dir/out/batch_NNN.jsonl and dir/out/batch_NNN_error.jsonl in the order of
  dir/in/batch_NNN.jsonl, atomically, and names every request that has
  neither an answer nor an error line. Repeated result lines are dropped.
  The directory defaults to "batch".

  As a filter, --requests names a request file: the result lines (the file
  given, or standard input) go to standard output in its order, and the
  requests with no result line are named on standard error.

  Exit status: 0 done, 64 usage, 65 a result line is not JSON or names an
  unknown request, 66 missing file.
  """

await Tool.run(name: "batch-sort", manual: manual) { arguments in
  let parsed = try Arguments(arguments, valued: ["--requests"], maxOperands: 1)
  if let requests = parsed.values["--requests"] {
    try sortFilter(requests: requests, results: parsed.operands.first ?? "-")
  } else {
    try sortRun(parsed.run)
  }
}
