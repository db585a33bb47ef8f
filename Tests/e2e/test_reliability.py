#!/usr/bin/env python3
"""Reliability, end to end: what a long run meets, and one `make merged`
(plus `make retry`) that still brings every item back.

- an enqueued-token limit several times smaller than the dataset, learned
  from the server's refusals (nothing configured);
- expired batches and per-request failures, then `make retry` until no
  failure is left;
- truncated downloads and transient 429/5xx on every kind of call.

usage: python3 Tests/e2e/test_reliability.py BIN_DIR [unittest options]
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from collections import Counter

import support
from support import four_file_env, make_argv, merged_lines, sample_run, start_emulator


class ReliabilityTests(unittest.TestCase):
    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="batchline-reliability-")
        self.emulator = start_emulator(self.workdir, "--seed", 11, speed=0.02)

    def tearDown(self):
        self.emulator.stop()
        if not os.environ.get("BATCHLINE_E2E_KEEP"):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def new_run(self, name):
        return sample_run(self.workdir, name)

    def make(self, run, *targets):
        return subprocess.run(make_argv("--no-print-directory", *targets, "BATCH=" + run),
                              env=four_file_env(self.emulator, BATCHLINE_VISIBILITY_WAIT=2),
                              capture_output=True, text=True, timeout=300)

    def check(self, result):
        self.assertEqual(result.returncode, 0, result.stdout[-3000:] + result.stderr[-3000:])

    def merged(self, run):
        return [json.loads(line) for line in merged_lines(self, run)]

    def reference(self):
        run = self.new_run("reference")
        self.check(self.make(run, "merged", "cleaned"))
        return [item["llm"] for item in self.merged(run)]

    def test_dataset_larger_than_the_enqueued_token_limit(self):
        expected = self.reference()
        # Four files of about 57,000 estimated tokens each; the limit lets one
        # in at a time. Batches must run long enough to overlap.
        self.emulator.config(enqueued_token_limit=100000, speed=0.3)
        run = self.new_run("limited")
        result = self.make(run, "merged")
        self.check(result)
        self.assertEqual([item["llm"] for item in self.merged(run)], expected)
        with open(os.path.join(run, "status.json")) as ledger:
            status = json.load(ledger)
        self.assertEqual(status.get("token_limits"), {"gpt-4o-mini": 100000}, "the limit was not learned")
        self.assertIn("learned the enqueued-token limit", result.stderr)
        # Refused batches cost nothing; each file still has exactly one batch that ran.
        self.assertTrue(all(f["status"] == "completed" for f in status["files"]))

    def test_expired_batches_and_failed_requests_then_retry(self):
        expected = self.reference()
        self.emulator.config(expire_count=2, expire_after_fraction=0.5,
                             request_error_rate=0.15, request_error_codes=[500, 429, "request_timeout"])
        run = self.new_run("faulty")
        result = self.make(run, "merged")
        self.check(result)
        items = self.merged(run)
        failed = [item for item in items if item["llm"] is None]
        self.assertTrue(failed, "no failure was injected")
        self.assertTrue(all(set(item["llm_error"]) == {"status", "code", "message"} for item in failed))
        codes = Counter(item["llm_error"]["code"] or item["llm_error"]["status"] for item in failed)
        self.assertIn("batch_expired", codes)
        self.assertRegex(result.stderr, r"%d of 1000 items failed .*make retry" % len(failed))
        # The faults stop; make retry converges to no failure.
        self.emulator.config(expire_rate=0, expire_count=0, request_error_rate=0)
        for _ in range(3):
            result = self.make(run, "retry")
            self.check(result)
            if "items failed" not in result.stderr:
                break
        self.assertEqual([item["llm"] for item in self.merged(run)], expected)
        with open(os.path.join(run, "status.json")) as ledger:
            rounds = {f["round"] for f in json.load(ledger)["files"]}
        self.assertGreaterEqual(max(rounds), 2)
        # Everything of every round is deleted by make cleaned.
        self.check(self.make(run, "cleaned"))
        left = [f for f in self.emulator.state()["files"] if not f["deleted"]]
        self.assertEqual(left, [])

    def test_truncated_downloads_and_transient_errors(self):
        expected = self.reference()
        self.emulator.config(truncate_download_rate=0.5, http_429_rate=0.1, http_5xx_rate=0.1, retry_after=0.2)
        run = self.new_run("flaky")
        result = None
        said = ""  # what every make said: the last one may have met no fault
        for _ in range(4):
            result = self.make(run, "merged")
            said += result.stdout + result.stderr
            if result.returncode == 0:
                break
            self.assertIn("Error 75", result.stdout + result.stderr)
        self.check(result)
        self.assertEqual([item["llm"] for item in self.merged(run)], expected)
        self.assertRegex(said, r"retrying|truncated|again", "no fault was reported")
        log = self.emulator.log()
        with open(os.path.join(run, "status.json")) as ledger:
            status = json.load(ledger)
        prefix = "batchline-%s-" % status["run_id"]
        uploads = Counter(e["filename"] for e in log if e.get("action") == "file.upload" and e.get("acted")
                          and e.get("filename", "").startswith(prefix))
        self.assertEqual(set(uploads.values()), {1}, uploads)


if __name__ == "__main__":
    sys.exit(support.main(sys.modules[__name__]))
