#!/usr/bin/env python3
"""A key goes only to the provider it was given for (issue 12): with the
variables of two providers in the environment, the tools refuse before any
connection, and BATCHLINE_PROVIDER decides which one is used.

usage: python3 Tests/e2e/test_provider_choice.py BIN_DIR [unittest options]
"""

import sys

import support
from support import CHAT_PROMPT, E2ETest
from test_keys import ConnectionCounter


class TestProviderChoice(E2ETest):
    def test_a_leftover_azure_endpoint_gets_no_key(self):
        emulator = self.start_emulator()
        # The "Azure resource" is a listener that counts connections.
        azure = ConnectionCounter()
        self.addCleanup(azure.close)
        run = self.new_run(count=50, prompt=CHAT_PROMPT)
        self.tool("batch-prepare", run, env=self.env(key=None))
        shell = self.env(emulator, key="sk-mine-0123456789",
                         AZURE_OPENAI_ENDPOINT="http://127.0.0.1:%d" % azure.port)
        before = (run / "status.json").read_bytes()
        for tool in ("batch-upload", "batch-create", "batch-wait"):
            self.assert_refused(tool, run, shell)
        # With no remote file recorded, cleanup calls nothing and needs no provider.
        out, err = self.tool("batch-cleanup", run, env=shell)
        self.assertIn("nothing to delete", err)
        self.assertEqual(azure.count, 0, "a connection went to the Azure endpoint")
        self.assertEqual(emulator.log(), [], "nothing sent to the OpenAI base URL either")
        self.assertEqual((run / "status.json").read_bytes(), before)

        # Chosen: the OpenAI variables serve OpenAI, and Azure sees nothing.
        self.make("merged", "BATCH=%s" % run, env=dict(shell, BATCHLINE_PROVIDER="openai"))
        self.assert_merged(run)
        self.assertEqual(azure.count, 0, "a connection went to the Azure endpoint")
        self.assertTrue(emulator.acted("batch.create"))

        # Now the run has remote files: cleanup in the careless shell refuses too.
        self.assert_refused("batch-cleanup", run, shell)
        self.assertEqual(azure.count, 0, "a connection went to the Azure endpoint")

    def assert_refused(self, tool, run, shell):
        with self.subTest(tool=tool):
            out, err = self.tool(tool, run, env=shell, expect=78)
            line = self.assert_one_line(err, tool)
            for word in ("openai", "azure", "AZURE_OPENAI_ENDPOINT", "OPENAI_API_KEY", "BATCHLINE_PROVIDER"):
                self.assertIn(word, line)


if __name__ == "__main__":
    sys.exit(support.main(sys.modules[__name__]))
