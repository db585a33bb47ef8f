#!/usr/bin/env python3
"""The API key: prepare needs none, a missing one is a configuration error,
a refused one is 77 and never shown, and plain HTTP to another host is
refused before the key leaves.

usage: python3 Tests/e2e/test_keys.py BIN_DIR [unittest options]
"""

import socket
import sys
import threading
import time

import support
from support import CHAT_PROMPT, E2ETest, snapshot


class ConnectionCounter:
    """A TCP listener on 127.0.0.1 that counts connections (and answers none)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.count = 0
        self.running = True
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.count += 1
            conn.close()

    def close(self):
        self.running = False
        self.thread.join()
        self.sock.close()


class TestKeys(E2ETest):
    def prepared(self):
        run = self.new_run(count=50, prompt=CHAT_PROMPT)
        self.tool("batch-prepare", run, env=self.env(key=None))
        return run

    def test_prepare_needs_no_key(self):
        run = self.new_run(count=50, prompt=CHAT_PROMPT)
        out, err = self.tool("batch-prepare", run, env=self.env(key=None))
        self.assertTrue((run / "status.json").exists())
        self.assertTrue((run / "in" / "batch_001.jsonl").exists())

    def test_no_key_is_a_configuration_error(self):
        emulator = self.start_emulator()
        run = self.prepared()
        before = (run / "status.json").read_bytes()
        # (batch-cleanup of a run with nothing remote calls nothing: test_advice.)
        for tool in ("batch-upload", "batch-create", "batch-wait", "batch-download"):
            with self.subTest(tool=tool):
                out, err = self.tool(tool, run, env=self.env(emulator, key=None), expect=78)
                line = self.assert_one_line(err, tool)
                self.assertIn("OPENAI_API_KEY", line)
        self.assertEqual((run / "status.json").read_bytes(), before)
        self.assertEqual(emulator.log(), [], "nothing sent")

    def test_refused_key_is_77_and_never_shown(self):
        emulator = self.start_emulator()
        run = self.prepared()
        secret = "SECRET123"
        out, err = self.tool("batch-upload", run, expect=77,
                             env=self.env(emulator, key="sk-refused-" + secret))
        self.assert_one_line(err, "batch-upload")
        self.assertNotIn(secret, out + err)
        for path, content in snapshot(run).items():
            if content is not None:
                self.assertNotIn(secret.encode(), content, "the key is in " + path)
        self.assertEqual(emulator.acted("file.upload"), [], "nothing uploaded")

    def test_plain_http_to_another_host_is_refused(self):
        run = self.prepared()
        before = (run / "status.json").read_bytes()
        # A proxy that counts connections: the key must not leave, even via a proxy.
        proxy = ConnectionCounter()
        self.addCleanup(proxy.close)
        proxy_url = "http://127.0.0.1:%d" % proxy.port
        env = self.env(key="sk-test", OPENAI_BASE_URL="http://example.com/v1",
                       http_proxy=proxy_url, HTTP_PROXY=proxy_url, all_proxy=proxy_url)
        started = time.monotonic()
        out, err = self.tool("batch-upload", run, env=env, expect=78)
        self.assertLess(time.monotonic() - started, 10)
        line = self.assert_one_line(err, "batch-upload")
        self.assertIn("example.com", line)
        self.assertEqual(proxy.count, 0, "nothing sent")
        self.assertEqual((run / "status.json").read_bytes(), before)


if __name__ == "__main__":
    sys.exit(support.main(sys.modules[__name__]))
