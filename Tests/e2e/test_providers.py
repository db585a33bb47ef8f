#!/usr/bin/env python3
"""Providers, end to end: the whole pipeline against the emulator in Azure
OpenAI mode and in Groq mode, configured only through the environment as a
user configures it.

usage: python3 Tests/e2e/test_providers.py BIN_DIR [unittest options]
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import support
from support import REPO, make_argv, merged_lines, start_emulator, tool_env


class ProviderTests(unittest.TestCase):
    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="batchline-providers-")
        self.emulators = []

    def tearDown(self):
        for emulator in self.emulators:
            emulator.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def start(self, provider):
        emulator = start_emulator(self.workdir, "--provider", provider)
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
        # Only the provider's own variables: no OpenAI key or base URL from the caller.
        full = tool_env(key=None, BATCHLINE_HTTP_TIMEOUT=5, **env)
        result = subprocess.run(make_argv("--no-print-directory", "merged", "cleaned", "BATCH=" + run),
                                env=full, capture_output=True, text=True, timeout=180)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        merged_lines(self, run, tag=b',"llm":"')
        return run, result

    def test_azure(self):
        emulator = self.start("azure")
        endpoint = "http://127.0.0.1:%d" % emulator.port
        run, result = self.run_pipeline({
            "AZURE_OPENAI_ENDPOINT": endpoint, "AZURE_OPENAI_API_KEY": "azure-test-key",
            "OPENAI_API_VERSION": "2025-04-01-preview",
        }, model="my-gpt-4o-mini-deployment")
        # A deployment name has no price: merge says so instead of guessing.
        self.assertIn("no price for 'my-gpt-4o-mini-deployment'", result.stderr)
        calls = emulator.log()
        self.assertTrue(any(c["path"].startswith("/openai/batches") for c in calls), "Azure paths were not used")
        with open(os.path.join(run, "status.json")) as ledger:
            self.assertEqual(json.load(ledger)["base_url"], endpoint + "/openai")
        remote = [f for f in emulator.state()["files"] if not f["deleted"]]
        self.assertEqual(remote, [], "make cleaned left files on the Azure emulator")

    def test_groq(self):
        emulator = self.start("groq")
        run, _ = self.run_pipeline({
            "BATCHLINE_PROVIDER": "groq", "OPENAI_BASE_URL": "http://127.0.0.1:%d/openai/v1" % emulator.port,
            "GROQ_API_KEY": "gsk-test",
        }, model="llama-3.1-8b-instant")
        calls = emulator.log()
        self.assertTrue(all(c["path"].startswith(("/openai/v1", "/_emulator")) for c in calls))
        remote = [f for f in emulator.state()["files"] if not f["deleted"]]
        self.assertEqual(remote, [], "make cleaned left files on the Groq emulator")


if __name__ == "__main__":
    sys.exit(support.main(sys.modules[__name__]))
