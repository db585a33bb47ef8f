import BatchCore

let manual = """
  batch-wait - wait until every batch has finished

  usage: batch-wait [--once] [--poll SECONDS] [dir]
         batch-wait --cancel [--poll SECONDS] [dir]
         batch-wait --status [dir]

  Polls each unfinished batch of dir/status.json (GET /v1/batches/ID) and
  records its status, request counts, errors, usage and result file ids,
  until every batch is completed, failed, expired or cancelled. Progress
  goes to standard error: live lines on a terminal (NO_COLOR honoured),
  a timestamped line when a batch's status changes elsewhere, and a
  total line every 5 minutes. A batch is read once per --poll (or POLL,
  default 60) seconds while its status stays the same, sooner only just
  after create and while it finalizes; status.json is written once per
  round of reads. --once polls once. --cancel cancels every batch of the
  run that has not ended (POST /v1/batches/ID/cancel), waits until each
  has ended, and downloads what they finished; it works while another
  batch-wait waits on the run, which then ends by itself. --status prints
  a summary of the run from status.json alone (no key needed) and exits.
  The directory defaults to "batch".

  Exit status: 0 every batch finished, 64 usage, 66 a file has no batch,
  75 batches still running with --once, or network trouble (run again),
  77 key refused, 78 no key or a bad setting.
  """

await Tool.run(name: "batch-wait", manual: manual) { arguments in
  let parsed = try Arguments(arguments, valued: ["--poll"], flags: ["--once", "--status", "--cancel"], maxOperands: 1)
  if parsed.flags.contains("--status") {
    print(try statusSummary(parsed.run), terminator: "")
    return
  }
  let poll = try parsed.number("--poll") ?? environmentNumber("POLL") ?? 60
  let cancel = parsed.flags.contains("--cancel")
  if cancel && parsed.flags.contains("--once") { throw ToolError.usage("--cancel waits for the batches; it takes no --once") }
  try await waitRun(WaitOptions(run: parsed.run, poll: poll, once: parsed.flags.contains("--once"), cancel: cancel))
  if cancel { try await downloadRun(parsed.run, skippingUnsubmitted: true) }
}
