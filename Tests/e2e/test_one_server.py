#!/usr/bin/env python3
"""One run, one server: a run that began on one server is refused by
another, and nothing is sent to the second.

usage: python3 Tests/e2e/test_one_server.py BIN_DIR [unittest options]
"""

import sys

import support
from support import CHAT_PROMPT, E2ETest, snapshot


class TestBaseURLMixing(E2ETest):
    def test_second_server_is_refused(self):
        a = self.start_emulator()
        b = self.start_emulator()
        run = self.new_run(count=50, prompt=CHAT_PROMPT)
        for name in ("batch-prepare", "batch-upload", "batch-create", "batch-wait"):
            self.tool(name, run, env=self.env(a))

        def refused(tools):
            before = snapshot(run)
            for tool in tools:
                with self.subTest(tool=tool):
                    out, err = self.tool(tool, run, env=self.env(b), expect=78)
                    line = self.assert_one_line(err, tool)
                    self.assertIn(a.base_url, line)
                    self.assertIn(b.base_url, line)
            self.assertEqual(snapshot(run), before, "the run is unchanged")
            self.assertEqual(b.log(), [], "nothing sent to the second server")

        # Results not downloaded yet: every network step refuses.
        refused(("batch-upload", "batch-wait", "batch-download", "batch-cleanup"))
        # Finished: the paid steps have nothing to do and send nothing;
        # cleanup, which deletes remote files, still refuses.
        for name in ("batch-download", "batch-sort", "batch-merge"):
            self.tool(name, run, env=self.env(a))
        self.tool("batch-upload", run, env=self.env(b))
        refused(("batch-cleanup",))


if __name__ == "__main__":
    sys.exit(support.main(sys.modules[__name__]))
