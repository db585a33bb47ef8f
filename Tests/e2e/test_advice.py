#!/usr/bin/env python3
"""Advice that costs nothing, and the budget where money is spent.

Every message that tells the user to run something names a command that
does that and nothing more: each scenario below provokes a message, runs
the command it suggests, and checks from the emulator's log that no new
upload or batch came of it. make cleaned starts no run; make clean deletes
the run's remote files first (or leaves them findable by make cleaned).
MAX_COST holds at upload and create, not only at prepare.

usage: python3 Tests/e2e/test_advice.py BIN_DIR [unittest options]
"""

import json
import os
import re
import shlex
import sys

import support
from support import E2ETest, REPO

# A suggestion in a message: "make TARGET [-o FILE]", or "batch-TOOL DIR".
SUGGESTION_RE = re.compile(r"\b(make [a-z]+(?: -o \S+)?|batch-[a-z]+ \S+)")


def paid(emulator):
    return len(emulator.acted("file.upload")), len(emulator.acted("batch.create"))


class TestAdvice(E2ETest):
    def run_suggestions(self, message, run, env, emulator, then=()):
        """Runs each command `message` suggests, but those in `then` (what to
        run once the advice is followed); checks nothing new was paid."""
        suggestions = [s.rstrip(".,;)") for s in SUGGESTION_RE.findall(message) if s not in then]
        self.assertTrue(suggestions, "a suggestion in: " + message)
        before = paid(emulator)
        for suggestion in suggestions:
            words = shlex.split(suggestion)
            if words[0] == "make":
                self.make(*words[1:], "BATCH=%s" % run, env=env, expect=None)
            else:
                support.run_tool(words[0], *words[1:], cwd=self.tmp, env=env)
            self.assertEqual(paid(emulator), before, "'%s' (from: %s) paid for nothing new" % (suggestion, message))
        return suggestions

    def test_clean_then_cleaned_starts_nothing_and_leaves_nothing(self):
        emulator = self.start_emulator()
        run = self.new_run(count=20)
        env = self.env(emulator)
        self.make("merged", "BATCH=%s" % run, env=env)
        self.assertEqual(paid(emulator), (1, 1))

        # Without a key, clean forgets the run and says how to delete its files.
        out, err = self.make("clean", "BATCH=%s" % run, env=self.env(emulator, key=None))
        self.assertIn("make cleaned", err)
        self.assertFalse((run / "status.json").exists())
        self.assertEqual(self.run_suggestions(err, run, env, emulator), ["make cleaned"])
        self.assertEqual([f for f in emulator.state()["files"] if not f["deleted"]], [], "nothing left remote")

        # With nothing recorded, make cleaned says so and calls nothing.
        calls = [e for e in emulator.log() if e.get("path", "").startswith("/v1/")]
        out, err = self.make("cleaned", "BATCH=%s" % run, env=env)
        self.assertIn("nothing to delete", err)
        self.assertEqual([e for e in emulator.log() if e.get("path", "").startswith("/v1/")], calls)

    def test_clean_with_the_key_deletes_the_remote_files_first(self):
        emulator = self.start_emulator()
        run = self.new_run(count=20)
        env = self.env(emulator)
        self.make("merged", "BATCH=%s" % run, env=env)
        self.make("clean", "BATCH=%s" % run, env=env)
        self.assertEqual([f for f in emulator.state()["files"] if not f["deleted"]], [])
        self.assertEqual(paid(emulator), (1, 1))

    def test_prepare_over_a_finished_run_leaves_its_files_findable(self):
        emulator = self.start_emulator()
        run = self.new_run(count=20)
        env = self.env(emulator)
        self.make("merged", "BATCH=%s" % run, env=env)
        prompt = json.loads((run / "prompt.json").read_text())
        prompt["body"]["max_tokens"] = 7
        support.write_json(run / "prompt.json", prompt)
        out, err = self.make("merged", "BATCH=%s" % run, env=env)
        self.assertIn("make cleaned deletes them", err)
        self.assertEqual(paid(emulator), (2, 2))
        self.make("cleaned", "BATCH=%s" % run, env=env)
        self.assertEqual([f for f in emulator.state()["files"] if not f["deleted"]], [], "both runs' files deleted")

    def test_items_edited_while_batches_run(self):
        emulator = self.start_emulator(speed=1)
        run = self.new_run(count=20)
        env = self.env(emulator)
        self.make("created", "BATCH=%s" % run, env=env)
        # merge before the results are here.
        status, out, err = support.run_tool("batch-merge", run, cwd=self.tmp, env=env)
        self.assertEqual(status, 66, err)
        self.run_suggestions(err, run, env, emulator)
        # Forgetting while batches run.
        last = json.loads(support.read_lines(run / "items.jsonl")[-1])
        last["uuid"] = "appended-1"
        with open(run / "items.jsonl", "a") as items:
            items.write(json.dumps(last) + "\n")
        self.make("created", "BATCH=%s" % run, env=env, expect=2)
        out, err = self.make("prepared", "BATCH=%s" % run, env=env, expect=2)
        self.assertIn("not finished or not downloaded", err)
        self.run_suggestions(err, run, env, emulator, then=["make merged"])
        self.assertTrue(list((run / "out").glob("batch_*.jsonl")), "the recorded run's results are here")
        # Then make merged pays for the appended item alone.
        out, err = self.make("merged", "BATCH=%s" % run, env=env)
        self.assertIn("21 requests: 20 answered before, 1 to send", err)
        self.assertEqual(paid(emulator), (2, 2))

    def test_forget_while_batches_run(self):
        emulator = self.start_emulator(speed=1)
        run = self.new_run(count=20)
        env = self.env(emulator)
        self.make("created", "BATCH=%s" % run, env=env)
        out, err = self.make("clean", "BATCH=%s" % run, env=env, expect=2)
        self.assertIn("in flight", err)
        self.run_suggestions(err, run, env, emulator)

    def test_a_run_of_another_server(self):
        first = self.start_emulator()
        run = self.new_run(count=20)
        self.make("created", "BATCH=%s" % run, env=self.env(first))
        second = self.start_emulator()
        out, err = self.make("completed", "BATCH=%s" % run, env=self.env(second), expect=2)
        self.assertIn("belongs to a run against", err)
        self.assertEqual(self.run_suggestions(err, run, self.env(second), second), ["make clean"])
        self.assertEqual(paid(first), (1, 1))

    def test_every_suggestion_in_the_sources_is_one_this_file_checks(self):
        # A new suggestion must be added to a scenario here (or to the
        # commands that are themselves the paid step they name).
        checked = {"make cleaned", "make sorted -o", "batch-wait", "batch-download", "batch-sort", "make clean"}
        # Commands that are the step the message asks for, named as such.
        paid_on_purpose = {"make retry", "make merged", "batch-create", "batch-upload", "batch-prepare", "make demo"}
        found = set()
        for path in (REPO / "Sources").rglob("*.swift"):
            for line in path.read_text().splitlines():
                if line.strip().startswith("//") or '"' not in line:
                    continue
                for match in re.findall(r"\b(?:run |; |, )(make [a-z]+(?: -o)?|batch-[a-z]+)\b", line):
                    found.add(match)
                for match in re.findall(r"(?:\(|then )(make [a-z]+)\b", line):
                    found.add(match)
        self.assertTrue(found)
        self.assertEqual(found - checked - paid_on_purpose, set())


class TestBudget(E2ETest):
    def test_max_cost_holds_at_upload_and_create(self):
        emulator = self.start_emulator()
        run = self.new_run(count=50)
        env = self.env(emulator)
        self.make("prepared", "BATCH=%s" % run, env=env)
        out, err = self.make("merged", "BATCH=%s" % run, "MAX_COST=0.000001", env=env, expect=2)
        self.assertIn("over the limit", err)
        self.assertEqual(paid(emulator), (0, 0), "no upload at all")
        # create checks too, once the files are uploaded.
        self.make("uploaded", "BATCH=%s" % run, env=env)
        status, out, err = support.run_tool("batch-create", run, cwd=self.tmp, env=dict(env, MAX_COST="0.000001"))
        self.assertEqual(status, 65, err)
        self.assertEqual(len(emulator.acted("batch.create")), 0)

    def test_a_model_without_a_price_refuses_under_max_cost(self):
        emulator = self.start_emulator()
        prompt = dict(support.CHAT_PROMPT, body=dict(support.CHAT_PROMPT["body"], model="my-own-model"))
        run = self.new_run(count=5, prompt=prompt)
        env = self.env(emulator)
        capped = dict(env, MAX_COST="100")
        status, out, err = support.run_tool("batch-prepare", run, cwd=self.tmp, env=capped)
        self.assertEqual(status, 78, err)
        self.assertIn("no price for 'my-own-model'", err)
        self.make("prepared", "BATCH=%s" % run, env=env)
        status, out, err = support.run_tool("batch-upload", run, cwd=self.tmp, env=capped)
        self.assertEqual(status, 78, err)
        self.assertIn("no price for 'my-own-model'", err)
        self.assertEqual(paid(emulator), (0, 0))

    def test_a_bad_max_cost_is_a_bad_setting(self):
        run = self.new_run(count=5)
        status, out, err = support.run_tool("batch-prepare", run, cwd=self.tmp, env=self.env(MAX_COST="lots"))
        self.assertEqual(status, 78, err)


if __name__ == "__main__":
    sys.exit(support.main(sys.modules[__name__]))
