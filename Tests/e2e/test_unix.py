#!/usr/bin/env python3
"""A Unix citizen: --help, --version and unknown options; prepare reading
stdin; merge into a closed pipe; sort as a filter.

usage: python3 Tests/e2e/test_unix.py BIN_DIR [unittest options]
"""

import json
import shutil
import signal
import subprocess
import sys

import support
from support import (CHAT_PROMPT, COUNTER_RE, E2ETest, TOOLS, make_sample, read_lines, run_tool, snapshot,
                    write_json)


class TestUnixCitizen(E2ETest):
    def test_help_version_and_unknown_option(self):
        env = self.env(key=None)
        for tool in TOOLS:
            with self.subTest(tool=tool, option="--help"):
                out, err = self.tool(tool, "--help", env=env)
                self.assertRegex(out, r"(?m)^usage: %s\b" % tool)
                self.assertEqual(err, "")
            with self.subTest(tool=tool, option="--version"):
                out, err = self.tool(tool, "--version", env=env)
                self.assertRegex(out, r"^%s \S+\n$" % tool)
            with self.subTest(tool=tool, option="--bogus"):
                out, err = self.tool(tool, "--bogus", env=env, expect=64)
                self.assertEqual(out, "")
                lines = err.splitlines()
                self.assertEqual(len(lines), 2, err)
                self.assertTrue(lines[0].startswith(tool + ": ") and "--bogus" in lines[0], err)
                self.assertRegex(lines[1], r"^usage: %s\b" % tool)

    def test_prepare_reads_stdin_and_keeps_a_copy(self):
        make_sample(self.tmp / "items.jsonl", 100)
        data = (self.tmp / "items.jsonl").read_bytes()
        run = self.tmp / "run"
        run.mkdir()
        write_json(run / "prompt.json", CHAT_PROMPT)
        # As in `cat items.jsonl | batch-prepare run -`.
        status, out, err = run_tool("batch-prepare", "run", "-", cwd=self.tmp,
                                    env=self.env(key=None), input=data)
        self.assertEqual(status, 0, err)
        self.assertEqual((run / "items.jsonl").read_bytes(), data)
        self.assertEqual(len(read_lines(run / "in" / "batch_001.jsonl")), 100)
        self.assertEqual(json.loads((run / "status.json").read_text())["items"]["count"], 100)
        # Bad items from stdin leave the kept copy and the run as they were.
        before = snapshot(run)
        bad = data + b'{"uuid": "fd-x", "name":\n'
        status, out, err = run_tool("batch-prepare", "run", "-", cwd=self.tmp,
                                    env=self.env(key=None), input=bad)
        self.assertEqual(status, 65, err)
        self.assert_one_line(err, "batch-prepare")
        self.assertIn(":101: ", err)
        self.assertEqual(snapshot(run), before)

    def test_merge_into_a_closed_pipe_is_quiet(self):
        emulator = self.start_emulator()
        run = self.new_run()
        self.pipeline(run, self.env(emulator))
        first = read_lines(run / "items_classified.jsonl")[0] + b"\n"
        # -o - writes the items to stdout, and the Counter line to stderr.
        status, out, err = run_tool("batch-merge", "-o", "-", "run", cwd=self.tmp,
                                    env=self.env(), raw=True)
        self.assertEqual(status, 0, err)
        self.assertEqual(out, (run / "items_classified.jsonl").read_bytes())
        self.assertEqual(len(COUNTER_RE.findall(err.decode())), 1, err)
        # As in `batch-merge -o - run | head -1`.
        merge = subprocess.Popen([support.BIN / "batch-merge", "-o", "-", "run"], cwd=self.tmp,
                                 env=self.env(), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        head = subprocess.Popen(["head", "-1"], stdin=merge.stdout, stdout=subprocess.PIPE)
        merge.stdout.close()
        out, _ = head.communicate(timeout=60)
        err = merge.stderr.read().decode("utf-8", "replace")
        merge.stderr.close()
        status = merge.wait(timeout=60)
        self.assertEqual(out, first)
        self.assertIn(status, (0, -signal.SIGPIPE), err)
        self.assertEqual(merge.returncode, status)
        noise = [line for line in err.splitlines()
                 if not (COUNTER_RE.match(line) or line.startswith("batch-merge: tokens:"))]
        self.assertEqual(noise, [], "no error text on stderr")

    def test_sort_as_a_filter(self):
        make_sample(self.tmp / "items.jsonl", 60)
        run = self.tmp / "run"
        run.mkdir()
        write_json(run / "prompt.json", CHAT_PROMPT)
        shutil.copy(self.tmp / "items.jsonl", run / "items.jsonl")
        status, out, err = run_tool("batch-prepare", "run", cwd=self.tmp, env=self.env(key=None))
        self.assertEqual(status, 0, err)
        requests = read_lines(run / "in" / "batch_001.jsonl")
        ids = [json.loads(line)["custom_id"] for line in requests]
        # Result lines in another order, one request without any, one repeated.
        results = [json.dumps({"id": "batch_req_%d" % n, "custom_id": i, "response": {"status_code": 200,
                   "body": {"choices": [{"message": {"content": "x"}}]}}, "error": None}).encode()
                   for n, i in enumerate(ids)]
        shuffled = list(reversed(results[1:])) + [results[5]]
        # As in `batch-sort --requests run/in/batch_001.jsonl < results`.
        status, out, err = run_tool("batch-sort", "--requests", "run/in/batch_001.jsonl", cwd=self.tmp,
                                    env=self.env(key=None), input=b"\n".join(shuffled) + b"\n", raw=True)
        self.assertEqual(status, 0, err)
        self.assertEqual(out, b"\n".join(results[1:]) + b"\n")
        notes = err.decode().splitlines()
        self.assertIn("batch-sort: dropped 1 repeated result line", notes)
        self.assertIn("batch-sort: 1 request has no result line: '%s'" % ids[0], notes)


if __name__ == "__main__":
    sys.exit(support.main(sys.modules[__name__]))
