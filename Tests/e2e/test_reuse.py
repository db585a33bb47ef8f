#!/usr/bin/env python3
"""Answers reused by request content: an answer already paid for is never
paid for again. Appended items send only the new ones, a different split
sends nothing, an edited template sends everything (and says so), failed
requests are sent again, BATCHLINE_CACHE shares answers between run
directories, and a damaged store is ignored with a note, never trusted.

usage: python3 Tests/e2e/test_reuse.py BIN_DIR [unittest options]
"""

import json
import os
import sys
import time

import support
from support import E2ETest, read_lines


class TestReuse(E2ETest):
    def append_items(self, run, count, tag):
        lines = read_lines(run / "items.jsonl")
        with open(run / "items.jsonl", "ab") as items:
            for n in range(count):
                item = json.loads(lines[n])
                item["uuid"] = "%s-%d" % (tag, n)
                item["name"] = "%s %s" % (item["name"], tag)
                items.write(json.dumps(item).encode() + b"\n")

    def touch(self, path):
        time.sleep(0.01)
        os.utime(path)

    def test_appended_items_resplit_and_edited_template(self):
        emulator = self.start_emulator()
        run = self.new_run(count=200)
        env = self.env(emulator, BATCHLINE_MAX_REQUESTS=50)
        self.make("merged", "BATCH=%s" % run, env=env)
        first = read_lines(run / "items_classified.jsonl")
        self.assertEqual(len(emulator.acted("file.upload")), 4)

        # Appended items: only they are sent.
        self.append_items(run, 7, "appended")
        out, err = self.make("merged", "BATCH=%s" % run, env=env)
        self.assertIn("207 requests: 200 answered before, 7 to send", err)
        self.assertEqual(len(emulator.acted("file.upload")), 5)
        self.assertEqual(len(read_lines(run / "in" / "batch_001.jsonl")), 7)
        self.assertEqual(sorted(os.listdir(run / "in")), ["batch_001.jsonl"])
        second = read_lines(run / "items_classified.jsonl")
        self.assertEqual(second[:200], first, "the reused answers are the answers")
        self.assertEqual(len(second), 207)
        self.assertTrue(all(b'"llm":null' not in line for line in second))

        # Another split: the same requests, so the run goes on; nothing is sent.
        self.touch(run / "items.jsonl")
        out, err = self.make("merged", "BATCH=%s" % run, env=self.env(emulator, BATCHLINE_MAX_REQUESTS=30))
        self.assertIn("the run goes on as recorded", err)
        self.assertEqual(len(emulator.acted("file.upload")), 5)
        self.assertEqual(len(emulator.acted("batch.create")), 5)
        self.assertEqual(read_lines(run / "items_classified.jsonl"), second)
        out, err = self.make("status", "BATCH=%s" % run, env=env)
        self.assertIn("207 answered, 0 failed (0 retryable) of 207 items", out + err)

        # An edited template: everything is sent, and prepare says why.
        prompt = json.loads((run / "prompt.json").read_text())
        prompt["body"]["max_tokens"] = 21
        support.write_json(run / "prompt.json", prompt)
        out, err = self.make("merged", "BATCH=%s" % run, env=env)
        self.assertIn("207 requests: 0 answered before, 207 to send (no stored answer matches", err)
        self.assertEqual(len(emulator.acted("file.upload")), 5 + 5)

        # make clean forgets the store with the run; make cleaned leaves nothing.
        self.make("clean", "BATCH=%s" % run, env=env)
        self.assertFalse((run / ".answers").exists())
        self.make("cleaned", "BATCH=%s" % run, env=env)
        self.assertEqual([f for f in emulator.state()["files"] if not f["deleted"]], [])

    def test_failed_requests_are_sent_again(self):
        emulator = self.start_emulator()
        emulator.config(request_error_rate=0.2, request_error_codes=[500])
        run = self.new_run(count=100)
        env = self.env(emulator)
        self.make("merged", "BATCH=%s" % run, env=env)
        failed = sum(b'"llm":null' in line for line in read_lines(run / "items_classified.jsonl"))
        self.assertGreater(failed, 0)
        emulator.config(request_error_rate=0)
        self.append_items(run, 1, "more")
        out, err = self.make("merged", "BATCH=%s" % run, env=env)
        self.assertIn("101 requests: %d answered before, %d to send" % (100 - failed, failed + 1), err)
        self.assertTrue(all(b'"llm":null' not in line for line in read_lines(run / "items_classified.jsonl")))

    def test_a_shared_cache_and_a_damaged_store(self):
        emulator = self.start_emulator()
        cache = self.tmp / "cache"
        env = self.env(emulator, BATCHLINE_CACHE=cache)
        one = self.new_run("one", count=60)
        self.make("merged", "BATCH=%s" % one, env=env)
        self.assertEqual(len(emulator.acted("file.upload")), 1)
        # Another directory with the same items: nothing sent.
        two = self.new_run("two", items=(one / "items.jsonl").read_bytes(), prompt=(one / "prompt.json").read_bytes())
        out, err = self.make("merged", "BATCH=%s" % two, env=env)
        self.assertIn("60 requests: 60 answered before, 0 to send", err)
        self.assertEqual(len(emulator.acted("file.upload")), 1)
        self.assertEqual(read_lines(two / "items_classified.jsonl"), read_lines(one / "items_classified.jsonl"))
        # A damaged store is ignored with a note: the requests are sent again.
        answers = [p for p in cache.iterdir() if p.suffix == ".answers"]
        self.assertEqual(len(answers), 1)
        data = bytearray(answers[0].read_bytes())
        data[len(data) // 2] ^= 0x01
        answers[0].write_bytes(bytes(data))
        three = self.new_run("three", items=(one / "items.jsonl").read_bytes(), prompt=(one / "prompt.json").read_bytes())
        out, err = self.make("merged", "BATCH=%s" % three, env=env)
        self.assertIn("its answers are not reused", err)
        self.assertEqual(len(emulator.acted("file.upload")), 2)
        support.merged_lines(self, three)


if __name__ == "__main__":
    sys.exit(support.main(sys.modules[__name__]))
