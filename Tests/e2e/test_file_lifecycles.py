#!/usr/bin/env python3
"""File lifecycles and the providers' windows (issue 10 items 4 and 5): the
uploads and result files carry a lifetime where the provider takes one, the
completion window is checked against the provider's, and on Azure create
waits for uploads the server is still processing, and reports one in error
with the server's reason.

usage: python3 Tests/e2e/test_file_lifecycles.py BIN_DIR [unittest options]
"""

import sys

import support
from support import CHAT_PROMPT, E2ETest

TWO_WEEKS = 14 * 86400


def azure_env(test, emulator, **extra):
    """The tools' environment for the emulator in Azure mode, Azure's variables only."""
    return test.env(key=None, AZURE_OPENAI_ENDPOINT=emulator.url, AZURE_OPENAI_API_KEY="azure-e2e-key",
                    OPENAI_API_VERSION="2025-04-01-preview", **extra)


def azure_prompt():
    prompt = dict(CHAT_PROMPT)
    prompt["body"] = dict(prompt["body"], model="my-batch-deployment")
    return prompt


class TestFileLifecycles(E2ETest):
    def expiries(self, emulator):
        """{purpose: [expires_at - created_at, ...]} of the files on the emulator."""
        lifetimes = {}
        for f in emulator.state()["files"]:
            lifetime = None if f["expires_at"] is None else f["expires_at"] - f["created_at"]
            lifetimes.setdefault(f["purpose"], []).append(lifetime)
        return lifetimes

    def test_azure_waits_for_files_being_processed(self):
        # Each upload stays "pending" for 2 s; a batch made on it before then is refused.
        emulator = self.start_emulator("--provider", "azure", "--file-processing-seconds", "2")
        run = self.new_run(count=30, prompt=azure_prompt())
        env = azure_env(self, emulator, BATCHLINE_MAX_REQUESTS=10)
        self.make("merged", "BATCH=%s" % run, env=env)
        self.assert_merged(run)
        creates = [e for e in emulator.log() if e["action"] == "batch.create"]
        self.assertEqual([e["status"] for e in creates], [200, 200, 200], "a create was refused")
        self.assertEqual(len(emulator.acted("file.upload")), 3)
        self.assertTrue(any(e["action"] == "file.get" for e in emulator.log()), "no file was read")
        # Azure takes 14 to 30 days; without a lifetime a resource holds only 500 files.
        lifetimes = self.expiries(emulator)
        self.assertEqual(lifetimes["batch"], [TWO_WEEKS] * 3)
        self.assertEqual(set(lifetimes["batch_output"]), {TWO_WEEKS})

    def test_azure_file_in_error_is_reported_with_the_reason(self):
        emulator = self.start_emulator("--provider", "azure")
        emulator.config(file_error_count=1, file_error_details="Line 3: not JSON.\x1b]0;owned\x07 \x1b[2J")
        run = self.new_run(count=20, prompt=azure_prompt())
        env = azure_env(self, emulator)
        self.tool("batch-prepare", run, env=env)
        self.tool("batch-upload", run, env=env)
        out, err = self.tool("batch-create", run, env=env, expect=65)
        line = self.assert_one_line(err, "batch-create")
        self.assertIn("in/batch_001.jsonl", line)
        self.assertIn("Line 3: not JSON.", line)
        self.assertNotIn("\x1b", err)
        self.assertNotIn("\x07", err)
        # The file's status is read first: no batch is even asked for.
        self.assertEqual([e for e in emulator.log() if e["action"] == "batch.create"], [])

    def test_openai_files_expire_and_the_window_is_checked(self):
        emulator = self.start_emulator()
        run = self.new_run(count=20, prompt=CHAT_PROMPT)
        self.tool("batch-prepare", run, env=self.env(key=None))
        # OpenAI takes only 24h: refused before anything is sent.
        before = len(emulator.log())
        out, err = self.tool("batch-upload", run, env=self.env(emulator, COMPLETION_WINDOW="48h"), expect=78)
        self.assertIn("COMPLETION_WINDOW '48h'", self.assert_one_line(err, "batch-upload"))
        self.assertEqual(len(emulator.log()), before)
        self.make("merged", "BATCH=%s" % run, env=self.env(emulator))
        self.assert_merged(run)
        lifetimes = self.expiries(emulator)
        self.assertEqual(lifetimes["batch"], [TWO_WEEKS])
        self.assertEqual(lifetimes["batch_output"], [TWO_WEEKS])
        self.assertEqual([b["completion_window"] for b in emulator.state()["batches"]], ["24h"])

        # A lifetime of one's own, in days; none keeps the provider's default (30 days here).
        for setting, expected in (("3d", 3 * 86400), ("none", 30 * 86400)):
            with self.subTest(setting=setting):
                emulator.reset()
                other = self.new_run("run-" + setting, count=20, prompt=CHAT_PROMPT)
                self.make("merged", "BATCH=%s" % other, env=self.env(emulator, BATCHLINE_FILE_EXPIRY=setting))
                self.assertEqual(self.expiries(emulator)["batch"], [expected])

    def test_groq_takes_a_longer_window(self):
        emulator = self.start_emulator("--provider", "groq")
        run = self.new_run(count=20, prompt=CHAT_PROMPT)
        env = self.env(key=None, BATCHLINE_PROVIDER="groq", GROQ_API_KEY="gsk_e2etest",
                       OPENAI_BASE_URL=emulator.url + "/openai/v1", COMPLETION_WINDOW="3d")
        self.make("merged", "BATCH=%s" % run, env=env)
        self.assert_merged(run)
        self.assertEqual([b["completion_window"] for b in emulator.state()["batches"]], ["3d"])
        # Groq documents no file lifetime: none is sent, and the server keeps its default.
        self.assertEqual(self.expiries(emulator)["batch"], [30 * 86400])

    def test_deepinfra_takes_a_lifetime_for_results_only(self):
        # The emulator speaks OpenAI's paths; the profile decides what is sent.
        emulator = self.start_emulator()
        run = self.new_run(count=20, prompt=CHAT_PROMPT)
        env = self.env(key=None, BATCHLINE_PROVIDER="deepinfra", DEEPINFRA_TOKEN="di-e2e-token",
                       OPENAI_BASE_URL=emulator.base_url)
        self.make("merged", "BATCH=%s" % run, env=env)
        self.assert_merged(run)
        lifetimes = self.expiries(emulator)
        self.assertEqual(lifetimes["batch"], [30 * 86400])
        self.assertEqual(lifetimes["batch_output"], [TWO_WEEKS])


if __name__ == "__main__":
    sys.exit(support.main(sys.modules[__name__]))
