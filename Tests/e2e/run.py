#!/usr/bin/env python3
"""End-to-end tests of batchline: the eight tools run as processes, as a user
runs them, against the project's emulator of the OpenAI API.

    python3 Tests/e2e/run.py .build/release [unittest options, e.g. -k Corpus]

The argument is the directory that holds the eight built tools (`make test`
passes `.build/release`). Python 3 standard library only; no network: every
emulator listens on 127.0.0.1 only and is stopped by its process id when its
test ends, pass or fail (and at exit). Each test works in its own temporary
directory (set BATCHLINE_E2E_KEEP=1 to keep them for a look afterwards).

The bad-input corpus lives in Tests/e2e/corpus/ (see its README.md).
"""

import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CORPUS = HERE / "corpus"
EMULATOR = REPO / "scripts" / "emulator.py"
MAKE_SAMPLE = REPO / "scripts" / "make_sample.py"
SAMPLE_ITEMS = REPO / "batch" / "items.jsonl"
SAMPLE_PROMPT = REPO / "batch" / "prompt.json"

TOOLS = ["batch-prepare", "batch-upload", "batch-create", "batch-wait",
         "batch-download", "batch-sort", "batch-merge", "batch-cleanup"]
PIPELINE = TOOLS[:-1]  # prepare .. merge

# Set by main() from the command line.
BIN = REPO / ".build" / "release"

KEEP = bool(os.environ.get("BATCHLINE_E2E_KEEP"))
TOOL_TIMEOUT = 120
COUNTER_RE = re.compile(
    r"^price: (\d+\.\d+) USD; items: (\d+); tokens \(llm in: (\d+), llm out: (\d+)\)$", re.M)
TOOL_LINE_RE = re.compile(r"\bbatch-(?:%s)\b" % "|".join(t[6:] for t in TOOLS))


# --------------------------------------------------------------------------
# Processes

def clean_environment():
    """The caller's environment without anything that would change what the
    tools or a nested make do (keys, base URLs, make's flags, proxies)."""
    env = {}
    for name, value in os.environ.items():
        upper = name.upper()
        if upper.startswith(("OPENAI_", "AZURE_", "GROQ_", "BATCHLINE_", "MAKE")):
            continue
        if upper in ("MFLAGS", "POLL", "MAX_COST", "TOKEN_LIMIT", "BATCH", "NO_PROXY",
                     "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            continue
        env[name] = value
    env.update({
        "SWIFT_BACKTRACE": "enable=no",
        "BATCHLINE_RETRY_BASE": "0.05",
        "BATCHLINE_VISIBILITY_WAIT": "2",
        "POLL": "1",
        "LC_ALL": "C.UTF-8",
    })
    return env


def _run(argv, *, cwd, env, input=None, timeout=TOOL_TIMEOUT):
    """Runs argv in its own process group; on a timeout the whole group is
    killed (make and the tool it runs). Returns (status, stdout, stderr) as
    bytes."""
    proc = subprocess.Popen(
        [str(a) for a in argv], cwd=str(cwd), env=env,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
        raise AssertionError("timed out after %ss: %s\nstdout: %s\nstderr: %s" % (
            timeout, " ".join(map(str, argv)), out.decode(errors="replace")[-2000:],
            err.decode(errors="replace")[-2000:]))
    return proc.returncode, out, err


def run_tool(name, *args, cwd, env, input=None, timeout=TOOL_TIMEOUT, raw=False):
    """Runs one tool; returns (status, stdout, stderr), as text unless raw."""
    status, out, err = _run([BIN / name, *args], cwd=cwd, env=env, input=input,
                            timeout=timeout)
    if raw:
        return status, out, err
    return status, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def run_make(*args, env, timeout=150):
    """Runs make in the project, as `make -C <repo> ARGS`; returns text.

    `-o <bin>/.built` keeps make from rebuilding the tools in the middle of
    the suite when someone edits a source file (`make test` has already
    built them); BIN is passed only when the tools are not in the default
    place."""
    # make compares target names as text: -o must spell .built as the Makefile
    # does. -o is not passed down to a recursive make (make retry runs one),
    # so MAKE carries it.
    if BIN.resolve() == (REPO / ".build" / "release").resolve():
        built, extra = ".build/release/.built", []
    else:
        built, extra = "%s/.built" % BIN, ["BIN=%s" % BIN]
    argv = ["make", "-C", REPO, "-o", built, "MAKE=make -o %s" % built, *extra, *args]
    status, out, err = _run(argv, cwd=REPO, env=env, timeout=timeout)
    return status, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


_LIVE = set()


def _stop_all():
    for emulator in list(_LIVE):
        emulator.stop()


atexit.register(_stop_all)


class Emulator:
    """The project's emulator of the OpenAI API, as a subprocess on 127.0.0.1."""

    def __init__(self, workdir, *options, speed=0):
        self.workdir = Path(workdir)
        self.options = [str(o) for o in options]
        self.speed = speed
        self.proc = None
        self.port = None
        self.port_file = self.log_path = self.stderr_path = None

    def start(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        tag = "emulator-%d" % id(self)
        self.port_file = self.workdir / (tag + ".port")
        self.log_path = self.workdir / (tag + ".log")
        self.stderr_path = self.workdir / (tag + ".stderr")
        with open(self.stderr_path, "wb") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, EMULATOR, "--host", "127.0.0.1", "--port", "0",
                 "--port-file", self.port_file, "--log", self.log_path,
                 "--speed", str(self.speed), *self.options],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                env=clean_environment())
        _LIVE.add(self)
        deadline = time.monotonic() + 20
        while True:
            if self.port_file.exists() and self.port_file.read_text().strip():
                self.port = int(self.port_file.read_text().strip())
                return self
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("the emulator exited (%s): %s" % (
                    self.proc.returncode, self.stderr_path.read_text(errors="replace")))
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the emulator did not start within 20 s")
            time.sleep(0.02)

    def stop(self):
        """Stops the emulator by its process id (SIGTERM, then SIGKILL)."""
        proc, self.proc = self.proc, None
        _LIVE.discard(self)
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def base_url(self):
        return self.url + "/v1"

    _opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def _admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with self._opener.open(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def config(self, **settings):
        """Merges settings into the emulator's configuration (POST /_emulator/config)."""
        return self._admin("POST", "/_emulator/config", settings)

    def state(self):
        return self._admin("GET", "/_emulator/state")

    def reset(self, keep_config=False):
        return self._admin("POST", "/_emulator/reset", {"keep_config": keep_config})

    def log(self):
        """The request log: one dict per API request."""
        if not self.log_path.exists():
            return []
        entries = []
        for line in self.log_path.read_text().splitlines():
            if line.strip():
                entries.append(json.loads(line))
        return entries

    def acted(self, action):
        """The log entries of requests whose action took effect (file.upload, ...)."""
        return [e for e in self.log() if e.get("action") == action and e.get("acted")]


# --------------------------------------------------------------------------
# Files

def read_lines(path):
    """The lines of a file as bytes, without their '\\n'."""
    data = Path(path).read_bytes()
    if data.endswith(b"\n"):
        data = data[:-1]
    return data.split(b"\n") if data else []


def snapshot(root):
    """Every entry under root: {relative path: bytes, or None for a directory}."""
    root = Path(root)
    entries = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            entries[os.path.relpath(os.path.join(dirpath, name), root)] = None
        for name in filenames:
            path = os.path.join(dirpath, name)
            entries[os.path.relpath(path, root)] = Path(path).read_bytes()
    return entries


def make_sample(path, count):
    subprocess.run([sys.executable, MAKE_SAMPLE, "--count", str(count), "--out", path],
                   check=True, stdout=subprocess.DEVNULL)


def write_json(path, value):
    Path(path).write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


CHAT_PROMPT = {
    "url": "/v1/chat/completions",
    "custom_id": "{{uuid}}",
    "body": {
        "model": "gpt-4o-mini",
        "max_tokens": 20,
        "messages": [
            {"role": "system", "content": "Classify the food item. Answer with one word."},
            {"role": "user", "content": "Item: {{name}} ({{origin.country}}). {{description}}"},
        ],
    },
}


# --------------------------------------------------------------------------
# The base of every test

class E2ETest(unittest.TestCase):
    maxDiff = 4000

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="batchline-e2e-"))
        if KEEP:
            sys.stderr.write("\n  [%s: %s]\n" % (self.id(), self.tmp))
        else:
            self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def start_emulator(self, *options, speed=0):
        emulator = Emulator(self.tmp / "emulator", *options, speed=speed)
        emulator.start()
        self.addCleanup(emulator.stop)
        return emulator

    def env(self, emulator=None, key="sk-test", **extra):
        """The tools' environment: the emulator's base URL and a key, if given."""
        env = clean_environment()
        if emulator is not None:
            env["OPENAI_BASE_URL"] = emulator.base_url
        if key is not None:
            env["OPENAI_API_KEY"] = key
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def new_run(self, name="run", items=None, prompt=None, count=None):
        """A run directory under the test's temp dir, with items and prompt.json.

        items: bytes, a list of dicts/strings (one line each), or None for the
        tracked sample (or `count` generated sample items)."""
        run = self.tmp / name
        run.mkdir(parents=True)
        if items is None and count is None:
            shutil.copyfile(SAMPLE_ITEMS, run / "items.jsonl")
        elif items is None:
            make_sample(run / "items.jsonl", count)
        elif isinstance(items, bytes):
            (run / "items.jsonl").write_bytes(items)
        else:
            lines = [i if isinstance(i, str) else json.dumps(i, ensure_ascii=False,
                                                              separators=(",", ":"))
                     for i in items]
            (run / "items.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        if prompt is None:
            shutil.copyfile(SAMPLE_PROMPT, run / "prompt.json")
        elif isinstance(prompt, (str, bytes)):
            (run / "prompt.json").write_bytes(prompt if isinstance(prompt, bytes) else prompt.encode())
        else:
            write_json(run / "prompt.json", prompt)
        return run

    def tool(self, name, *args, env, cwd=None, expect=0, input=None, timeout=TOOL_TIMEOUT):
        """Runs a tool and checks its status; returns (stdout, stderr)."""
        status, out, err = run_tool(name, *args, cwd=cwd or self.tmp, env=env, input=input,
                                    timeout=timeout)
        if expect is not None:
            self.assertEqual(status, expect, "%s %s exited %s\nstdout: %s\nstderr: %s" % (
                name, " ".join(map(str, args)), status, out[-3000:], err[-3000:]))
        return out, err

    def pipeline(self, run, env, timeout=TOOL_TIMEOUT):
        """Runs prepare .. merge on run, each step checked; returns merge's (stdout, stderr)."""
        result = None
        for name in PIPELINE:
            result = self.tool(name, run, env=env, timeout=timeout)
        return result

    def make(self, *args, env, expect=0, timeout=150):
        status, out, err = run_make(*args, env=env, timeout=timeout)
        self.assertNotIn("swift build", out, "the suite must not rebuild the tools")
        if expect is not None:
            self.assertEqual(status, expect, "make %s exited %s\nstdout: %s\nstderr: %s" % (
                " ".join(args), status, out[-3000:], err[-3000:]))
        return out, err

    def assert_one_line(self, text, tool):
        """text is exactly one line, `tool: ...`; returns the line."""
        lines = text.splitlines()
        self.assertEqual(len(lines), 1, "expected one line from %s, got:\n%s" % (tool, text))
        self.assertTrue(text.endswith("\n"), repr(text))
        self.assertTrue(lines[0].startswith(tool + ": "), lines[0])
        return lines[0]

    def assert_merged(self, run, field="llm", answer_check=None, items_path=None):
        """items_classified.jsonl is the items, in order, each with its answer
        added as one more field: the item's bytes with `,"field":<answer>}`
        in place of its final `}`. Returns the answers, parsed."""
        items = read_lines(items_path or run / "items.jsonl")
        merged = read_lines(run / "items_classified.jsonl")
        self.assertTrue((run / "items_classified.jsonl").read_bytes().endswith(b"\n"))
        self.assertEqual(len(merged), len(items), "one line per item")
        answers = []
        tag = (',"%s":' % field).encode()
        for number, (item, line) in enumerate(zip(items, merged), 1):
            item = item.rstrip(b"\r")
            self.assertTrue(item.endswith(b"}"), item)
            prefix = item[:-1] + tag
            if not (line.startswith(prefix) and line.endswith(b"}")):
                self.fail("line %d: not the item's bytes plus %s\nitem: %r\nline: %r" % (
                    number, tag.decode(), item[:300], line[:300]))
            answer = json.loads(line[len(prefix):-1].decode("utf-8"))
            if answer_check is not None:
                self.assertTrue(answer_check(answer), "line %d: answer %r" % (number, answer))
            answers.append(answer)
        return answers


def nonempty_string(answer):
    return isinstance(answer, str) and answer != ""


# --------------------------------------------------------------------------
# 1. The happy path, through make

class TestHappyPathMake(E2ETest):
    def test_make_merged_rerun_cleaned_and_touch(self):
        emulator = self.start_emulator()
        run = self.new_run()
        env = self.env(emulator)
        batch = "BATCH=%s" % run

        out, err = self.make("merged", batch, "POLL=1", env=env)
        for tool in PIPELINE:
            self.assertRegex(out, r"(?m)/%s %s$" % (tool, re.escape(str(run))), "make ran " + tool)
        self.assert_merged(run, answer_check=nonempty_string)
        counter = COUNTER_RE.findall(out)
        self.assertEqual(len(counter), 1, "the Counter line on stdout:\n" + out)
        price, items, tokens_in, tokens_out = counter[0]
        self.assertEqual(int(items), 1000)
        self.assertGreater(int(tokens_in), 0)
        self.assertGreater(int(tokens_out), 0)
        self.assertEqual(len(emulator.acted("file.upload")), 1)
        self.assertEqual(len(emulator.acted("batch.create")), 1)
        result = (run / "items_classified.jsonl").read_bytes()

        # Nothing is stale: make runs no tool.
        out, err = self.make("merged", batch, "POLL=1", env=env)
        self.assertIn("Nothing to be done", out)
        self.assertIsNone(TOOL_LINE_RE.search(out + err), "no tool runs:\n" + out + err)

        # make cleaned deletes every remote file of the run.
        out, err = self.make("cleaned", batch, "POLL=1", env=env)
        files = emulator.state()["files"]
        self.assertGreaterEqual(len(files), 2, files)  # the request file and the output
        self.assertEqual([f for f in files if not f["deleted"]], [], "every file deleted")

        # A touched items.jsonl makes prepare stale ...
        time.sleep(0.01)
        os.utime(run / "items.jsonl")
        out, err = self.make("-n", "merged", batch, "POLL=1", env=env)
        self.assertRegex(out, r"(?m)/batch-prepare %s$" % re.escape(str(run)))
        # ... and rerunning it keeps the run: same result, no new upload or batch.
        out, err = self.make("merged", batch, "POLL=1", env=env)
        self.assertEqual((run / "items_classified.jsonl").read_bytes(), result)
        self.assertEqual(len(emulator.acted("file.upload")), 1, "no new upload")
        self.assertEqual(len(emulator.acted("batch.create")), 1, "no new batch")

        # A finished run is merged again without a key or a network: the
        # paid steps have nothing to do and call nothing.
        time.sleep(0.01)
        os.utime(run / "prompt.json")
        requests = len(emulator.log())
        out, err = self.make("merged", batch, "POLL=1", env=self.env(None, key=None))
        self.assertRegex(out, r"(?m)/batch-upload %s$" % re.escape(str(run)))
        self.assertEqual((run / "items_classified.jsonl").read_bytes(), result)
        self.assertEqual(len(emulator.log()), requests, "no request reached the server")


    def test_downloads_are_staged_in_the_run_not_in_tmpdir(self):
        """batch-download writes nothing to $TMPDIR (often a tmpfs, where a
        200 MB file would sit in memory and then be copied): a TMPDIR that
        does not exist changes nothing, and out/.incoming is left empty."""
        emulator = self.start_emulator()
        run = self.new_run(count=300)
        env = self.env(emulator)
        for name in ("batch-prepare", "batch-upload", "batch-create", "batch-wait"):
            self.tool(name, run, env=env)
        incoming = run / "out" / ".incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        (incoming / "0C4F.tmp").write_bytes(b"left by a killed download")
        self.tool("batch-download", run, env=dict(env, TMPDIR=str(self.tmp / "no-such-dir")))
        self.assertFalse(incoming.exists(), "out/.incoming is removed")
        self.assertEqual(len(read_lines(run / "out" / "batch_001.jsonl")), 300)
        for name in ("batch-sort", "batch-merge"):
            self.tool(name, run, env=env)
        self.assert_merged(run, answer_check=nonempty_string)


# --------------------------------------------------------------------------
# 2. Other endpoints and template features

class TestEndpoints(E2ETest):
    COUNT = 300

    def run_make(self, run, emulator):
        out, err = self.make("merged", "BATCH=%s" % run, "POLL=1", env=self.env(emulator))
        self.assertEqual(len(COUNTER_RE.findall(out)), 1, out)
        return out, err

    def requests(self, run):
        lines = []
        for path in sorted((run / "in").glob("batch_*.jsonl")):
            lines.extend(json.loads(line) for line in read_lines(path))
        return lines

    def test_embeddings(self):
        emulator = self.start_emulator()
        run = self.new_run(count=self.COUNT, prompt={
            "url": "/v1/embeddings",
            "custom_id": "{{uuid}}",
            "body": {"model": "text-embedding-3-small", "input": "{{description}}",
                     "dimensions": 8},
        })
        self.run_make(run, emulator)
        requests = self.requests(run)
        self.assertEqual(len(requests), self.COUNT)
        self.assertTrue(all(r["url"] == "/v1/embeddings" for r in requests))

        def vector(answer):
            return (isinstance(answer, list) and len(answer) == 8
                    and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                            for x in answer))
        self.assert_merged(run, answer_check=vector)

    def test_responses(self):
        emulator = self.start_emulator()
        run = self.new_run(count=self.COUNT, prompt={
            "url": "/v1/responses",
            "custom_id": "{{uuid}}",
            "body": {"model": "gpt-4o-mini", "max_output_tokens": 32,
                     "input": "Classify this food item in one word: {{name}}. {{description}}"},
        })
        self.run_make(run, emulator)
        self.assertTrue(all(r["url"] == "/v1/responses" for r in self.requests(run)))
        self.assert_merged(run, answer_check=nonempty_string)

    def test_line_numbers_as_ids_and_output_field(self):
        emulator = self.start_emulator()
        prompt = json.loads(json.dumps(CHAT_PROMPT))
        del prompt["custom_id"]
        prompt["output_field"] = "label"
        run = self.new_run(count=self.COUNT, prompt=prompt)
        self.run_make(run, emulator)
        ids = [r["custom_id"] for r in self.requests(run)]
        self.assertEqual(ids, [str(n) for n in range(1, self.COUNT + 1)])
        self.assertEqual(json.loads((run / "status.json").read_text())["output_field"], "label")
        self.assert_merged(run, field="label", answer_check=nonempty_string)
        for line in read_lines(run / "items_classified.jsonl"):
            self.assertNotIn("llm", json.loads(line))

    def test_whole_item_and_array_index(self):
        emulator = self.start_emulator()
        make_sample(self.tmp / "sample.jsonl", self.COUNT)
        compact = [line for line in read_lines(self.tmp / "sample.jsonl")
                   if json.loads(line)["tags"]]
        # The items as written with insignificant whitespace: {{.}} compacts them.
        spaced = [json.dumps(json.loads(line), ensure_ascii=False).encode() for line in compact]
        self.assertNotEqual(spaced[0], compact[0])
        run = self.new_run(items=b"\n".join(spaced) + b"\n", prompt={
            "url": "/v1/chat/completions",
            "custom_id": "{{ uuid }}",
            "body": {"model": "gpt-4o-mini", "max_tokens": 20, "messages": [
                {"role": "user", "content": "First tag: {{tags.0}}. Item: {{.}}"}]},
        })
        self.tool("batch-prepare", run, env=self.env())
        requests = self.requests(run)
        self.assertEqual(len(requests), len(compact))
        for request, line in zip(requests, compact):
            item = json.loads(line)
            self.assertEqual(request["custom_id"], item["uuid"])
            self.assertEqual(request["body"]["messages"][0]["content"],
                             "First tag: %s. Item: %s" % (item["tags"][0], line.decode()))
        self.run_make(run, emulator)
        self.assert_merged(run, answer_check=nonempty_string)


    def test_crlf_lines_and_no_final_newline(self):
        emulator = self.start_emulator()
        make_sample(self.tmp / "sample.jsonl", 50)
        lines = read_lines(self.tmp / "sample.jsonl")
        run = self.new_run(items=b"\r\n".join(lines), prompt=CHAT_PROMPT)
        self.run_make(run, emulator)
        merged = (run / "items_classified.jsonl").read_bytes()
        self.assertNotIn(b"\r", merged.replace(b"\\r", b""))
        self.assertTrue(merged.endswith(b"\n"))
        self.assert_merged(run, answer_check=nonempty_string, items_path=self.tmp / "sample.jsonl")

    def test_placeholder_rendering(self):
        item = (b'{"id": "p1", "n": 1.50, "e": 1E3, "z": null, "s": "say \\"hi\\"\\tnow", '
                b'"o": {"k": [1, 2]}, "texts": ["a", "b"]}\n')
        run = self.new_run(items=item, prompt={
            "url": "/v1/chat/completions",
            "custom_id": "{{ id }}-{{n}}",
            "body": {"model": "gpt-4o-mini", "max_tokens": 5, "messages": [
                {"role": "user", "content": "n={{n}} e={{e}} z={{z}} s={{s}} o={{o}}"}]},
        })
        self.tool("batch-prepare", run, env=self.env(key=None))
        request = json.loads(read_lines(run / "in" / "batch_001.jsonl")[0])
        self.assertEqual(request["custom_id"], "p1-1.50")
        self.assertEqual(request["body"]["messages"][0]["content"],
                         'n=1.50 e=1E3 z= s=say "hi"\tnow o={"k":[1,2]}')
        # A string that is exactly one placeholder takes the value with its type.
        (run / "prompt.json").write_text(json.dumps({
            "url": "/v1/embeddings", "custom_id": "{{id}}",
            "body": {"model": "text-embedding-3-small", "input": "{{texts}}"}}))
        self.tool("batch-prepare", run, env=self.env(key=None))
        line = read_lines(run / "in" / "batch_001.jsonl")[0]
        self.assertIn(b'"input":["a","b"]', line)
        self.assertEqual(json.loads(line)["body"]["input"], ["a", "b"])


# --------------------------------------------------------------------------
# 3. Splitting at 50,000 requests

class TestSplitting(E2ETest):
    COUNT = 120_000
    SIZES = [50_000, 50_000, 20_000]
    PROMPT = {
        "url": "/v1/chat/completions",
        "custom_id": "{{id}}",
        "body": {"model": "gpt-4o-mini", "max_tokens": 5,
                 "messages": [{"role": "user", "content": "Say {{t}}"}]},
    }

    def new_split_run(self):
        items = "".join('{"id": %d, "t": "x"}\n' % n for n in range(1, self.COUNT + 1))
        return self.new_run(items=items.encode(), prompt=self.PROMPT)

    def check_prepared(self, run):
        names = sorted(p.name for p in (run / "in").iterdir())
        self.assertEqual(names, ["batch_%03d.jsonl" % n for n in range(1, len(self.SIZES) + 1)])
        ids = []
        for name, size in zip(names, self.SIZES):
            lines = read_lines(run / "in" / name)
            self.assertEqual(len(lines), size, name)
            ids.extend(json.loads(line)["custom_id"] for line in lines)
        self.assertEqual(ids, [str(n) for n in range(1, self.COUNT + 1)], "input order")
        status = json.loads((run / "status.json").read_text())
        self.assertEqual([(f["input_filename"]["local"], f["input_filename"]["requests"], f["round"])
                          for f in status["files"]],
                         [(n, s, 1) for n, s in zip(names, self.SIZES)])
        self.assertEqual(status["items"]["count"], self.COUNT)

    def test_prepare_splits_at_50000(self):
        run = self.new_split_run()
        self.tool("batch-prepare", run, env=self.env(key=None))
        self.check_prepared(run)

    def test_pipeline_keeps_order_across_files(self):
        emulator = self.start_emulator()
        run = self.new_split_run()
        started = time.monotonic()
        out, err = self.pipeline(run, self.env(emulator))
        elapsed = time.monotonic() - started
        self.check_prepared(run)
        self.assert_merged(run, answer_check=nonempty_string)
        self.assertEqual(len(emulator.acted("batch.create")), 3)
        # About 18 s on 2 cores; the limit leaves room for a loaded machine.
        self.assertLess(elapsed, 120, "the 120,000-item pipeline took %.1f s" % elapsed)


# --------------------------------------------------------------------------
# 4. The bad-input corpus

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


# --------------------------------------------------------------------------
# 5. The API key

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
        for tool in ("batch-upload", "batch-create", "batch-wait", "batch-download",
                     "batch-cleanup"):
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


# --------------------------------------------------------------------------
# 6. One run, one server

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


# --------------------------------------------------------------------------
# 7. A Unix citizen

class TestUnixCitizen(E2ETest):
    def test_help_version_and_unknown_option(self):
        env = self.env(key=None)
        for tool in TOOLS:
            with self.subTest(tool=tool, option="--help"):
                out, err = self.tool(tool, "--help", env=env)
                self.assertRegex(out, r"(?m)^usage: %s\b" % tool)
                self.assertEqual(err, "")
            with self.subTest(tool=tool, option="--version"):
                out, err = self.tool(tool, "--version", env=env)
                self.assertRegex(out, r"^%s \S+\n$" % tool)
            with self.subTest(tool=tool, option="--bogus"):
                out, err = self.tool(tool, "--bogus", env=env, expect=64)
                self.assertEqual(out, "")
                lines = err.splitlines()
                self.assertEqual(len(lines), 2, err)
                self.assertTrue(lines[0].startswith(tool + ": ") and "--bogus" in lines[0], err)
                self.assertRegex(lines[1], r"^usage: %s\b" % tool)

    def test_prepare_reads_stdin_and_keeps_a_copy(self):
        make_sample(self.tmp / "items.jsonl", 100)
        data = (self.tmp / "items.jsonl").read_bytes()
        run = self.tmp / "run"
        run.mkdir()
        write_json(run / "prompt.json", CHAT_PROMPT)
        # As in `cat items.jsonl | batch-prepare run -`.
        status, out, err = run_tool("batch-prepare", "run", "-", cwd=self.tmp,
                                    env=self.env(key=None), input=data)
        self.assertEqual(status, 0, err)
        self.assertEqual((run / "items.jsonl").read_bytes(), data)
        self.assertEqual(len(read_lines(run / "in" / "batch_001.jsonl")), 100)
        self.assertEqual(json.loads((run / "status.json").read_text())["items"]["count"], 100)
        # Bad items from stdin leave the kept copy and the run as they were.
        before = snapshot(run)
        bad = data + b'{"uuid": "fd-x", "name":\n'
        status, out, err = run_tool("batch-prepare", "run", "-", cwd=self.tmp,
                                    env=self.env(key=None), input=bad)
        self.assertEqual(status, 65, err)
        self.assert_one_line(err, "batch-prepare")
        self.assertIn(":101: ", err)
        self.assertEqual(snapshot(run), before)

    def test_merge_into_a_closed_pipe_is_quiet(self):
        emulator = self.start_emulator()
        run = self.new_run()
        self.pipeline(run, self.env(emulator))
        first = read_lines(run / "items_classified.jsonl")[0] + b"\n"
        # -o - writes the items to stdout, and the Counter line to stderr.
        status, out, err = run_tool("batch-merge", "-o", "-", "run", cwd=self.tmp,
                                    env=self.env(), raw=True)
        self.assertEqual(status, 0, err)
        self.assertEqual(out, (run / "items_classified.jsonl").read_bytes())
        self.assertEqual(len(COUNTER_RE.findall(err.decode())), 1, err)
        # As in `batch-merge -o - run | head -1`.
        merge = subprocess.Popen([BIN / "batch-merge", "-o", "-", "run"], cwd=self.tmp,
                                 env=self.env(), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        head = subprocess.Popen(["head", "-1"], stdin=merge.stdout, stdout=subprocess.PIPE)
        merge.stdout.close()
        out, _ = head.communicate(timeout=60)
        err = merge.stderr.read().decode("utf-8", "replace")
        merge.stderr.close()
        status = merge.wait(timeout=60)
        self.assertEqual(out, first)
        self.assertIn(status, (0, -signal.SIGPIPE), err)
        self.assertEqual(merge.returncode, status)
        noise = [line for line in err.splitlines()
                 if not (COUNTER_RE.match(line) or line.startswith("batch-merge: tokens:"))]
        self.assertEqual(noise, [], "no error text on stderr")

    def test_sort_as_a_filter(self):
        make_sample(self.tmp / "items.jsonl", 60)
        run = self.tmp / "run"
        run.mkdir()
        write_json(run / "prompt.json", CHAT_PROMPT)
        shutil.copy(self.tmp / "items.jsonl", run / "items.jsonl")
        status, out, err = run_tool("batch-prepare", "run", cwd=self.tmp, env=self.env(key=None))
        self.assertEqual(status, 0, err)
        requests = read_lines(run / "in" / "batch_001.jsonl")
        ids = [json.loads(line)["custom_id"] for line in requests]
        # Result lines in another order, one request without any, one repeated.
        results = [json.dumps({"id": "batch_req_%d" % n, "custom_id": i, "response": {"status_code": 200,
                   "body": {"choices": [{"message": {"content": "x"}}]}}, "error": None}).encode()
                   for n, i in enumerate(ids)]
        shuffled = list(reversed(results[1:])) + [results[5]]
        # As in `batch-sort --requests run/in/batch_001.jsonl < results`.
        status, out, err = run_tool("batch-sort", "--requests", "run/in/batch_001.jsonl", cwd=self.tmp,
                                    env=self.env(key=None), input=b"\n".join(shuffled) + b"\n", raw=True)
        self.assertEqual(status, 0, err)
        self.assertEqual(out, b"\n".join(results[1:]) + b"\n")
        notes = err.decode().splitlines()
        self.assertIn("batch-sort: dropped 1 repeated result line", notes)
        self.assertIn("batch-sort: 1 request has no result line: '%s'" % ids[0], notes)


# --------------------------------------------------------------------------
# 8. Faults

class TestFaults(E2ETest):
    COUNT = 300
    reference = None

    @classmethod
    def setUpClass(cls):
        # The fault-free result, to compare the faulty runs with.
        cls.ref_dir = Path(tempfile.mkdtemp(prefix="batchline-e2e-ref-"))
        emulator = Emulator(cls.ref_dir / "emulator").start()
        try:
            run = cls.ref_dir / "run"
            run.mkdir()
            make_sample(run / "items.jsonl", cls.COUNT)
            write_json(run / "prompt.json", CHAT_PROMPT)
            env = clean_environment()
            env.update(OPENAI_BASE_URL=emulator.base_url, OPENAI_API_KEY="sk-test")
            status, out, err = run_make("merged", "BATCH=%s" % run, "POLL=1", env=env)
            if status != 0:
                raise RuntimeError("the fault-free run failed:\n" + out + err)
            cls.items = (run / "items.jsonl").read_bytes()
            cls.reference = (run / "items_classified.jsonl").read_bytes()
            cls.reference_counter = COUNTER_RE.findall(out)
        finally:
            emulator.stop()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.ref_dir, ignore_errors=True)

    def faulty_run(self):
        run = self.new_run(items=self.items, prompt=CHAT_PROMPT)
        return run

    def test_transient_http_faults_change_nothing(self):
        emulator = self.start_emulator()
        emulator.config(http_5xx_rate=0.3, http_429_rate=0.2, fault_methods=["GET"])
        run = self.faulty_run()
        out, err = self.make("merged", "BATCH=%s" % run, "POLL=1", env=self.env(emulator))
        faults = [e for e in emulator.log() if e.get("fault")]
        self.assertGreater(len(faults), 0, "the emulator injected faults")
        self.assertEqual((run / "items_classified.jsonl").read_bytes(), self.reference)
        self.assertEqual(COUNTER_RE.findall(out), self.reference_counter)
        self.assertEqual(len(emulator.acted("file.upload")), 1)
        self.assertEqual(len(emulator.acted("batch.create")), 1)

    def test_request_errors_then_make_retry(self):
        emulator = self.start_emulator()
        emulator.config(request_error_rate=0.1, request_error_codes=[500])
        run = self.faulty_run()
        env = self.env(emulator)
        out, err = self.make("merged", "BATCH=%s" % run, "POLL=1", env=env)
        items = read_lines(run / "items.jsonl")
        merged = read_lines(run / "items_classified.jsonl")
        self.assertEqual(len(merged), len(items))
        failed = 0
        for number, (item, line) in enumerate(zip(items, merged), 1):
            record = json.loads(line)
            self.assertTrue(line.startswith(item[:-1] + b',"llm":'), number)
            if record["llm"] is None:
                failed += 1
                error = record.get("llm_error")
                self.assertIsInstance(error, dict, number)
                self.assertEqual(sorted(error), ["code", "message", "status"], number)
                self.assertEqual(error["status"], 500, number)
                self.assertTrue(isinstance(error["message"], str) and error["message"], number)
                self.assertTrue(line.startswith(item[:-1] + b',"llm":null,"llm_error":{'), number)
            else:
                self.assertTrue(nonempty_string(record["llm"]), number)
                self.assertNotIn("llm_error", record)
        self.assertGreater(failed, 0, "some requests failed")
        self.assertLess(failed, len(items))
        report = [line for line in err.splitlines()
                  if line.startswith("batch-merge: ") and str(failed) in line]
        self.assertEqual(len(report), 1, "merge names the failures:\n" + err)
        self.assertIn("make retry", report[0])
        counter = COUNTER_RE.findall(out)
        self.assertEqual(len(counter), 1, out)
        self.assertEqual(int(counter[0][1]), len(items) - failed, "items answered")

        emulator.config(request_error_rate=0.0)
        out, err = self.make("retry", "BATCH=%s" % run, "POLL=1", env=env)
        self.assertEqual((run / "items_classified.jsonl").read_bytes(), self.reference)
        self.assertTrue((run / "in" / "batch_002.jsonl").exists())
        self.assertEqual(len(read_lines(run / "in" / "batch_002.jsonl")), failed)
        status = json.loads((run / "status.json").read_text())
        rounds = {f["input_filename"]["local"]: f["round"] for f in status["files"]}
        self.assertEqual(rounds, {"batch_001.jsonl": 1, "batch_002.jsonl": 2})
        self.assertEqual(len(emulator.acted("batch.create")), 2)

        # make cleaned deletes the files of both rounds.
        self.make("cleaned", "BATCH=%s" % run, "POLL=1", env=env)
        files = emulator.state()["files"]
        self.assertEqual(len(files), 5, files)  # 2 request files, 2 outputs, 1 error file
        self.assertEqual([f for f in files if not f["deleted"]], [], "every file deleted")


# --------------------------------------------------------------------------

class TimedResult(unittest.TextTestResult):
    """A text result that also records how long each test took."""

    durations = []

    def startTest(self, test):
        self._started = time.monotonic()
        super().startTest(test)

    def stopTest(self, test):
        TimedResult.durations.append((time.monotonic() - self._started, test.id()))
        super().stopTest(test)


def main():
    global BIN
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        sys.stderr.write("usage: python3 Tests/e2e/run.py BIN_DIR [unittest options]\n")
        return 64
    BIN = Path(sys.argv[1]).resolve()
    missing = [t for t in TOOLS if not os.access(BIN / t, os.X_OK)]
    if missing:
        sys.stderr.write("run.py: not built in %s: %s (run make tools)\n" % (BIN, ", ".join(missing)))
        return 66
    # SIGTERM (a CI timeout, say) still stops the emulators through atexit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    runner = unittest.TextTestRunner(verbosity=2, resultclass=TimedResult)
    program = unittest.main(argv=[sys.argv[0]] + sys.argv[2:], testRunner=runner, exit=False)
    slowest = sorted(TimedResult.durations, reverse=True)[:6]
    sys.stderr.write("e2e: %.1f s in all; slowest: %s\n" % (
        time.monotonic() - started,
        ", ".join("%s %.1f s" % (name.rsplit(".", 1)[-1], t) for t, name in slowest)))
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
