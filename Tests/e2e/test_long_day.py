#!/usr/bin/env python3
"""A day on the real service, compressed on the emulator's side:

- batches that stay in progress with creeping counts are read once per
  POLL, not once a second, and a log gets a line per status change;
- another job of the organisation holds most of the enqueued-token limit:
  create waits for it by the clock and one `make merged` answers every
  item; a long enough hold makes create exit 75 with the files unsubmitted,
  and a rerun goes on; several runs at once all complete; the enqueued
  request limit is learned as a limit of its own;
- `make cancelled` from a second terminal while `make merged` waits: every
  batch cancelled at the server, what finished merged at once, the rest
  resubmitted by `make retry`, nothing answered twice.

The tools keep their real defaults, except BATCHLINE_CAPACITY_PAUSE (the
first pause before a model refused for capacity is tried again).

usage: python3 Tests/e2e/test_long_day.py BIN_DIR [unittest options]
"""

import json
import os
import subprocess
import sys
import time
import unittest

import support
from support import E2ETest, make_argv


class LongDayTests(E2ETest):
    def run_env(self, emulator, **extra):
        settings = {"BATCHLINE_VISIBILITY_WAIT": 2}
        settings.update(extra)
        return self.env(emulator, **settings)

    def ledger(self, run):
        return json.loads((run / "status.json").read_text())

    def all_answered(self, run):
        """Every item of the merged result has its answer."""
        self.assert_merged(run, answer_check=support.nonempty_string)

    def background_make(self, run, env, target="merged"):
        """`make target` started in its own process group, killed at cleanup if still running."""
        proc = subprocess.Popen(make_argv("--no-print-directory", target, "BATCH=%s" % run), env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)

        def stop():
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
                proc.wait()
        self.addCleanup(stop)
        return proc

    def cancel_while_merged_waits(self, emulator, run, env, ready):
        """Starts `make merged`, runs `make cancelled` once ready(batches of
        the run, files of its ledger) holds, and checks that the waiting make
        then ends by itself with status 0. Returns make cancelled's stderr."""
        waiting = self.background_make(run, env)
        deadline = time.monotonic() + 60
        while True:
            mine = [b for b in emulator.state()["batches"] if (b.get("metadata") or {}).get("batchline_run")]
            try:
                files = self.ledger(run)["files"]
            except (OSError, ValueError):
                files = []
            if ready(mine, files):
                break
            self.assertLess(time.monotonic(), deadline, mine)
            time.sleep(0.3)
        out, err = self.make("cancelled", "BATCH=%s" % run, env=env, timeout=120)
        out, merged_err = waiting.communicate(timeout=60)
        self.assertEqual(waiting.returncode, 0, merged_err[-3000:])
        return err

    # ----------------------------------------------------------------------
    # Polling

    def test_batches_in_progress_for_long_are_read_once_per_poll(self):
        poll = 5
        emulator = self.start_emulator(speed=1)
        emulator.config(validating_seconds=1, in_progress_seconds=20, per_request_seconds=0,
                        finalizing_seconds=3)
        run = self.new_run()
        env = self.run_env(emulator, POLL=poll, BATCHLINE_MAX_REQUESTS=200)
        started = time.monotonic()
        out, err = self.make("merged", "BATCH=%s" % run, env=env, timeout=200)
        wall = time.monotonic() - started
        self.all_answered(run)
        stats = emulator.admin("GET", "stats")
        reads = stats["batch_reads"]
        self.assertEqual(len(reads), 5, reads)
        bound = wall / poll + 10
        for batch, count in reads.items():
            self.assertLessEqual(count, bound, "%s read %d times in %.0f s with POLL=%d" % (
                batch, count, wall, poll))
        # Counts creep on every read; without the pause they would cost a read a second.
        self.assertGreater(wall, 20)
        self.assertLessEqual(stats["batch_reads_total"], 5 * bound)
        # In a log: a line per batch per status change (validating at most,
        # in_progress, finalizing, completed), not one per change of counts.
        for n in range(1, 6):
            lines = [l for l in err.splitlines() if " batch_%03d batch_" % n in l]
            self.assertGreaterEqual(len(lines), 2, err[-3000:])
            self.assertLessEqual(len(lines), 4, "\n".join(lines))

    # ----------------------------------------------------------------------
    # Shared capacity

    def held_emulator(self, share, seconds, **settings):
        emulator = self.start_emulator(speed=0.05)
        emulator.config(track_answers=True, **settings)
        emulator.config(held_share=share, held_seconds=seconds, held_visible=True)
        return emulator

    def check_waited_for_capacity(self, emulator, run, err, kind="tokens", limit="300,000"):
        self.all_answered(run)
        self.assertIn("waiting for enqueued capacity of gpt-4o-mini, limit %s %s; next try in" % (limit, kind), err)
        stats = emulator.admin("GET", "stats")
        self.assertFalse(stats["held_batch_cancelled"], "the other job's batch was cancelled")
        self.assertEqual(stats["answered"]["twice"], 0)
        ledger = self.ledger(run)
        self.assertTrue(all(f["status"] == "completed" for f in ledger["files"]))

    def test_another_job_holds_the_token_limit_at_validation(self):
        # Three files of about 76,000 estimated tokens; 10% of 300,000 is free for 5 s.
        emulator = self.held_emulator(0.9, 5, enqueued_token_limit={"gpt-4o-mini": 300000})
        run = self.new_run()
        env = self.run_env(emulator, BATCHLINE_MAX_REQUESTS=334, BATCHLINE_CAPACITY_PAUSE=1)
        out, err = self.make("merged", "BATCH=%s" % run, env=env, timeout=200)
        self.check_waited_for_capacity(emulator, run, err)
        self.assertEqual(self.ledger(run)["token_limits"], {"gpt-4o-mini": 300000})
        refused = [p for f in self.ledger(run)["files"] for p in f.get("previous_batches", [])]
        self.assertTrue(refused, "no batch was refused: the hold did not bite")

    def test_another_job_holds_the_token_limit_at_create(self):
        emulator = self.held_emulator(0.9, 5, enqueued_token_limit={"gpt-4o-mini": 300000},
                                      token_limit_at_create=429)
        run = self.new_run()
        env = self.run_env(emulator, BATCHLINE_MAX_REQUESTS=334, BATCHLINE_CAPACITY_PAUSE=1)
        out, err = self.make("merged", "BATCH=%s" % run, env=env, timeout=200)
        self.check_waited_for_capacity(emulator, run, err)
        self.assertTrue(all(not f.get("previous_batches") for f in self.ledger(run)["files"]))

    def test_the_enqueued_request_limit_is_a_limit_of_its_own(self):
        emulator = self.held_emulator(0.9, 5, enqueued_request_limit={"gpt-4o-mini": 2000})
        run = self.new_run()
        env = self.run_env(emulator, BATCHLINE_MAX_REQUESTS=334, BATCHLINE_CAPACITY_PAUSE=1)
        out, err = self.make("merged", "BATCH=%s" % run, env=env, timeout=200)
        self.check_waited_for_capacity(emulator, run, err, kind="requests", limit="2,000")
        ledger = self.ledger(run)
        self.assertEqual(ledger["request_limits"], {"gpt-4o-mini": 2000})
        self.assertNotIn("token_limits", ledger)

    def test_a_hold_longer_than_the_wait_leaves_the_files_unsubmitted(self):
        emulator = self.held_emulator(0.9, 600, enqueued_token_limit={"gpt-4o-mini": 300000},
                                      token_limit_at_create=429)
        run = self.new_run()
        env = self.run_env(emulator, BATCHLINE_MAX_REQUESTS=334, BATCHLINE_CAPACITY_PAUSE=1,
                           BATCHLINE_CAPACITY_WAIT=3)
        out, err = self.make("merged", "BATCH=%s" % run, env=env, expect=2, timeout=200)
        self.assertRegex(err, r"batch-create: in/batch_00\d\.jsonl: no enqueued capacity for gpt-4o-mini in \d+s; "
                              r"not submitted; run again to go on")
        for f in self.ledger(run)["files"]:
            self.assertIsNone(f.get("batch_id"))
            self.assertIsNone(f.get("status"))
        self.tool("batch-create", run, env=env, expect=75)
        # The other job ends: the rerun goes on.
        emulator.config(held_share=0)
        self.make("merged", "BATCH=%s" % run, env=env, timeout=200)
        self.all_answered(run)

    def test_several_runs_of_one_organisation_all_complete(self):
        # Each run has two files of about 115,000 tokens; two fit in the limit at once.
        emulator = self.held_emulator(0.9, 6, enqueued_token_limit={"gpt-4o-mini": 300000})
        runs = [self.new_run("run%d" % n) for n in range(3)]
        env = self.run_env(emulator, BATCHLINE_MAX_REQUESTS=500, BATCHLINE_CAPACITY_PAUSE=1)
        procs = [self.background_make(run, env) for run in runs]
        for proc in procs:
            out, err = proc.communicate(timeout=300)
            self.assertEqual(proc.returncode, 0, err[-3000:])
        for run in runs:
            self.all_answered(run)
        # The runs share their custom_ids: each was answered once per run.
        self.assertEqual(emulator.admin("GET", "stats")["answered"]["requests"], 3000)

    # ----------------------------------------------------------------------
    # Cancel

    def test_cancel_while_merged_waits_then_retry(self):
        emulator = self.start_emulator(speed=1)
        emulator.config(validating_seconds=1, in_progress_seconds=40, per_request_seconds=0,
                        finalizing_seconds=1, cancelling_seconds=2, track_answers=True)
        run = self.new_run()
        env = self.run_env(emulator, BATCHLINE_MAX_REQUESTS=250, POLL=2)
        # Once every batch runs and some requests are done, cancel from a second terminal.
        err = self.cancel_while_merged_waits(emulator, run, env, lambda batches, files: (
            len(batches) == 4 and all(b["status"] == "in_progress" for b in batches)
            and all(b["request_counts"]["completed"] >= 25 for b in batches)))
        self.assertEqual(err.count("cancelling batch"), 4, err)
        state = emulator.state()["batches"]
        self.assertEqual([b["status"] for b in state], ["cancelled"] * 4)
        items = [json.loads(line) for line in support.merged_lines(self, run)]
        done = sum(1 for item in items if item["llm"] is not None)
        self.assertGreaterEqual(done, 100)
        self.assertLess(done, 1000)
        for item in items:
            if item["llm"] is None:
                self.assertEqual(item["llm_error"]["code"], "batch_cancelled", item)
        # make merged again does nothing; make retry answers the rest.
        self.make("merged", "BATCH=%s" % run, env=env)
        emulator.config(in_progress_seconds=1)
        self.make("retry", "BATCH=%s" % run, env=env, timeout=200)
        self.all_answered(run)
        answered = emulator.admin("GET", "stats")["answered"]
        self.assertEqual(answered["twice"], 0, answered)
        self.assertEqual(answered["custom_ids"], 1000, answered)

    def test_cancel_while_create_waits_for_capacity(self):
        # Ten files of about 23,000 tokens; the other job leaves room for one.
        emulator = self.held_emulator(0.9, 600, enqueued_token_limit={"gpt-4o-mini": 300000})
        emulator.config(speed=1, validating_seconds=1, in_progress_seconds=60, per_request_seconds=0,
                        cancelling_seconds=1)
        run = self.new_run()
        env = self.run_env(emulator, BATCHLINE_MAX_REQUESTS=100, BATCHLINE_CAPACITY_PAUSE=1, POLL=2)
        # One batch runs, the other files wait for capacity.
        err = self.cancel_while_merged_waits(emulator, run, env, lambda batches, files: (
            any(b["status"] == "in_progress" for b in batches)
            and len([f for f in files if f.get("previous_batches") and not f.get("batch_id")]) >= 3))
        self.assertIn("it will not be submitted", err)
        # None of the run's batches is left running or ran after the cancel:
        # the files that had none then never got one.
        time.sleep(3)
        mine = [b for b in emulator.state()["batches"] if (b.get("metadata") or {}).get("batchline_run")]
        self.assertTrue(all(b["status"] in ("cancelled", "failed") for b in mine), mine)
        files = self.ledger(run)["files"]
        unsubmitted = [f for f in files if f.get("batch_id") is None]
        self.assertTrue(unsubmitted)
        self.assertTrue(all(f["status"] == "cancelled" for f in unsubmitted), unsubmitted)
        self.assertEqual(len([b for b in mine if b["status"] == "cancelled"]), len(files) - len(unsubmitted))
        self.assertFalse(emulator.admin("GET", "stats")["held_batch_cancelled"])
        items = [json.loads(line) for line in support.merged_lines(self, run)]
        self.assertTrue(all(item["llm"] is not None or item["llm_error"]["code"] == "batch_cancelled"
                            for item in items))
        emulator.config(held_share=0, in_progress_seconds=1)
        self.make("retry", "BATCH=%s" % run, env=env, timeout=200)
        self.all_answered(run)
        self.assertEqual(emulator.admin("GET", "stats")["answered"]["twice"], 0)


if __name__ == "__main__":
    sys.exit(support.main(sys.modules[__name__]))
