#!/usr/bin/env python3
"""Crash safety, end to end: `make merged` killed with SIGKILL at many moments.

Each run is killed (the whole process group: make and the tool it runs) at
a chosen moment, then rerun to completion. The result must equal an
undisturbed run's, byte for byte, and the emulator's request log must show
exactly one upload per request file and one batch per request file: nothing
paid twice. A second test injects the faults that leave a client unsure:
connections dropped after the server acted on an upload, a create or a
delete, and uploads that are listed only after a delay.

usage: python3 Tests/e2e/test_crash.py BIN_DIR [unittest options]
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from collections import Counter

import support
from support import four_file_env, make_argv, sample_run, start_emulator


class CrashTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="batchline-crash-")
        cls.emulator = start_emulator(cls.workdir, speed=0.1)

    @classmethod
    def tearDownClass(cls):
        cls.emulator.stop()
        shutil.rmtree(cls.workdir, ignore_errors=True)

    def new_run(self, name):
        return sample_run(self.workdir, name)

    def make(self, run, *targets, capture=False):
        """Starts make in a process group of its own, so that a kill reaches the tool it runs."""
        output = subprocess.PIPE if capture else subprocess.DEVNULL
        return subprocess.Popen(make_argv("--no-print-directory", *targets, "BATCH=" + run),
                                env=four_file_env(self.emulator), stdout=output, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def finish(self, run, *targets, timeout=180):
        process = self.make(run, *(targets or ("merged",)), capture=True)
        output, _ = process.communicate(timeout=timeout)
        self.assertEqual(process.returncode, 0, output.decode(errors="replace"))
        return output.decode(errors="replace")

    def paid_calls(self, run_id):
        """Uploads and creates that took effect, per request file of the run."""
        uploads, creates = Counter(), Counter()
        prefix = "batchline-%s-" % run_id
        for entry in self.emulator.log():
            if not entry.get("acted"):
                continue
            if entry.get("action") == "file.upload" and (entry.get("filename") or "").startswith(prefix):
                uploads[entry["filename"][len(prefix):]] += 1
            if entry.get("action") == "batch.create" and (entry.get("metadata") or {}).get("batchline_run") == run_id:
                creates[entry["metadata"]["batchline_file"]] += 1
        return uploads, creates

    def check_run(self, run, reference, label):
        with open(os.path.join(run, "items_classified.jsonl"), "rb") as result:
            self.assertEqual(result.read(), reference, label + ": the result differs from an undisturbed run's")
        with open(os.path.join(run, "status.json")) as ledger:
            status = json.load(ledger)
        files = [entry["input_filename"]["local"] for entry in status["files"]]
        uploads, creates = self.paid_calls(status["run_id"])
        for name in files:
            self.assertEqual(uploads[name], 1, "%s: %s uploaded %d times" % (label, name, uploads[name]))
            self.assertEqual(creates[name], 1, "%s: %s got %d batches" % (label, name, creates[name]))
        self.finish(run, "cleaned")
        state = self.emulator.state()
        ours = {entry["input_filename"].get("remote") for entry in status["files"]}
        for entry in status["files"]:
            for kind in ("ok", "failed"):
                ours.add(((entry.get("output_filenames") or {}).get(kind) or {}).get("remote"))
        prefix = "batchline-%s-" % status["run_id"]
        left = [f for f in state["files"] if not f["deleted"] and (f["id"] in ours or f["filename"].startswith(prefix))]
        self.assertEqual(left, [], label + ": remote files left after make cleaned")

    def reference(self):
        if not hasattr(CrashTests, "_reference"):
            run = self.new_run("reference")
            started = time.time()
            self.finish(run)
            CrashTests._duration = time.time() - started
            with open(os.path.join(run, "items_classified.jsonl"), "rb") as result:
                CrashTests._reference = result.read()
        return CrashTests._reference, CrashTests._duration

    def test_killed_at_many_moments(self):
        reference, duration = self.reference()
        moments = [duration * k / 9 for k in range(1, 9)]
        for n, moment in enumerate(moments):
            label = "kill at %.2fs of %.2fs" % (moment, duration)
            run = self.new_run("kill-%02d" % n)
            process = self.make(run, "merged")
            time.sleep(moment)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            # A second kill, early in the rerun, for half the runs.
            if n % 2:
                process = self.make(run, "merged")
                time.sleep(duration / 7)
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            self.finish(run)
            self.check_run(run, reference, label)

    def test_dropped_answers_and_late_listing(self):
        reference, _ = self.reference()
        self.emulator.config(drop_after_action_rate=0.5, fault_actions=["file.upload", "batch.create", "file.delete"],
                             file_visibility_delay=1.0, seed=7)
        try:
            run = self.new_run("dropped")
            for attempt in range(8):
                process = self.make(run, "merged", capture=True)
                output, _ = process.communicate(timeout=180)
                if process.returncode == 0:
                    break
                self.assertIn("Error 75", output.decode(errors="replace"), "only 'try again later' may stop the run")
            else:
                self.fail("make merged did not finish in 8 runs")
            self.check_run(run, reference, "dropped connections")
        finally:
            self.emulator.config(drop_after_action_rate=0, file_visibility_delay=0)


if __name__ == "__main__":
    sys.exit(support.main(sys.modules[__name__]))
