#!/usr/bin/env python3
"""Providers, end to end: the whole pipeline against the emulator in Azure
OpenAI mode and in Groq mode, configured only through the environment as a
user configures it.

usage: python3 Tests/e2e/providers.py BIN_DIR   (the directory of the built tools)
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from support import REPO, Emulator

BIN = ".build/release"


class ProviderTests(unittest.TestCase):
    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="batchline-providers-")
        self.emulators = []

    def tearDown(self):
        for emulator in self.emulators:
            emulator.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def start(self, provider):
        emulator = Emulator(self.workdir, "--speed", "0", "--provider", provider)
        self.emulators.append(emulator)
        return emulator

    def run_pipeline(self, env, model):
        run = os.path.join(self.workdir, "run")
        os.makedirs(run)
        shutil.copy(os.path.join(REPO, "batch", "items.jsonl"), run)
        with open(os.path.join(REPO, "batch", "prompt.json")) as source:
            prompt = json.load(source)
        prompt["body"]["model"] = model
        with open(os.path.join(run, "prompt.json"), "w") as target:
            json.dump(prompt, target)
        for name in [n for n in os.environ if n.startswith(("OPENAI_", "AZURE_", "GROQ_", "BATCHLINE_"))]:
            env.setdefault(name, None)
        full = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
        full.update({"POLL": "1", "SWIFT_BACKTRACE": "enable=no", "BATCHLINE_HTTP_TIMEOUT": "5"})
        result = subprocess.run(["make", "--no-print-directory", "-C", REPO, "merged", "cleaned", "BATCH=" + run,
                                 "BIN=" + BIN], env=full, capture_output=True, text=True, timeout=180)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        with open(os.path.join(run, "items.jsonl"), "rb") as items, \
                open(os.path.join(run, "items_classified.jsonl"), "rb") as merged:
            items, merged = items.read().splitlines(), merged.read().splitlines()
        self.assertEqual(len(items), len(merged))
        for item, line in zip(items, merged):
            self.assertTrue(line.startswith(item[:-1] + b',"llm":"'), line[:200])
        return run, result

    def test_azure(self):
        emulator = self.start("azure")
        endpoint = "http://127.0.0.1:%d" % emulator.port
        run, result = self.run_pipeline({
            "AZURE_OPENAI_ENDPOINT": endpoint, "AZURE_OPENAI_API_KEY": "azure-test-key",
            "OPENAI_API_VERSION": "2025-04-01-preview",
        }, model="my-gpt-4o-mini-deployment")
        # A deployment name has no price: merge says so instead of guessing.
        self.assertIn("no price for my-gpt-4o-mini-deployment", result.stderr)
        calls = emulator.log_lines()
        self.assertTrue(any(c["path"].startswith("/openai/batches") for c in calls), "Azure paths were not used")
        with open(os.path.join(run, "status.json")) as ledger:
            self.assertEqual(json.load(ledger)["base_url"], endpoint + "/openai")
        remote = [f for f in emulator.admin("state")["files"] if not f["deleted"]]
        self.assertEqual(remote, [], "make cleaned left files on the Azure emulator")

    def test_groq(self):
        emulator = self.start("groq")
        run, _ = self.run_pipeline({
            "BATCHLINE_PROVIDER": "groq", "OPENAI_BASE_URL": "http://127.0.0.1:%d/openai/v1" % emulator.port,
            "GROQ_API_KEY": "gsk-test",
        }, model="llama-3.1-8b-instant")
        calls = emulator.log_lines()
        self.assertTrue(all(c["path"].startswith(("/openai/v1", "/_emulator")) for c in calls))
        remote = [f for f in emulator.admin("state")["files"] if not f["deleted"]]
        self.assertEqual(remote, [], "make cleaned left files on the Groq emulator")


if __name__ == "__main__":
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        BIN = sys.argv.pop(1)
    unittest.main(verbosity=2)
