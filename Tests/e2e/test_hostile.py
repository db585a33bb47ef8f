#!/usr/bin/env python3
"""A hostile server and a careless environment (issue 12): escape sequences
and secrets in what the server says, huge and dripping bodies, planted
symlinks, a tight umask, forged field names, duplicate keys. Each ends in a
clear line with the right status, nothing lost, and no byte of the server's
escape sequences on the terminal or in status.json.

usage: python3 Tests/e2e/test_hostile.py BIN_DIR [unittest options]
"""

import json
import os
import re
import sys

import support
from support import E2ETest, read_lines

KEY = "hostile-key-0123456789abcdef"
LEAK = "sk-proj-EmulatorLeak"
# ESC, the one-byte CSI (UTF-8 C2 9B), BEL, NUL, BS, DEL: none may come from the server.
CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")


class TestHostileText(E2ETest):
    def assert_clean(self, *outputs, run=None):
        """No control byte, no key, no leaked secret in the outputs and status.json."""
        texts = [o if isinstance(o, bytes) else o.encode() for o in outputs]
        if run is not None:
            texts.append((run / "status.json").read_bytes())
        for text in texts:
            self.assertIsNone(CONTROL.search(text), text[:3000])
            self.assertNotIn(KEY.encode(), text)
            self.assertNotIn(LEAK.encode(), text)
            self.assertNotIn(b"\\u001b", text)

    def raw_tool(self, name, *args, env, expect):
        status, out, err = support.run_tool(name, *args, cwd=self.tmp, env=env, raw=True)
        self.assertEqual(status, expect, "%s exited %s: %r" % (name, status, err[-2000:]))
        return out, err

    def test_batch_errors_are_cleaned_everywhere(self):
        emulator = self.start_emulator()
        emulator.config(fail_batch_count=1, hostile_text=["errors", "model"])
        run = self.new_run(count=20)
        env = self.env(emulator, key=KEY)
        outputs = []
        for name in ["batch-prepare", "batch-upload", "batch-create", "batch-wait", "batch-download",
                     "batch-sort"]:
            outputs += self.raw_tool(name, run, env=env, expect=0)
        outputs += self.raw_tool("batch-wait", "--status", run, env=env, expect=0)
        out, err = self.raw_tool("batch-merge", run, env=env, expect=0)
        outputs += [out, err]
        self.assertIn(b"20 of 20 items failed", err)
        self.assertIn(b"key=***", b"".join(outputs))
        self.assert_clean(*outputs, (run / "items_classified.jsonl").read_bytes(), run=run)
        self.assertEqual(len(read_lines(run / "items_classified.jsonl")), 20)

    def test_an_unknown_status_is_cleaned_and_not_terminal(self):
        # Still running after create: then the status the server sends is not one it knows.
        emulator = self.start_emulator(speed=1)
        emulator.config(validating_seconds=0, in_progress_seconds=60)
        run = self.new_run(count=5)
        env = self.env(emulator, key=KEY)
        for name in ["batch-prepare", "batch-upload", "batch-create"]:
            self.raw_tool(name, run, env=env, expect=0)
        emulator.config(hostile_text=["status", "model"])
        out, err = self.raw_tool("batch-wait", "--once", run, env=env, expect=75)
        status = json.loads((run / "status.json").read_text())["files"][0]["status"]
        self.assertTrue(status.startswith("in_progress"), status)
        self.assertNotEqual(status, "in_progress")
        out2, err2 = self.raw_tool("batch-wait", "--status", run, env=env, expect=0)
        self.assert_clean(out, err, out2, err2, run=run)

    def test_the_live_display_on_a_terminal_is_cleaned(self):
        import pty
        import subprocess
        emulator = self.start_emulator(speed=1)
        emulator.config(validating_seconds=0, in_progress_seconds=60)
        run = self.new_run(count=5)
        env = self.env(emulator, key=KEY, TERM="xterm")
        for name in ["batch-prepare", "batch-upload", "batch-create"]:
            self.raw_tool(name, run, env=env, expect=0)
        emulator.config(hostile_text=["status", "model", "errors"])
        master, slave = pty.openpty()
        proc = subprocess.Popen([str(support.BIN / "batch-wait"), "--once", str(run)], cwd=str(self.tmp),
                                env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
        os.close(slave)
        shown = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            shown += chunk
        os.close(master)
        self.assertEqual(proc.wait(timeout=60), 75)
        self.assertIn(b"in_progress", shown)
        # The tool's own colours and line rewrites are allowed; nothing of the server's.
        for sequence in [b"\x1b]0;", b"\x1b[2J", b"\x1b[1;31m", b"\xc2\x9b", b"\x07", b"\x7f", b"\x00"]:
            self.assertNotIn(sequence, shown)
        self.assertNotIn(KEY.encode(), shown)
        self.assertNotIn(LEAK.encode(), shown)

    def test_an_error_answer_is_cleaned(self):
        emulator = self.start_emulator()
        emulator.config(hostile_text=["error_body"])
        run = self.new_run(count=5)
        env = self.env(emulator, key=KEY)
        self.raw_tool("batch-prepare", run, env=env, expect=0)
        self.raw_tool("batch-upload", run, env=env, expect=0)
        # The upload the ledger records is forgotten: create gets a 400 with the payload.
        emulator.reset(keep_config=True)
        emulator.config(missing_file_400=True)
        out, err = self.raw_tool("batch-create", run, env=env, expect=1)
        self.assertEqual(err.count(b"\n"), 1, err)
        self.assertIn(b"HTTP 400", err)
        self.assert_clean(out, err, run=run)

    def test_an_invented_custom_id_is_cleaned_in_sorts_message(self):
        emulator = self.start_emulator()
        emulator.config(hostile_text=["custom_id"])
        run = self.new_run(count=5)
        env = self.env(emulator, key=KEY)
        for name in ["batch-prepare", "batch-upload", "batch-create", "batch-wait", "batch-download"]:
            self.raw_tool(name, run, env=env, expect=0)
        out, err = self.raw_tool("batch-sort", run, env=env, expect=65)
        self.assertIn(b"is not a request of this batch", err)
        self.assertEqual(err.count(b"\n"), 1, err)
        self.assert_clean(out, err, run=run)


    def test_codes_and_models_in_result_lines_are_cleaned_in_merges_notes(self):
        # The result file is the server's text too: an item's error code goes
        # to merge's failure list, an unknown model to its no-price note.
        emulator = self.start_emulator()
        run = self.new_run(count=5)
        env = self.env(emulator, key=KEY)
        for name in ["batch-prepare", "batch-upload", "batch-create", "batch-wait", "batch-download"]:
            self.raw_tool(name, run, env=env, expect=0)
        secrets = " key=%s leaked=%s0123456789abcdef " % (KEY, LEAK)
        path = run / "out" / "batch_001.jsonl"
        lines = [json.loads(line) for line in path.read_bytes().splitlines()]
        lines[0]["response"]["body"]["model"] = "gpt-hostile" + secrets + "\x1b]0;owned\x07\x1b[2J\x9b2J"
        lines[1]["response"] = {"status_code": 400, "request_id": "req_1", "body": {"error": {
            "code": "\x1b]0;owned\x07\x1b[2J" + secrets, "message": "refused", "type": "invalid_request_error"}}}
        path.write_bytes(b"".join(json.dumps(line).encode() + b"\n" for line in lines))
        outputs = list(self.raw_tool("batch-sort", run, env=env, expect=0))
        out, err = self.raw_tool("batch-merge", run, env=env, expect=0)
        self.assertIn(b"1 of 5 items failed", err)
        self.assertIn(b"no price for 'gpt-hostile key=***", err)
        self.assert_clean(*outputs, out, err, run=run)


class TestBoundedReads(E2ETest):
    """Answers too large or too slow: memory stays small, the tool ends."""

    def started_run(self, emulator, **extra):
        run = self.new_run(count=5)
        env = self.env(emulator, key=KEY, **extra)
        for name in ["batch-prepare", "batch-upload", "batch-create"]:
            self.tool(name, run, env=env)
        # A batch that is still running, so that wait has to ask.
        state = json.loads((run / "status.json").read_text())
        state["files"][0]["status"] = "in_progress"
        (run / "status.json").write_text(json.dumps(state))
        return run, env

    def wait_measured(self, run, env, timeout=60):
        import subprocess
        import time
        started = time.monotonic()
        proc = subprocess.Popen([str(support.BIN / "batch-wait"), str(run)], cwd=str(self.tmp), env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        err = b""
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                self.fail("batch-wait still running after %s s" % timeout)
            time.sleep(0.05)
        err = proc.stderr.read()
        proc.stderr.close()
        proc.returncode = os.waitstatus_to_exitcode(status)
        return os.waitstatus_to_exitcode(status), err, usage.ru_maxrss / 1024, time.monotonic() - started

    def test_a_gigabyte_error_body_is_read_as_a_prefix(self):
        emulator = self.start_emulator()
        run, env = self.started_run(emulator)
        emulator.config(huge_body_count=1, huge_body_status=500, fault_methods=["GET"],
                        fault_paths=["/v1/batches/"])
        status, err, peak, seconds = self.wait_measured(run, env)
        self.assertEqual(status, 0, err)
        sys.stderr.write("\n  [batch-wait against a 1 GiB error body: %.0f MiB peak RSS, %.1f s]\n" % (peak, seconds))
        # The transfer stops at the 4 MiB limit (CurlTransfer): the tool holds
        # about what it holds on any run (30-40 MiB), not the body.
        self.assertLess(peak, 64)
        self.assertTrue(any(e.get("fault") == "huge_body" for e in emulator.log()))
        self.assertEqual(json.loads((run / "status.json").read_text())["files"][0]["status"], "completed")

    def test_a_gigabyte_answer_is_refused_in_one_line(self):
        emulator = self.start_emulator()
        run, env = self.started_run(emulator)
        emulator.config(huge_body_count=1, huge_body_chunked=True, fault_methods=["GET"],
                        fault_paths=["/v1/batches/"])
        status, err, peak, seconds = self.wait_measured(run, env)
        sys.stderr.write("\n  [batch-wait against a 1 GiB chunked answer: %.0f MiB peak RSS, %.1f s]\n" % (peak, seconds))
        self.assertEqual(status, 1, err)
        self.assertIn("the answer is larger than", self.assert_one_line(err.decode(), "batch-wait"))
        # The transfer stops at the 4 MiB limit (CurlTransfer): the tool holds
        # about what it holds on any run (30-40 MiB), not the body.
        self.assertLess(peak, 64)

    def test_a_dripping_answer_meets_its_deadline(self):
        emulator = self.start_emulator()
        run, env = self.started_run(emulator, BATCHLINE_HTTP_TIMEOUT=2)
        emulator.config(drip_count=1, fault_methods=["GET"], fault_paths=["/v1/batches/"])
        status, err, peak, seconds = self.wait_measured(run, env, timeout=60)
        self.assertEqual(status, 0, err)
        # The drip (a byte per 0.5 s, under the idle timeout of 2 s) is cut at
        # the deadline of twice that, and the retry gets the answer.
        self.assertGreater(seconds, 3.5)
        self.assertLess(seconds, 30)
        self.assertEqual(json.loads((run / "status.json").read_text())["files"][0]["status"], "completed")


class TestRedirects(E2ETest):
    def trap(self, emulator):
        return emulator.admin("GET", "trap")["requests"]

    def test_a_redirected_read_leaves_the_key_behind(self):
        emulator = self.start_emulator(speed=1)
        emulator.config(validating_seconds=0, in_progress_seconds=60)
        run = self.new_run(count=5)
        env = self.env(emulator, key=KEY)
        for name in ["batch-prepare", "batch-upload", "batch-create"]:
            self.tool(name, run, env=env)
        emulator.config(redirect_count=1, fault_methods=["GET"], fault_paths=["/v1/batches/"])
        out, err = self.tool("batch-wait", "--once", run, env=env, expect=1)
        self.assertIn("HTTP 404", self.assert_one_line(err, "batch-wait"))
        requests = self.trap(emulator)
        self.assertEqual(len(requests), 1)
        for name, value in requests[0]["headers"]:
            self.assertNotIn(KEY, value, name)
            self.assertNotIn(name.lower(), ("authorization", "api-key"))

    def test_a_redirected_create_is_not_followed(self):
        emulator = self.start_emulator()
        run = self.new_run(count=5)
        env = self.env(emulator, key=KEY)
        for name in ["batch-prepare", "batch-upload"]:
            self.tool(name, run, env=env)
        emulator.config(redirect_count=1, fault_methods=["POST"], fault_paths=["/v1/batches"])
        out, err = self.tool("batch-create", run, env=env, expect=1)
        self.assertIn("not followed", self.assert_one_line(err, "batch-create"))
        self.assertEqual(self.trap(emulator), [])
        self.assertEqual(emulator.state()["batches"], [])


class TestFiles(E2ETest):
    def test_a_tight_umask_keeps_every_file_private(self):
        emulator = self.start_emulator()
        run = self.new_run(count=10)
        old = os.umask(0o077)
        try:
            self.pipeline(run, self.env(emulator))
        finally:
            os.umask(old)
        written = [run / "status.json", run / "items_classified.jsonl", run / "in" / "batch_001.jsonl",
                   run / "out" / "batch_001.jsonl"]
        for path in written:
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o600, path)

    def test_a_planted_symlink_truncates_nothing(self):
        emulator = self.start_emulator()
        run = self.new_run(count=10)
        env = self.env(emulator)
        for name in ["batch-prepare", "batch-upload", "batch-create", "batch-wait"]:
            self.tool(name, run, env=env)
        victim = self.tmp / "precious.txt"
        victim.write_text("precious\n")
        (run / "out").mkdir(exist_ok=True)
        os.symlink(victim, run / "out" / "batch_001.jsonl.part")
        self.tool("batch-download", run, env=env)
        self.assertEqual(victim.read_text(), "precious\n")
        self.assertEqual(len(read_lines(run / "out" / "batch_001.jsonl")), 10)
        self.assertFalse(os.path.lexists(run / "out" / "batch_001.jsonl.part"))

    def test_a_killed_tools_temporary_files_in_the_run_are_swept(self):
        run = self.new_run(count=10)
        stale = [run / ".status.json.tmp.AbC123", run / ".items_classified.jsonl.tmp.xyZ789"]
        for path in stale:
            path.write_text("half")
        mine = run / ".notes.tmp.txt"
        mine.write_text("mine")
        self.tool("batch-prepare", run, env=self.env())
        for path in stale:
            self.assertFalse(path.exists(), path)
        self.assertEqual(mine.read_text(), "mine")

    def finished_run_with_users_files(self, *names):
        """A run through merge, and files of the user's own named `names` in it."""
        emulator = self.start_emulator()
        run = self.new_run(count=10)
        env = self.env(emulator)
        self.pipeline(run, env)
        mine = [run / name for name in names]
        for path in mine:
            path.write_text("{}\n")
        return run, env, mine

    def test_make_clean_removes_only_batchlines_files(self):
        run, env, mine = self.finished_run_with_users_files("in/notes.jsonl", "out/mine.jsonl", "out/batch_x.jsonl")
        self.make("clean", "BATCH=%s" % run, env=env)
        for path in mine:
            self.assertTrue(path.exists(), path)
        for gone in ["status.json", "items_classified.jsonl", "in/batch_001.jsonl", "out/batch_001.jsonl"]:
            self.assertFalse((run / gone).exists(), gone)
        self.assertTrue((run / "items.jsonl").exists())

    def test_a_new_prepare_removes_only_batchlines_files(self):
        run, env, mine = self.finished_run_with_users_files("in/batch_notes.jsonl", "out/batch_x.jsonl",
                                                            "out/batch_001.txt")
        # Other items: the run starts afresh, and the old results go.
        (run / "items.jsonl").write_bytes(b"".join(line + b"\n" for line in read_lines(run / "items.jsonl")[:5]))
        self.tool("batch-prepare", run, env=env)
        for path in mine:
            self.assertTrue(path.exists(), path)
        self.assertFalse((run / "out" / "batch_001.jsonl").exists())

    def test_merge_takes_the_runs_lock(self):
        import fcntl
        emulator = self.start_emulator()
        run = self.new_run(count=10)
        env = self.env(emulator)
        self.pipeline(run, env)
        with open(run / ".batchline.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            for args in [(run,), (run, "-o", "-")]:
                out, err = self.tool("batch-merge", *args, env=env, expect=75)
                self.assertIn("another batchline tool is working on", self.assert_one_line(err, "batch-merge"))
                self.assertEqual(out, "")
        out, err = self.tool("batch-merge", run, "-o", "-", env=env)
        self.assertEqual(out.encode(), (run / "items_classified.jsonl").read_bytes())


class TestInput(E2ETest):
    def test_a_result_line_with_text_after_its_object_is_refused(self):
        emulator = self.start_emulator()
        emulator.config(result_trailing_rate=1.0)
        run = self.new_run(count=5)
        env = self.env(emulator)
        for name in support.PIPELINE[:-1]:
            self.tool(name, run, env=env)
        out, err = self.tool("batch-merge", run, env=env, expect=65)
        line = self.assert_one_line(err, "batch-merge")
        self.assertRegex(line, r"out/batch_001\.jsonl:1: not valid JSON: unexpected text after the JSON object")
        self.assertFalse((run / "items_classified.jsonl").exists())

    def test_a_forged_output_field_and_a_duplicate_key_are_refused(self):
        prompt = json.loads((support.SAMPLE_PROMPT).read_text())
        prompt["output_field"] = 'llm","forged":"x","z'
        run = self.new_run(prompt=json.dumps(prompt, indent=1))
        out, err = self.tool("batch-prepare", run, env=self.env(), expect=65)
        self.assertRegex(self.assert_one_line(err, "batch-prepare"), r"prompt\.json:\d+: 'output_field' ")
        text = '{"url": "/v1/chat/completions",\n "body": {"model": "a",\n  "model": "b", "messages": []}}\n'
        run = self.new_run(name="dup", prompt=text)
        out, err = self.tool("batch-prepare", run, env=self.env(), expect=65)
        self.assertIn("prompt.json:3: key 'model' appears twice", self.assert_one_line(err, "batch-prepare"))

    def test_an_output_field_edited_into_status_json_is_escaped(self):
        # Prepare takes plain names only, but status.json is the user's to
        # edit: the name merge writes still cannot forge another field.
        emulator = self.start_emulator()
        run = self.new_run(count=5)
        env = self.env(emulator)
        for name in support.PIPELINE[:-1]:
            self.tool(name, run, env=env)
        state = json.loads((run / "status.json").read_text())
        forged = 'llm":"forged","z'  # written raw: "llm":"forged","z":<answer>
        state["output_field"] = forged
        (run / "status.json").write_text(json.dumps(state))
        self.tool("batch-merge", run, env=env)
        for line in read_lines(run / "items_classified.jsonl"):
            item = json.loads(line)
            self.assertIn(forged, item)
            self.assertNotIn("llm", item)

    def test_a_base_url_with_credentials_is_refused_unshown(self):
        emulator = self.start_emulator()
        run = self.new_run(count=5)
        self.tool("batch-prepare", run, env=self.env())
        url = emulator.base_url.replace("http://", "http://user:pa55word@")
        out, err = self.tool("batch-upload", run, env=self.env(emulator, OPENAI_BASE_URL=url), expect=78)
        self.assertNotIn("pa55word", self.assert_one_line(err, "batch-upload"))
        self.assertEqual(emulator.log(), [])


if __name__ == "__main__":
    sys.exit(support.main(sys.modules[__name__]))
