#!/usr/bin/env python3
"""Faults: transient HTTP errors change nothing; failed requests are named
by merge and resubmitted by make retry, and the result then equals a
fault-free run's.

usage: python3 Tests/e2e/test_faults.py BIN_DIR [unittest options]
"""

import json
import shutil
import sys
import tempfile
from pathlib import Path

import support
from support import (CHAT_PROMPT, COUNTER_RE, E2ETest, make_sample, nonempty_string, read_lines, run_make,
                     start_emulator, tool_env, write_json)


class TestFaults(E2ETest):
    COUNT = 300
    reference = None

    @classmethod
    def setUpClass(cls):
        # The fault-free result, to compare the faulty runs with.
        cls.ref_dir = Path(tempfile.mkdtemp(prefix="batchline-e2e-ref-"))
        emulator = start_emulator(cls.ref_dir / "emulator")
        try:
            run = cls.ref_dir / "run"
            run.mkdir()
            make_sample(run / "items.jsonl", cls.COUNT)
            write_json(run / "prompt.json", CHAT_PROMPT)
            status, out, err = run_make("merged", "BATCH=%s" % run, "POLL=1", env=tool_env(emulator))
            if status != 0:
                raise RuntimeError("the fault-free run failed:\n" + out + err)
            cls.items = (run / "items.jsonl").read_bytes()
            cls.reference = (run / "items_classified.jsonl").read_bytes()
            cls.reference_counter = COUNTER_RE.findall(out)
        finally:
            emulator.stop()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.ref_dir, ignore_errors=True)

    def faulty_run(self):
        run = self.new_run(items=self.items, prompt=CHAT_PROMPT)
        return run

    def test_transient_http_faults_change_nothing(self):
        emulator = self.start_emulator()
        emulator.config(http_5xx_rate=0.3, http_429_rate=0.2, fault_methods=["GET"])
        run = self.faulty_run()
        out, err = self.make("merged", "BATCH=%s" % run, "POLL=1", env=self.env(emulator))
        faults = [e for e in emulator.log() if e.get("fault")]
        self.assertGreater(len(faults), 0, "the emulator injected faults")
        self.assertEqual((run / "items_classified.jsonl").read_bytes(), self.reference)
        self.assertEqual(COUNTER_RE.findall(out), self.reference_counter)
        self.assertEqual(len(emulator.acted("file.upload")), 1)
        self.assertEqual(len(emulator.acted("batch.create")), 1)

    def test_request_errors_then_make_retry(self):
        emulator = self.start_emulator()
        emulator.config(request_error_rate=0.1, request_error_codes=[500])
        run = self.faulty_run()
        env = self.env(emulator)
        out, err = self.make("merged", "BATCH=%s" % run, "POLL=1", env=env)
        items = read_lines(run / "items.jsonl")
        merged = read_lines(run / "items_classified.jsonl")
        self.assertEqual(len(merged), len(items))
        failed = 0
        for number, (item, line) in enumerate(zip(items, merged), 1):
            record = json.loads(line)
            self.assertTrue(line.startswith(item[:-1] + b',"llm":'), number)
            if record["llm"] is None:
                failed += 1
                error = record.get("llm_error")
                self.assertIsInstance(error, dict, number)
                self.assertEqual(sorted(error), ["code", "message", "status"], number)
                self.assertEqual(error["status"], 500, number)
                self.assertTrue(isinstance(error["message"], str) and error["message"], number)
                self.assertTrue(line.startswith(item[:-1] + b',"llm":null,"llm_error":{'), number)
            else:
                self.assertTrue(nonempty_string(record["llm"]), number)
                self.assertNotIn("llm_error", record)
        self.assertGreater(failed, 0, "some requests failed")
        self.assertLess(failed, len(items))
        report = [line for line in err.splitlines()
                  if line.startswith("batch-merge: ") and str(failed) in line]
        self.assertEqual(len(report), 1, "merge names the failures:\n" + err)
        self.assertIn("make retry", report[0])
        counter = COUNTER_RE.findall(out)
        self.assertEqual(len(counter), 1, out)
        self.assertEqual(int(counter[0][1]), len(items) - failed, "items answered")

        emulator.config(request_error_rate=0.0)
        out, err = self.make("retry", "BATCH=%s" % run, "POLL=1", env=env)
        self.assertEqual((run / "items_classified.jsonl").read_bytes(), self.reference)
        self.assertTrue((run / "in" / "batch_002.jsonl").exists())
        self.assertEqual(len(read_lines(run / "in" / "batch_002.jsonl")), failed)
        status = json.loads((run / "status.json").read_text())
        rounds = {f["input_filename"]["local"]: f["round"] for f in status["files"]}
        self.assertEqual(rounds, {"batch_001.jsonl": 1, "batch_002.jsonl": 2})
        self.assertEqual(len(emulator.acted("batch.create")), 2)

        # make cleaned deletes the files of both rounds.
        self.make("cleaned", "BATCH=%s" % run, "POLL=1", env=env)
        files = emulator.state()["files"]
        self.assertEqual(len(files), 5, files)  # 2 request files, 2 outputs, 1 error file
        self.assertEqual([f for f in files if not f["deleted"]], [], "every file deleted")


if __name__ == "__main__":
    sys.exit(support.main(sys.modules[__name__]))
