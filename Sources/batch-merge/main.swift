import BatchCore

let manual = """
  batch-merge - add each answer to its item, in input order

  usage: batch-merge [-o file] [dir]

  Streams dir/items.jsonl with the sorted results of every round and writes
  dir/items_classified.jsonl (or the file given with -o; "-o -" writes to
  standard output): each item's own bytes plus the answer field ("llm"
  unless prompt.json sets "output_field"). Failed items get "llm": null and
  "llm_error": {"status", "code", "message"}. Items whose answer prepare
  reused from an earlier run take it from dir/out/reused.jsonl. Prints
  one line, "price: 0.02 USD; items: 1000; tokens (llm in: N, llm out:
  N)", then the tokens in detail and the failures with the make retry
  hint, and keeps the answers for reuse (dir/.answers or BATCHLINE_CACHE).
  The directory defaults to "batch".

  Exit status: 0 done (even when some items failed), 64 usage, 65 the
  files do not match, 66 results not downloaded or sorted yet.
  """

await Tool.run(name: "batch-merge", manual: manual) { arguments in
  let parsed = try Arguments(arguments, valued: ["-o"], maxOperands: 1)
  try mergeRun(MergeOptions(run: parsed.run, output: parsed.values["-o"]))
}
