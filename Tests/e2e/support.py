"""What the end-to-end tests share: where the tools are, how they and make
are run, the emulator, the files a run starts from, and the base test class.

Each test_*.py here runs on its own or all together:

    python3 Tests/e2e/all.py .build/release [-j JOBS] [-k PATTERN]... [-f] [TEST_NAME]...
    python3 Tests/e2e/test_keys.py .build/release

The argument is the directory that holds the eight built tools (`make test`
passes `.build/release`). Python 3 standard library only; no network: every
emulator listens on 127.0.0.1 only and is stopped by its process id when its
test ends, pass or fail (and at exit). Each test works in its own temporary
directory (set BATCHLINE_E2E_KEEP=1 to keep them for a look afterwards).
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from emulator_process import EmulatorProcess  # noqa: E402  (needs the path above)

CORPUS = HERE / "corpus"
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
        if upper.startswith(("OPENAI_", "AZURE_", "GROQ_", "NEBIUS_", "DEEPINFRA_", "PARASAIL_", "DOUBLEWORD_",
                             "BATCHLINE_", "MAKE")):
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


def make_argv(*args):
    """`make -C <repo> ARGS` as the suite runs it.

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
    return ["make", "-C", str(REPO), "-o", built, "MAKE=make -o %s" % built, *extra, *map(str, args)]


def run_make(*args, env, timeout=150):
    """Runs make in the project; returns (status, stdout, stderr) as text."""
    status, out, err = _run(make_argv(*args), cwd=REPO, env=env, timeout=timeout)
    return status, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def tool_env(emulator=None, key="sk-test", **extra):
    """The tools' environment (see clean_environment): the emulator's base
    URL and a key, if given, and `extra` on top."""
    env = clean_environment()
    if emulator is not None:
        env["OPENAI_BASE_URL"] = emulator.base_url
    if key is not None:
        env["OPENAI_API_KEY"] = key
    env.update({k: str(v) for k, v in extra.items()})
    return env


def four_file_env(emulator, **extra):
    """tool_env with request files of 250 lines (four for the sample) and a
    short HTTP timeout: the long-run tests (crash, reliability) use it."""
    settings = {"BATCHLINE_MAX_REQUESTS": 250, "BATCHLINE_VISIBILITY_WAIT": 3, "BATCHLINE_HTTP_TIMEOUT": 5}
    settings.update(extra)
    return tool_env(emulator, key="sk-e2e-test", **settings)


# --------------------------------------------------------------------------
# The emulator

def start_emulator(workdir, *options, speed=0):
    """The project's emulator (scripts/emulator_process.py), started in
    `workdir` at `speed` (0: batches finish at once); the caller stops it."""
    return EmulatorProcess(workdir, "--speed", speed, *options, env=clean_environment()).start()


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


def sample_run(workdir, name):
    """A run directory holding a copy of the tracked sample (items and template)."""
    run = os.path.join(workdir, name)
    os.makedirs(run)
    for sample in (SAMPLE_ITEMS, SAMPLE_PROMPT):
        shutil.copy(sample, run)
    return run


def merged_lines(test, run, tag=b',"llm":'):
    """Checks that run's items_classified.jsonl has one line per item, each
    starting with the item's bytes up to its final `}` and then `tag`;
    returns the lines. (E2ETest.assert_merged checks the whole line.)"""
    items = read_lines(os.path.join(run, "items.jsonl"))
    lines = read_lines(os.path.join(run, "items_classified.jsonl"))
    test.assertEqual(len(items), len(lines))
    for item, line in zip(items, lines):
        test.assertTrue(line.startswith(item[:-1] + tag), line[:200])
    return lines


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
            # The real stderr: all.py's workers capture sys.stderr during a test.
            sys.__stderr__.write("\n  [%s: %s]\n" % (self.id(), self.tmp))
        else:
            self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def start_emulator(self, *options, speed=0):
        emulator = start_emulator(self.tmp / "emulator", *options, speed=speed)
        self.addCleanup(emulator.stop)
        return emulator

    def env(self, emulator=None, key="sk-test", **extra):
        """The tools' environment: the emulator's base URL and a key, if given."""
        return tool_env(emulator, key, **extra)

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
# Running the tests

class TimedResult(unittest.TextTestResult):
    """A text result that also records how long each test took."""

    durations = []

    def startTest(self, test):
        self._started = time.monotonic()
        super().startTest(test)

    def stopTest(self, test):
        TimedResult.durations.append((time.monotonic() - self._started, test.id()))
        super().stopTest(test)


def use_tools(bin_dir):
    """Points the tests at the tools in bin_dir; 66 (after a message) when
    some are missing, else None."""
    global BIN
    BIN = Path(bin_dir).resolve()
    missing = [t for t in TOOLS if not os.access(BIN / t, os.X_OK)]
    if missing:
        sys.stderr.write("e2e: not built in %s: %s (run make tools)\n" % (BIN, ", ".join(missing)))
        return 66
    return None


def main(module=None):
    """Runs the tests of `module`, or with none every Tests/e2e/test_*.py,
    against the tools in the directory named by the first argument."""
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        sys.stderr.write("usage: python3 %s BIN_DIR [unittest options]\n" % sys.argv[0])
        return 64
    status = use_tools(sys.argv[1])
    if status:
        return status
    # SIGTERM (a CI timeout, say) still stops the emulators through atexit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    runner = unittest.TextTestRunner(verbosity=2, resultclass=TimedResult)
    if module is None:
        argv = [sys.argv[0], "discover", "-s", str(HERE), "-t", str(HERE), "-p", "test_*.py"]
    else:
        argv = [sys.argv[0]]
    program = unittest.main(module=module, argv=argv + sys.argv[2:], testRunner=runner, exit=False)
    slowest = sorted(TimedResult.durations, reverse=True)[:6]
    sys.stderr.write("e2e: %.1f s in all; slowest: %s\n" % (
        time.monotonic() - started,
        ", ".join("%s %.1f s" % (name.rsplit(".", 1)[-1], t) for t, name in slowest)))
    return 0 if program.result.wasSuccessful() else 1
