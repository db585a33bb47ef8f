#!/usr/bin/env python3
"""The whole pipeline, as a user runs it: through make (a rerun, make cleaned,
a touched input, a finished run merged again without a key), with the
downloads staged in the run, and split at 50,000 requests in input order.

usage: python3 Tests/e2e/test_pipeline.py BIN_DIR [unittest options]
"""

import json
import os
import re
import sys
import time

import support
from support import COUNTER_RE, E2ETest, PIPELINE, TOOL_LINE_RE, nonempty_string, read_lines


class TestHappyPathMake(E2ETest):
    def test_make_merged_rerun_cleaned_and_touch(self):
        emulator = self.start_emulator()
        run = self.new_run()
        env = self.env(emulator)
        batch = "BATCH=%s" % run

        out, err = self.make("merged", batch, "POLL=1", env=env)
        for tool in PIPELINE:
            self.assertRegex(out, r"(?m)/%s %s$" % (tool, re.escape(str(run))), "make ran " + tool)
        self.assert_merged(run, answer_check=nonempty_string)
        counter = COUNTER_RE.findall(out)
        self.assertEqual(len(counter), 1, "the Counter line on stdout:\n" + out)
        price, items, tokens_in, tokens_out = counter[0]
        self.assertEqual(int(items), 1000)
        self.assertGreater(int(tokens_in), 0)
        self.assertGreater(int(tokens_out), 0)
        self.assertEqual(len(emulator.acted("file.upload")), 1)
        self.assertEqual(len(emulator.acted("batch.create")), 1)
        result = (run / "items_classified.jsonl").read_bytes()

        # Nothing is stale: make runs no tool.
        out, err = self.make("merged", batch, "POLL=1", env=env)
        self.assertIn("Nothing to be done", out)
        self.assertIsNone(TOOL_LINE_RE.search(out + err), "no tool runs:\n" + out + err)

        # make cleaned deletes every remote file of the run.
        out, err = self.make("cleaned", batch, "POLL=1", env=env)
        files = emulator.state()["files"]
        self.assertGreaterEqual(len(files), 2, files)  # the request file and the output
        self.assertEqual([f for f in files if not f["deleted"]], [], "every file deleted")

        # A touched items.jsonl makes prepare stale ...
        time.sleep(0.01)
        os.utime(run / "items.jsonl")
        out, err = self.make("-n", "merged", batch, "POLL=1", env=env)
        self.assertRegex(out, r"(?m)/batch-prepare %s$" % re.escape(str(run)))
        # ... and rerunning it keeps the run: same result, no new upload or batch.
        out, err = self.make("merged", batch, "POLL=1", env=env)
        self.assertEqual((run / "items_classified.jsonl").read_bytes(), result)
        self.assertEqual(len(emulator.acted("file.upload")), 1, "no new upload")
        self.assertEqual(len(emulator.acted("batch.create")), 1, "no new batch")

        # A finished run is merged again without a key or a network: the
        # paid steps have nothing to do and call nothing.
        time.sleep(0.01)
        os.utime(run / "prompt.json")
        requests = len(emulator.log())
        out, err = self.make("merged", batch, "POLL=1", env=self.env(None, key=None))
        self.assertRegex(out, r"(?m)/batch-upload %s$" % re.escape(str(run)))
        self.assertEqual((run / "items_classified.jsonl").read_bytes(), result)
        self.assertEqual(len(emulator.log()), requests, "no request reached the server")


    def test_downloads_are_staged_in_the_run_not_in_tmpdir(self):
        """batch-download writes nothing to $TMPDIR (often a tmpfs, where a
        200 MB file would sit in memory and then be copied): a TMPDIR that
        does not exist changes nothing, and out/.incoming is left empty."""
        emulator = self.start_emulator()
        run = self.new_run(count=300)
        env = self.env(emulator)
        for name in ("batch-prepare", "batch-upload", "batch-create", "batch-wait"):
            self.tool(name, run, env=env)
        incoming = run / "out" / ".incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        (incoming / "0C4F.tmp").write_bytes(b"left by a killed download")
        self.tool("batch-download", run, env=dict(env, TMPDIR=str(self.tmp / "no-such-dir")))
        self.assertFalse(incoming.exists(), "out/.incoming is removed")
        self.assertEqual(len(read_lines(run / "out" / "batch_001.jsonl")), 300)
        for name in ("batch-sort", "batch-merge"):
            self.tool(name, run, env=env)
        self.assert_merged(run, answer_check=nonempty_string)


class TestSplitting(E2ETest):
    # Two full files and a short third: every boundary of the split, in fewer items.
    COUNT = 100_500
    SIZES = [50_000, 50_000, 500]
    PROMPT = {
        "url": "/v1/chat/completions",
        "custom_id": "{{id}}",
        "body": {"model": "gpt-4o-mini", "max_tokens": 5,
                 "messages": [{"role": "user", "content": "Say {{t}}"}]},
    }

    def new_split_run(self):
        items = "".join('{"id": %d, "t": "x"}\n' % n for n in range(1, self.COUNT + 1))
        return self.new_run(items=items.encode(), prompt=self.PROMPT)

    def check_prepared(self, run):
        names = sorted(p.name for p in (run / "in").iterdir())
        self.assertEqual(names, ["batch_%03d.jsonl" % n for n in range(1, len(self.SIZES) + 1)])
        ids = []
        for name, size in zip(names, self.SIZES):
            lines = read_lines(run / "in" / name)
            self.assertEqual(len(lines), size, name)
            ids.extend(json.loads(line)["custom_id"] for line in lines)
        self.assertEqual(ids, [str(n) for n in range(1, self.COUNT + 1)], "input order")
        status = json.loads((run / "status.json").read_text())
        self.assertEqual([(f["input_filename"]["local"], f["input_filename"]["requests"], f["round"])
                          for f in status["files"]],
                         [(n, s, 1) for n, s in zip(names, self.SIZES)])
        self.assertEqual(status["items"]["count"], self.COUNT)

    def test_prepare_splits_at_50000(self):
        run = self.new_split_run()
        self.tool("batch-prepare", run, env=self.env(key=None))
        self.check_prepared(run)

    def test_pipeline_keeps_order_across_files(self):
        emulator = self.start_emulator()
        run = self.new_split_run()
        started = time.monotonic()
        out, err = self.pipeline(run, self.env(emulator))
        elapsed = time.monotonic() - started
        self.check_prepared(run)
        self.assert_merged(run, answer_check=nonempty_string)
        self.assertEqual(len(emulator.acted("batch.create")), 3)
        # Well under a minute on 2 cores; the limit leaves room for a loaded machine.
        self.assertLess(elapsed, 120, "the %d-item pipeline took %.1f s" % (self.COUNT, elapsed))


if __name__ == "__main__":
    sys.exit(support.main(sys.modules[__name__]))
