#!/usr/bin/env python3
"""The bad-input corpus: one test per directory of Tests/e2e/corpus/ (see its
README.md), each refused with one line and nothing written.

usage: python3 Tests/e2e/test_bad_input.py BIN_DIR [unittest options]
"""

import json
import os
import re
import shutil
import sys

import support
from support import CORPUS, E2ETest, run_tool, snapshot


CORPUS_RUN = "run"  # every case is copied to <tmp>/run and run as `batch-prepare run`


class TestBadInputCorpus(E2ETest):
    """One test per directory of Tests/e2e/corpus/, each in two situations:
    a fresh directory, and over a run that was prepared from good items."""

    def copy_case(self, case, dest):
        dest.mkdir(parents=True, exist_ok=True)
        for path in case.iterdir():
            if path.name != "expected.json":
                shutil.copyfile(path, dest / path.name)
        if not (case / "prompt.json").exists():
            shutil.copyfile(CORPUS / "default-prompt.json", dest / "prompt.json")
        if not (case / "items.jsonl").exists():
            shutil.copyfile(CORPUS / "default-items.jsonl", dest / "items.jsonl")

    def check_case(self, case, prepared_first):
        expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
        cwd = self.tmp / ("over-a-run" if prepared_first else "fresh")
        run = cwd / CORPUS_RUN
        env = self.env(key=None)
        if prepared_first:
            run.mkdir(parents=True)
            shutil.copyfile(CORPUS / "default-items.jsonl", run / "items.jsonl")
            shutil.copyfile(CORPUS / "default-prompt.json", run / "prompt.json")
            self.tool("batch-prepare", CORPUS_RUN, cwd=cwd, env=env)
            self.assertTrue((run / "status.json").exists())
            for name in ("items.jsonl", "prompt.json"):
                (run / name).unlink()
        self.copy_case(case, run)
        before = snapshot(run)
        status, out, err = run_tool("batch-prepare", *expected.get("args", []), CORPUS_RUN,
                                    cwd=cwd, env=env)
        self.assertEqual(status, expected["status"], "stderr: " + err)
        line = self.assert_one_line(err, "batch-prepare")
        self.assertEqual(line, "batch-prepare: " + expected["stderr"])
        self.assertEqual(out, "", "nothing on stdout")
        after = snapshot(run)
        # Nothing written: every earlier file as it was, nothing new but the
        # empty in/ and out/ directories and the run's (empty) lock file.
        for path, content in before.items():
            self.assertIn(path, after, "%s was removed" % path)
            self.assertTrue(after[path] == content, "%s was changed" % path)
        new = sorted(set(after) - set(before))
        allowed = {"in": None, "out": None, ".batchline.lock": b""}
        self.assertTrue(all(p in allowed and after[p] == allowed[p] for p in new),
                        "new files after a failed prepare: %s" % new)
        for directory in ("in", "out"):
            if directory in new:
                self.assertEqual(os.listdir(run / directory), [], directory + "/ is empty")


def _add_corpus_tests():
    if not CORPUS.is_dir():
        return
    for case in sorted(p for p in CORPUS.iterdir() if (p / "expected.json").exists()):
        def test(self, case=case):
            with self.subTest(situation="fresh directory"):
                self.check_case(case, prepared_first=False)
            with self.subTest(situation="over a prepared run"):
                self.check_case(case, prepared_first=True)
        name = "test_" + re.sub(r"\W", "_", case.name)
        test.__name__ = name
        test.__doc__ = "corpus/%s" % case.name
        setattr(TestBadInputCorpus, name, test)


_add_corpus_tests()


if __name__ == "__main__":
    sys.exit(support.main(sys.modules[__name__]))
