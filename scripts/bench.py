#!/usr/bin/env python3
"""Benchmark batchline's local steps against the article's Python steps.

    python3 scripts/bench.py                    # N = 1,000,000, 3 runs each (make bench)
    python3 scripts/bench.py -n 100000 --runs 1 # quick
    python3 scripts/bench.py --skip-baseline    # reuse the article's numbers stored in the data dir
    python3 scripts/bench.py --steps sort,merge --markdown

Runs, on the same generated files and in the same invocation:

  prepare  batch-prepare DIR   against  seed/prepare.py  and  cat items.jsonl
  sort     batch-sort DIR      against  seed/sort.py     and  cat the shuffled out files
  merge    batch-merge DIR     against  seed/merge.py    and  cat items + the sorted out files

The data come from shared/baseline/gen_data.py (generated once, then reused).
The article's steps run in DATA/batch as the baseline README describes;
batchline runs in DATA/batchline, a separate run directory whose read-only
items.jsonl is a hard link to the article's. Before any number is printed,
batchline's output is checked against the article's, line by line, as parsed
JSON; the script stops with the first difference if they disagree.

Each command runs R times under /usr/bin/time -v on a warm page cache, with the
baseline README's untimed rerun setup (and a sync) before each run. Wall time
is taken by this script around /usr/bin/time (the m:ss.cc figure of time(1) is
too coarse for small N); peak RSS is time(1)'s "Maximum resident set size".
Medians are printed. The article's numbers are stored in
DATA/bench-baseline.json; --skip-baseline reuses them.

Python 3 standard library only. Exit status: 0 the table was printed (even
when a target is missed), 1 an error or an output mismatch, 2 usage.
"""
import argparse
import concurrent.futures
import datetime
import fcntl
import hashlib
import json
import locale
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEPS = ("prepare", "sort", "merge")
TARGET_RATIO = {"prepare": 15.0, "sort": 25.0, "merge": 25.0}
TARGET_RSS_MIB = 64.0
CHUNK = 50000  # requests per file, the article's and batchline's split
DEFAULT_N = 1000000
TOOLS = ("batch-prepare", "batch-sort", "batch-merge")
BASELINE_FILE = "bench-baseline.json"
COUNTER_RE = re.compile(
    r"price: (?P<price>[0-9.]+) USD; items: (?P<items>\d+); tokens \(llm in: (?P<tin>\d+), llm out: (?P<tout>\d+)\)")
TIME_BIN = "/usr/bin/time"


class BenchError(Exception):
    """A failure that ends the benchmark with a message (exit 1)."""


def note(message):
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Small file helpers


def size(path):
    return os.path.getsize(path)


def count_lines(path):
    n = 0
    with open(path, "rb") as f:
        while True:
            block = f.read(1 << 22)
            if not block:
                return n
            n += block.count(b"\n")


def read_all(paths):
    """One untimed read of the files, to warm the page cache."""
    buf = bytearray(1 << 23)
    view = memoryview(buf)
    for path in paths:
        with open(path, "rb", buffering=0) as f:
            while f.readinto(view):
                pass


def custom_id_of(line):
    try:
        return json.loads(line).get("custom_id")
    except (ValueError, AttributeError):
        return None


def edge_ids(path):
    """custom_ids of the first two and the last line of a JSONL file."""
    with open(path, "rb") as f:
        first = f.readline()
        second = f.readline()
        end = f.seek(0, os.SEEK_END)
        f.seek(max(0, end - (1 << 16)))
        tail = f.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
    return custom_id_of(first), custom_id_of(second), custom_id_of(tail)


def write_json_atomic(path, value, indent=2):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=indent, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)


def remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def clear_dir(path):
    """Makes `path` an empty directory."""
    if os.path.isdir(path):
        for name in os.listdir(path):
            full = os.path.join(path, name)
            if os.path.isdir(full) and not os.path.islink(full):
                shutil.rmtree(full)
            else:
                os.unlink(full)
    else:
        os.makedirs(path)


def short(value, limit=160):
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) or value == "<missing>" else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def first_diff(a, b, path="$"):
    """The first place where two parsed JSON values differ: (path, a, b), or None."""
    if type(a) is not type(b):
        return path, a, b
    if isinstance(a, dict):
        for key in a:
            if key not in b:
                return f"{path}.{key}", a[key], "<missing>"
        for key in b:
            if key not in a:
                return f"{path}.{key}", "<missing>", b[key]
        for key in a:
            found = first_diff(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, b)):
            found = first_diff(x, y, f"{path}[{i}]")
            if found:
                return found
        if len(a) != len(b):
            return f"{path}.length", len(a), len(b)
        return None
    return None if a == b else (path, a, b)


def describe_diff(where, a, b):
    found = first_diff(a, b) or ("$", a, b)
    path, x, y = found
    return f"{where}: {path}: article {short(x)} != batchline {short(y)}"


# ---------------------------------------------------------------------------
# Output checks (module level, so that a process pool can run them per file)


def user_replacements(request):
    """Applies the article's get_item_info replacements to batchline's user
    messages, in place. Returns how many messages they changed."""
    changed = 0
    body = request.get("body") if isinstance(request, dict) else None
    messages = body.get("messages") if isinstance(body, dict) else None
    if isinstance(messages, list):
        for message in messages:
            if isinstance(message, dict) and message.get("role") == "user" and isinstance(message.get("content"), str):
                content = message["content"]
                replaced = content.replace("\n", " ").replace('"', "'")
                if replaced != content:
                    message["content"] = replaced
                    changed += 1
    return changed


class Mismatch(Exception):
    """Two outputs that do not agree; the message says where and how."""


def paired_lines(article_path, batchline_path, place, kind="file"):
    """Yields (where, article's object, batchline's object, batchline's bytes)
    for each pair of lines of the two files, in order. Raises Mismatch when
    one file has more lines or a line is not JSON."""
    lines = 0
    with open(article_path, "rb") as fa, open(batchline_path, "rb") as fb:
        while True:
            la, lb = fa.readline(), fb.readline()
            if not la and not lb:
                return
            lines += 1
            where = f"{place} line {lines}"
            if not la or not lb:
                raise Mismatch(f"{where}: the {'batchline' if lb else 'article'}'s {kind} has more lines")
            try:
                a = json.loads(la)
            except ValueError as e:
                raise Mismatch(f"{where}: the article's line is not JSON ({e})")
            try:
                b = json.loads(lb)
            except ValueError as e:
                raise Mismatch(f"{where}: batchline's line is not JSON ({e}): {short(lb.decode('utf-8', 'replace'))}")
            yield where, a, b, lb


def check_requests(article_path, batchline_path, name):
    """prepare: batchline's request lines equal the article's as parsed JSON,
    after the article's replacements on batchline's user message."""
    lines = changed = 0
    try:
        for where, a, b, _ in paired_lines(article_path, batchline_path, f"in/{name}"):
            lines += 1
            if a == b:
                continue
            changed += user_replacements(b)
            if a != b:
                if isinstance(a, dict) and isinstance(b, dict):
                    for key in ("custom_id", "method", "url", "body"):
                        if a.get(key, "<missing>") != b.get(key, "<missing>"):
                            return {"error": describe_diff(f"{where} (custom_id {short(a.get('custom_id'))}), {key}",
                                                           a.get(key, "<missing>"), b.get(key, "<missing>"))}
                return {"error": describe_diff(f"{where} (custom_id {short(a.get('custom_id'))})", a, b)}
    except Mismatch as e:
        return {"error": str(e)}
    return {"lines": lines, "changed": changed}


def check_results(article_path, batchline_path, name):
    """sort: the same custom_ids in the same order, and each line the same JSON."""
    lines = 0
    try:
        for where, a, b, _ in paired_lines(article_path, batchline_path, f"out/{name}", "sorted file"):
            lines += 1
            if a == b:
                continue
            ida = a.get("custom_id") if isinstance(a, dict) else None
            idb = b.get("custom_id") if isinstance(b, dict) else None
            if ida != idb:
                return {"error": f"{where}: custom_id {short(idb)} where the article's sorted file has {short(ida)}"}
            return {"error": describe_diff(f"{where} (custom_id {short(ida)})", a, b)}
    except Mismatch as e:
        return {"error": str(e)}
    return {"lines": lines}


def check_merged(article_path, batchline_path, items_path):
    """merge: each line the same object; also whether batchline kept each
    item's bytes (a warning, not a failure)."""
    lines = kept_violations = 0
    first_violation = None
    try:
        with open(items_path, "rb") as fi:
            for where, a, b, lb in paired_lines(article_path, batchline_path, "items_classified.jsonl"):
                lines += 1
                li = fi.readline()
                if a != b:
                    uuid = a.get("uuid") if isinstance(a, dict) else None
                    return {"error": describe_diff(f"{where} (uuid {short(uuid)})", a, b)}
                prefix = li.rstrip(b"\r\n \t")[:-1]
                if not lb.startswith(prefix):
                    kept_violations += 1
                    if first_violation is None:
                        first_violation = lines
    except Mismatch as e:
        return {"error": str(e)}
    return {"lines": lines, "kept_violations": kept_violations, "first_violation": first_violation}


def run_checks(function, jobs):
    """Runs function(*job) for each job, in parallel across the cores."""
    workers = max(1, min(len(jobs), len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))
    if workers == 1:
        return [function(*job) for job in jobs]
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, *zip(*jobs)))


# ---------------------------------------------------------------------------
# Timing


def median(values):
    return statistics.median(values)


class Stats:
    """R runs of one command."""

    def __init__(self, runs, input_bytes, earlier=None):
        self.runs = runs  # [{"wall": s, "rss_kib": k, "time_wall": s}]
        self.input_bytes = input_bytes
        self.earlier = earlier  # when the numbers were measured, if reused

    @property
    def wall(self):
        return median([r["wall"] for r in self.runs])

    @property
    def cpu(self):
        values = [r["cpu"] for r in self.runs if r.get("cpu") is not None]
        return median(values) if len(values) == len(self.runs) else None

    @property
    def rss_mib(self):
        return median([r["rss_kib"] for r in self.runs]) / 1024.0

    @property
    def mb_per_s(self):
        return self.input_bytes / 1e6 / self.wall if self.wall > 0 else float("inf")


def parse_time_output(text):
    rss = wall = None
    cpu = 0.0
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("Maximum resident set size (kbytes):"):
            rss = int(line.rsplit(":", 1)[1])
        elif line.startswith("User time (seconds):") or line.startswith("System time (seconds):"):
            cpu += float(line.rsplit(":", 1)[1])
        elif line.startswith("Elapsed (wall clock) time"):
            value = line.rsplit(": ", 1)[1]
            seconds = 0.0
            for part in value.split(":"):
                seconds = seconds * 60 + float(part)
            wall = seconds
    return rss, wall, cpu


def article_prompt(seed_dir):
    """prompt.json equivalent to the article's utils/prompt.py in `seed_dir`
    (also used by profile_run.py)."""
    sys.path.insert(0, seed_dir)
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no __pycache__ in the seed folder
    try:
        import importlib
        prompt = importlib.import_module("utils.prompt")
    finally:
        sys.path.remove(seed_dir)
        sys.dont_write_bytecode = saved
    system_message = prompt.system_message
    model = prompt.LLM_MODEL["full_name"]
    # Cross-check: the article's own request for a probe item has the shape mirrored here.
    probe = prompt.get_batch_request({"uuid": 7, "name": "N", "category": "C", "description": "D"})
    expected = {"custom_id": "7", "method": "POST", "url": "/v1/chat/completions",
                "body": {"model": model, "messages": [
                    {"role": "system", "content": system_message},
                    {"role": "user", "content": ": name: N; category: C; description: D"}], "max_tokens": 50}}
    if probe != expected:
        raise BenchError(f"the article's utils/prompt.py builds requests of another shape than this script assumes: {probe}")
    return {
        "url": "/v1/chat/completions",
        "custom_id": "{{uuid}}",
        "body": {
            "model": model,
            "messages": [
                {"role": "system", "content": system_message},
                {"role": "user", "content": ": name: {{name}}; category: {{category}}; description: {{description}}"},
            ],
            "max_tokens": 50,
        },
    }


# ---------------------------------------------------------------------------
# The benchmark


class Bench:
    def __init__(self, args):
        self.args = args
        self.n = args.n
        self.runs = args.runs
        self.steps = args.steps
        self.baseline_dir = args.baseline
        self.seed_dir = os.path.join(self.baseline_dir, "seed")
        self.gen = os.path.join(self.baseline_dir, "gen_data.py")
        self.data = args.data
        self.article = os.path.join(self.data, "batch")
        self.pristine = os.path.join(self.data, "pristine")
        self.run_dir = os.path.join(self.data, "batchline")
        self.work = os.path.join(self.data, "bench")
        self.logs = os.path.join(self.work, "logs")
        self.bin = os.path.join(self.work, "bin")
        self.python = sys.executable or "python3"
        self.env_article = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        if locale.getpreferredencoding(False).lower().replace("-", "") != "utf8":
            self.env_article["PYTHONUTF8"] = "1"  # the article's open() relies on a UTF-8 locale
        self.env_batchline = {k: v for k, v in os.environ.items()
                              if k not in ("BATCHLINE_MAX_REQUESTS", "BATCHLINE_MAX_BYTES", "MAX_COST")}
        self.results = {}  # step -> {"batchline": Stats, "article": Stats, "cat": Stats}
        self.notes = {}  # step -> [lines]
        self.counters = {}  # "article"/"batchline" -> Counter line
        self.bl_state = "unknown"  # what batchline's run directory holds: prepared, sorted
        self.baseline_store = None
        self.tool_info = {}

    # -- setup ---------------------------------------------------------------

    def check_environment(self):
        if not os.access(TIME_BIN, os.X_OK):
            raise BenchError(f"{TIME_BIN} is missing (GNU time; apt-get install time)")
        for script in ("prepare.py", "sort.py", "merge.py", "utils/prompt.py"):
            if not os.path.isfile(os.path.join(self.seed_dir, script)):
                raise BenchError(f"the article's steps are not in {self.seed_dir} (missing {script}); use --baseline DIR")
        if not os.path.isfile(self.gen):
            raise BenchError(f"{self.gen} is missing; use --baseline DIR")
        for tool in TOOLS:
            path = os.path.join(self.args.bin, tool)
            if not os.access(path, os.X_OK):
                raise BenchError(f"{path} is missing: build the tools first (swift build -c release), or use --bin DIR")

    def data_problem(self):
        """Why the data directory does not hold complete data for N, or None."""
        try:
            with open(os.path.join(self.data, "expected.json"), encoding="utf-8") as f:
                exp = json.load(f)
        except FileNotFoundError:
            return "no expected.json", None
        except ValueError:
            return "expected.json is damaged", None
        if exp.get("items") != self.n:
            raise BenchError(f"{self.data} holds data for N={exp.get('items')}, not N={self.n}: "
                             f"pass -n {exp.get('items')}, or another --data directory")
        if self.args.seed is not None and exp.get("seed") != self.args.seed:
            raise BenchError(f"{self.data} holds data for --seed {exp.get('seed')}, not {self.args.seed}: "
                             "choose another --data directory")
        style = self.data_style()
        if style is not None and style != self.requested_style():
            raise BenchError(f"{self.data} holds data made with {self.style_flags(style) or 'no style options'}, "
                             f"not {self.style_flags(self.requested_style()) or 'none'}: choose another --data directory")
        if exp.get("failed_requests", 0):
            raise BenchError(f"{self.data} was generated with --failed-per-file, and the article's sort.py stops at "
                             "the first missing request: use data without failed requests")
        items = os.path.join(self.article, "items.jsonl")
        if not os.path.isfile(items) or size(items) != exp["bytes"]["items.jsonl"]:
            return "batch/items.jsonl is missing or has the wrong size", exp
        total = 0
        for name in exp["files"]:
            path = os.path.join(self.pristine, "out", name)
            if not os.path.isfile(path):
                return f"pristine/out/{name} is missing", exp
            total += size(path)
        if total != exp["bytes"]["out_total"]:
            return "the pristine out files have the wrong size", exp
        if not os.path.isfile(os.path.join(self.pristine, "status.json")):
            return "pristine/status.json is missing", exp
        for sub in ("in", "out"):
            os.makedirs(os.path.join(self.article, sub), exist_ok=True)
        return None, exp

    STYLE_FILE = "gen-style.json"

    def requested_style(self):
        return {"compact": bool(self.args.compact), "ensure_ascii": bool(self.args.ensure_ascii)}

    @staticmethod
    def style_flags(style):
        return " ".join(flag for flag, key in (("--compact", "compact"), ("--ensure-ascii", "ensure_ascii"))
                        if style.get(key))

    def data_style(self):
        """The gen_data.py style options the data were made with, when bench.py made them."""
        try:
            with open(os.path.join(self.data, self.STYLE_FILE), encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def ensure_data(self):
        problem, exp = self.data_problem()
        if problem is None:
            note(f"data: reusing {self.data} (N={self.n:,})")
        else:
            if os.path.isdir(self.data) and set(os.listdir(self.data)) - {".bench.lock"} and not (
                    os.path.isdir(self.article) or os.path.isdir(self.pristine)
                    or os.path.isfile(os.path.join(self.data, "expected.json"))):
                raise BenchError(f"{self.data} is not empty and does not look like benchmark data; "
                                 "choose another --data directory")
            note(f"data: generating N={self.n:,} into {self.data} ({problem if os.path.isdir(self.data) else 'new'}); "
                 f"this takes about {max(5, round(self.n / 1e6 * 150))} s")
            os.makedirs(self.data, exist_ok=True)
            remove(os.path.join(self.data, "expected.json"))
            remove(os.path.join(self.data, BASELINE_FILE))
            remove(os.path.join(self.data, self.STYLE_FILE))
            for stale in (self.run_dir, self.work):
                if os.path.isdir(stale):
                    shutil.rmtree(stale)
            remove(os.path.join(self.article, "items_classified.jsonl"))
            t0 = time.perf_counter()
            # Data regenerated in place keep the seed they were made with.
            seed = self.args.seed if self.args.seed is not None else (exp or {}).get("seed")
            options = ["--seed", str(seed)] if seed is not None else []
            style = self.requested_style()
            options += self.style_flags(style).split()
            proc = subprocess.run([self.python, self.gen, "-n", str(self.n), "-o", self.data] + options,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=self.env_article)
            if proc.returncode != 0:
                raise BenchError(f"gen_data.py failed ({proc.returncode}):\n{proc.stderr.decode(errors='replace')}")
            with open(os.path.join(self.data, self.STYLE_FILE), "w", encoding="utf-8") as f:
                json.dump(style, f)
            note(f"data: generated in {time.perf_counter() - t0:.0f} s")
            problem, exp = self.data_problem()
            if problem:
                raise BenchError(f"the generated data are incomplete: {problem}")
        self.exp = exp
        self.files = list(exp["files"])
        self.counts = [min(CHUNK, self.n - i * CHUNK) for i in range(len(self.files))]
        if sum(self.counts) != self.n or len(self.files) != (self.n + CHUNK - 1) // CHUNK:
            raise BenchError("expected.json's file list does not match N")
        self.items = os.path.join(self.article, "items.jsonl")
        self.pristine_out = [os.path.join(self.pristine, "out", f) for f in self.files]
        self.items_bytes = size(self.items)
        self.out_bytes = sum(size(p) for p in self.pristine_out)
        self.fingerprint = {"items": self.n, "seed": exp.get("seed"), "bytes": exp.get("bytes"),
                            "counter_line": exp.get("counter_line")}

    def lock(self):
        os.makedirs(self.data, exist_ok=True)
        self.lock_file = open(os.path.join(self.data, ".bench.lock"), "w")
        try:
            fcntl.flock(self.lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise BenchError(f"another bench.py is running on {self.data}; wait for it or use another --data")

    def prepare_workspace(self):
        for path in (self.work, self.logs, self.bin, self.run_dir):
            os.makedirs(path, exist_ok=True)
        # Private copies of the tools, so that a rebuild during the benchmark
        # cannot change or break what is measured (their RUNPATH is absolute).
        for tool in TOOLS:
            source = os.path.join(self.args.bin, tool)
            target = os.path.join(self.bin, tool)
            shutil.copy2(source, target + ".tmp")
            os.replace(target + ".tmp", target)
            with open(target, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()[:12]
            built = datetime.datetime.fromtimestamp(os.stat(source).st_mtime).strftime("%Y-%m-%d %H:%M")
            self.tool_info[tool] = f"{digest}, built {built}"
        # batchline's run directory: the items as a hard link (read-only
        # input), its own prompt.json, and everything else its own.
        link = os.path.join(self.run_dir, "items.jsonl")
        if not (os.path.exists(link) and os.path.samefile(link, self.items)):
            remove(link)
            try:
                os.link(self.items, link)
            except OSError:
                shutil.copyfile(self.items, link)
        if size(link) != self.items_bytes:
            raise BenchError(f"{link} does not match {self.items}")
        write_json_atomic(os.path.join(self.run_dir, "prompt.json"), self.prompt_template())

    def prompt_template(self):
        """prompt.json equivalent to the article's utils/prompt.py."""
        return article_prompt(self.seed_dir)

    # -- running commands ----------------------------------------------------

    def timed(self, label, cmd, cwd=None, env=None, stdout_path=None):
        """Runs cmd under /usr/bin/time -v; returns {"wall", "rss_kib", "time_wall"}."""
        time_out = os.path.join(self.work, "time.txt")
        out_path = stdout_path or os.path.join(self.logs, f"{label}.out")
        err_path = os.path.join(self.logs, f"{label}.err")
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            t0 = time.perf_counter()
            rc = subprocess.call([TIME_BIN, "-v", "-o", time_out] + cmd, cwd=cwd, env=env, stdout=out, stderr=err)
            wall = time.perf_counter() - t0
        with open(err_path, "rb") as f:
            err_text = f.read().decode("utf-8", "replace")
        if rc != 0:
            tail = "\n".join(err_text.strip().splitlines()[-15:])
            raise BenchError(f"{label}: `{shlex.join(cmd)}` exited with status {rc}\n{tail}")
        with open(time_out, encoding="utf-8", errors="replace") as f:
            rss, time_wall, cpu = parse_time_output(f.read())
        if rss is None:
            raise BenchError(f"{label}: no 'Maximum resident set size' in /usr/bin/time's output")
        return {"wall": wall, "rss_kib": rss, "time_wall": time_wall, "cpu": cpu}

    def untimed(self, label, cmd, cwd=None, env=None):
        proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.decode("utf-8", "replace").strip().splitlines()[-15:])
            raise BenchError(f"{label} (untimed setup): `{shlex.join(cmd)}` exited with status {proc.returncode}\n{tail}")
        return proc.stdout.decode("utf-8", "replace")

    def repeat(self, step, who, setup, cmd, cwd=None, env=None, after=None, check=None, stdout_path=None):
        runs = []
        for i in range(self.runs):
            setup()
            os.sync()
            label = f"{step}-{who}-{i + 1}"
            run = self.timed(label, cmd, cwd=cwd, env=env, stdout_path=stdout_path)
            if after:
                after(label)
            note(f"  [{step}] {who:9} run {i + 1}/{self.runs}: {run['wall']:8.3f} s wall  {run['cpu']:8.3f} s CPU  "
                 f"{run['rss_kib'] / 1024:7.1f} MiB")
            if check and i == 0:
                t0 = time.perf_counter()
                check()  # the first run's output, before the other runs count
                note(f"  [{step}] outputs agree (checked in {time.perf_counter() - t0:.1f} s)")
            runs.append(run)
        return runs

    def bl(self, tool):
        return [os.path.join(self.bin, tool), self.run_dir]

    def article_cmd(self, script):
        return [self.python, os.path.join(self.seed_dir, script)]

    # -- the article's side --------------------------------------------------

    def restore_article_status(self):
        shutil.copyfile(os.path.join(self.pristine, "status.json"), os.path.join(self.article, "status.json"))

    def restore_article_out(self):
        for name, src in zip(self.files, self.pristine_out):
            shutil.copyfile(src, os.path.join(self.article, "out", name))
        self.restore_article_status()

    def setup_article_prepare(self):
        in_dir = os.path.join(self.article, "in")
        os.makedirs(in_dir, exist_ok=True)
        for name in os.listdir(in_dir):
            if name.endswith(".jsonl"):
                os.unlink(os.path.join(in_dir, name))

    def article_prepared(self):
        for name, count in zip(self.files, self.counts):
            path = os.path.join(self.article, "in", name)
            if not os.path.isfile(path) or count_lines(path) != count:
                return False
        return True

    def article_sorted(self):
        start = 1
        for name, count in zip(self.files, self.counts):
            path = os.path.join(self.article, "out", name)
            if not os.path.isfile(path) or count_lines(path) != count:
                return False
            want = (str(start), str(start + 1) if count > 1 else None, str(start + count - 1))
            got = edge_ids(path)
            if count == 1:
                got = (got[0], None, got[2])
            if got != want:
                return False
            start += count
        return True

    def ensure_article_prepared(self):
        if not self.article_prepared():
            note("  [prepare] the article's request files are needed for the comparison: running prepare.py (untimed)")
            self.setup_article_prepare()
            self.untimed("article prepare.py", self.article_cmd("prepare.py"), cwd=self.data, env=self.env_article)
            self.restore_article_status()

    def ensure_article_sorted(self):
        if not self.article_sorted():
            note("  the article's sorted out files are needed: running sort.py (untimed)")
            self.restore_article_out()
            self.untimed("article sort.py", self.article_cmd("sort.py"), cwd=self.data, env=self.env_article)
            if not self.article_sorted():
                raise BenchError("the article's sort.py did not leave sorted files")
        self.restore_article_status()

    def article_counter_from(self, text, label):
        lines = [l for l in text.splitlines() if COUNTER_RE.search(l)]
        if not lines:
            raise BenchError(f"{label}: the article's merge.py printed no Counter line")
        line = lines[-1].strip()
        if line != self.exp.get("counter_line"):
            raise BenchError(f"the article's merge.py printed\n  {line}\nbut gen_data.py expects\n  {self.exp.get('counter_line')}")
        return line

    def ensure_article_merged(self):
        merged = os.path.join(self.article, "items_classified.jsonl")
        known = self.counters.get("article") or (self.baseline_store or {}).get("article_counter_line")
        if known and os.path.isfile(merged) and count_lines(merged) == self.n:
            self.counters["article"] = known
            return
        self.ensure_article_sorted()
        note("  [merge] the article's merged file is needed for the comparison: running merge.py (untimed)")
        remove(merged)
        out = self.untimed("article merge.py", self.article_cmd("merge.py"), cwd=self.data, env=self.env_article)
        self.counters["article"] = self.article_counter_from(out, "merge.py")
        self.store_counter()

    # -- batchline's side ----------------------------------------------------

    def setup_bl_prepare(self):
        for sub in ("in", "out"):
            clear_dir(os.path.join(self.run_dir, sub))
        for name in ("status.json", "items_classified.jsonl"):
            remove(os.path.join(self.run_dir, name))
        self.bl_state = "unknown"

    def after_bl_prepare(self, label):
        status = self.load_bl_status()
        names = [f["input_filename"]["local"] for f in status.get("files", [])]
        if names != self.files:
            raise BenchError(f"batch-prepare wrote {names} where the article wrote {self.files}")
        counts = [f["input_filename"].get("requests") for f in status["files"]]
        if counts != self.counts:
            raise BenchError(f"batch-prepare's files hold {counts} requests; the article's {self.counts}")
        self.bl_state = "prepared"

    def load_bl_status(self):
        path = os.path.join(self.run_dir, "status.json")
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError) as e:
            raise BenchError(f"cannot read batchline's {path}: {e}")

    def make_sort_status(self):
        """status.json as batchline's download step would leave it, from the
        status.json prepare wrote."""
        status = self.load_bl_status()
        for i, entry in enumerate(status["files"], 1):
            requests = entry["input_filename"]["requests"]
            entry["batch_id"] = f"batch_bench{i:03d}"
            entry["status"] = "completed"
            entry["request_counts"] = {"total": requests, "completed": requests, "failed": 0}
            entry["output_filenames"] = {
                "ok": {"remote": f"file-bench{i:03d}", "local": entry["input_filename"]["local"]},
                "failed": {"remote": None},
            }
            entry.pop("sorted", None)
        self.sort_status = status

    def setup_bl_sort(self):
        out_dir = os.path.join(self.run_dir, "out")
        clear_dir(out_dir)
        for name, src in zip(self.files, self.pristine_out):
            shutil.copyfile(src, os.path.join(out_dir, name))
        write_json_atomic(os.path.join(self.run_dir, "status.json"), self.sort_status)
        remove(os.path.join(self.run_dir, "items_classified.jsonl"))
        self.bl_state = "unknown"

    def after_bl_sort(self, label):
        status = self.load_bl_status()
        if not all(f.get("sorted") is True for f in status["files"]):
            raise BenchError("batch-sort exited 0 but status.json does not mark every file sorted")
        self.bl_state = "sorted"

    def setup_bl_merge(self):
        remove(os.path.join(self.run_dir, "items_classified.jsonl"))

    def ensure_bl_prepared(self):
        if self.bl_state not in ("prepared", "sorted"):
            note("  batchline's request files are needed: running batch-prepare (untimed)")
            self.setup_bl_prepare()
            self.untimed("batch-prepare", self.bl("batch-prepare"), env=self.env_batchline)
            self.after_bl_prepare("setup")

    def ensure_bl_sorted(self):
        if self.bl_state != "sorted":
            self.ensure_bl_prepared()
            note("  batchline's sorted results are needed: running batch-sort (untimed)")
            self.make_sort_status()
            self.setup_bl_sort()
            self.untimed("batch-sort", self.bl("batch-sort"), env=self.env_batchline)
            self.after_bl_sort("setup")

    # -- checks --------------------------------------------------------------

    def verify_prepare(self):
        self.ensure_article_prepared()
        note("  [prepare] comparing batchline's request files with the article's …")
        jobs = [(os.path.join(self.article, "in", f), os.path.join(self.run_dir, "in", f), f) for f in self.files]
        extra = sorted(set(os.listdir(os.path.join(self.run_dir, "in"))) - set(self.files))
        if extra:
            raise BenchError(f"prepare: batchline wrote request files the article did not: {extra}")
        results = run_checks(check_requests, jobs)
        for r in results:
            if "error" in r:
                raise BenchError(f"OUTPUT MISMATCH, prepare: {r['error']}")
        lines = sum(r["lines"] for r in results)
        changed = sum(r["changed"] for r in results)
        self.notes.setdefault("prepare", []).append(
            f"prepare: all {lines:,} request lines equal the article's as parsed JSON (custom_id, method, url, body), "
            f"after applying the article's two replacements (newline -> space, \" -> ') to batchline's user message; "
            f"they changed {changed:,} user messages ({100.0 * changed / max(1, lines):.1f}%)")

    def verify_sort(self):
        self.ensure_article_sorted()
        note("  [sort] comparing batchline's sorted out files with the article's …")
        jobs = [(os.path.join(self.article, "out", f), os.path.join(self.run_dir, "out", f), f) for f in self.files]
        results = run_checks(check_results, jobs)
        for r in results:
            if "error" in r:
                raise BenchError(f"OUTPUT MISMATCH, sort: {r['error']}")
        lines = sum(r["lines"] for r in results)
        if lines != self.n:
            raise BenchError(f"sort: {lines} result lines, expected {self.n}")
        self.notes.setdefault("sort", []).append(
            f"sort: all {lines:,} lines of the {len(self.files)} sorted files have the article's custom_id sequence "
            f"and parse to the same JSON (the article re-serialises with ensure_ascii; batchline keeps the bytes)")

    def verify_merge(self, bl_stdout):
        self.ensure_article_merged()
        note("  [merge] comparing batchline's items_classified.jsonl with the article's …")
        r = check_merged(os.path.join(self.article, "items_classified.jsonl"),
                         os.path.join(self.run_dir, "items_classified.jsonl"), self.items)
        if "error" in r:
            raise BenchError(f"OUTPUT MISMATCH, merge: {r['error']}")
        if r["lines"] != self.n:
            raise BenchError(f"merge: {r['lines']} lines, expected {self.n}")
        lines = [l.strip() for l in bl_stdout.splitlines() if COUNTER_RE.search(l)]
        if not lines:
            raise BenchError("merge: batch-merge printed no Counter line")
        ours, theirs = COUNTER_RE.search(lines[-1]), COUNTER_RE.search(self.counters["article"])
        for key, what in (("items", "items"), ("tin", "input tokens"), ("tout", "output tokens")):
            if ours.group(key) != theirs.group(key):
                raise BenchError(f"OUTPUT MISMATCH, merge: Counter {what}: batchline {ours.group(key)}, "
                                 f"article {theirs.group(key)}\n  batchline: {lines[-1]}\n  article:   {self.counters['article']}")
        self.counters["batchline"] = lines[-1]
        text = (f"merge: all {r['lines']:,} lines of items_classified.jsonl parse to the article's objects; "
                f"the Counter lines agree on items and tokens (prices may differ):\n"
                f"    article:   {self.counters['article']}\n"
                f"    batchline: {lines[-1]}")
        if r["kept_violations"]:
            text += (f"\n  WARNING: on {r['kept_violations']:,} lines (first: line {r['first_violation']}) batchline's line "
                     "does not start with the item's own bytes")
        self.notes.setdefault("merge", []).append(text)

    # -- the baseline store --------------------------------------------------

    def load_baseline_store(self):
        path = os.path.join(self.data, BASELINE_FILE)
        try:
            with open(path, encoding="utf-8") as f:
                store = json.load(f)
        except (OSError, ValueError):
            store = None
        if not store or store.get("data") != self.fingerprint:
            store = {"format": 1, "data": self.fingerprint, "steps": {}}
        self.baseline_store = store

    def save_baseline_store(self):
        write_json_atomic(os.path.join(self.data, BASELINE_FILE), self.baseline_store)

    def store_counter(self):
        if self.counters.get("article"):
            self.baseline_store["article_counter_line"] = self.counters["article"]
            self.save_baseline_store()

    def store_step(self, step, runs, input_bytes):
        self.baseline_store["steps"][step] = {
            "measured_at": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": self.machine_line(), "python": platform.python_version(),
            "input_bytes": input_bytes, "runs": runs,
        }
        self.save_baseline_store()

    # -- the steps -----------------------------------------------------------

    def article_stats(self, step, input_bytes, measure):
        stored = self.baseline_store["steps"].get(step)
        if self.args.skip_baseline and stored and stored.get("runs"):
            note(f"  [{step}] article: reusing the {len(stored['runs'])} run(s) measured {stored['measured_at']}")
            return Stats(stored["runs"], input_bytes, earlier=stored["measured_at"])
        if self.args.skip_baseline:
            note(f"  [{step}] article: no stored numbers for these data; measuring them now")
        runs = measure()
        self.store_step(step, runs, input_bytes)
        return Stats(runs, input_bytes)

    def floor(self, step, files, input_bytes):
        runs = self.repeat(step, "cat", lambda: None, ["cat"] + files, stdout_path=os.devnull)
        return Stats(runs, input_bytes)

    def step_prepare(self):
        step = "prepare"
        inputs = [self.items]
        read_all(inputs)
        self.untimed("warm-up", [os.path.join(self.bin, "batch-prepare"), "--help"])

        def measure():
            runs = self.repeat(step, "article", self.setup_article_prepare, self.article_cmd("prepare.py"),
                               cwd=self.data, env=self.env_article, after=lambda _: self.restore_article_status())
            return runs

        article = self.article_stats(step, self.items_bytes, measure)
        ours = self.repeat(step, "batchline", self.setup_bl_prepare, self.bl("batch-prepare"), env=self.env_batchline,
                           after=self.after_bl_prepare, check=self.verify_prepare)
        cat = self.floor(step, inputs, self.items_bytes)
        self.results[step] = {"batchline": Stats(ours, self.items_bytes), "article": article, "cat": cat}

    def step_sort(self):
        step = "sort"
        self.ensure_bl_prepared()
        self.make_sort_status()
        read_all(self.pristine_out + [os.path.join(self.run_dir, "in", f) for f in self.files])
        self.untimed("warm-up", [os.path.join(self.bin, "batch-sort"), "--help"])

        def measure():
            return self.repeat(step, "article", self.restore_article_out, self.article_cmd("sort.py"),
                               cwd=self.data, env=self.env_article)

        article = self.article_stats(step, self.out_bytes, measure)
        ours = self.repeat(step, "batchline", self.setup_bl_sort, self.bl("batch-sort"), env=self.env_batchline,
                           after=self.after_bl_sort, check=self.verify_sort)
        cat = self.floor(step, self.pristine_out, self.out_bytes)
        self.results[step] = {"batchline": Stats(ours, self.out_bytes), "article": article, "cat": cat}

    def step_merge(self):
        step = "merge"
        input_bytes = self.items_bytes + self.out_bytes
        self.ensure_bl_sorted()
        bl_out = [os.path.join(self.run_dir, "out", f) for f in self.files]
        read_all([self.items] + bl_out + [os.path.join(self.run_dir, "in", f) for f in self.files])
        self.untimed("warm-up", [os.path.join(self.bin, "batch-merge"), "--help"])

        def measure():
            self.ensure_article_sorted()
            read_all([os.path.join(self.article, "out", f) for f in self.files])
            article_merged = os.path.join(self.article, "items_classified.jsonl")
            runs = self.repeat(step, "article", lambda: remove(article_merged), self.article_cmd("merge.py"),
                               cwd=self.data, env=self.env_article,
                               after=lambda label: self.article_counter_seen(label))
            return runs

        article = self.article_stats(step, input_bytes, measure)
        bl_stdout = os.path.join(self.work, "merge-batchline.out")

        def check():
            with open(bl_stdout, encoding="utf-8", errors="replace") as f:
                self.verify_merge(f.read())

        ours = self.repeat(step, "batchline", self.setup_bl_merge, self.bl("batch-merge"), env=self.env_batchline,
                           check=check, stdout_path=bl_stdout)
        cat = self.floor(step, [self.items] + bl_out, input_bytes)
        self.results[step] = {"batchline": Stats(ours, input_bytes), "article": article, "cat": cat}

    def article_counter_seen(self, label):
        with open(os.path.join(self.logs, f"{label}.out"), encoding="utf-8", errors="replace") as f:
            self.counters["article"] = self.article_counter_from(f.read(), label)
        self.store_counter()

    # -- report --------------------------------------------------------------

    def machine_line(self):
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        info = {}
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
                for line in f:
                    if not line.strip():
                        break  # the first processor is enough
                    key, _, value = line.partition(":")
                    info[key.strip()] = " ".join(value.split())
        except OSError:
            pass
        model = info.get("model name", "?")
        extra = [f"family {info['cpu family']} model {info.get('model', '?')}"] if "cpu family" in info else []
        if "cpu MHz" in info:
            extra.append(f"{float(info['cpu MHz']):.0f} MHz")
        if extra:
            model += f" ({', '.join(extra)})"
        mem = "?"
        try:
            with open("/proc/meminfo", encoding="utf-8") as f:
                for line in f:
                    if line.startswith("MemTotal:"):
                        mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                        break
        except OSError:
            pass
        return f"nproc {cores}; CPU {model}; memory {mem}; Linux {platform.release()}"

    def commit(self):
        try:
            head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
            dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True)
            if head.returncode != 0:
                return "?"
            return head.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")
        except OSError:
            return "?"

    def report(self):
        md = self.args.markdown
        now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
        header = [
            f"batchline vs the article's Python steps, N = {self.n:,} items, {self.runs} run(s) each, medians",
            f"date: {now}",
            f"machine: {self.machine_line()}",
            f"python: {platform.python_version()} ({self.python}); batchline: {self.commit()}, "
            f"tools from {self.args.bin} ({'; '.join(f'{t} {i}' for t, i in self.tool_info.items())})",
            f"data: {self.data}",
            f"load average: {self.load_start} at the start, {load_average()} at the end",
        ]
        columns = ["step", "tool", "input MB", "wall s", "MB/s", "CPU s", "peak RSS MiB", "article ÷ this"]
        rows = []
        for step in STEPS:
            if step not in self.results:
                continue
            res = self.results[step]
            article_wall = res["article"].wall
            for who, name in (("batchline", "batchline"), ("article", "article"), ("cat", "floor `cat`" if md else "floor cat")):
                s = res[who]
                tool = name
                if who == "article" and s.earlier:
                    tool += " (earlier)"
                rows.append([step, tool, f"{s.input_bytes / 1e6:,.1f}", f"{s.wall:.3f}", f"{s.mb_per_s:,.1f}",
                             "?" if s.cpu is None else f"{s.cpu:.2f}", f"{s.rss_mib:.1f}", f"{article_wall / s.wall:,.1f}×" if s.wall > 0 else "∞"])
        lines = []
        if md:
            lines += [f"- {h}" for h in header] + [""]
            lines.append("| " + " | ".join(columns) + " |")
            lines.append("|" + "|".join(["---", "---"] + ["---:"] * (len(columns) - 2)) + "|")
            for row in rows:
                cells = [f"**{c}**" if row[1] == "batchline" and i == 1 else c for i, c in enumerate(row)]
                lines.append("| " + " | ".join(cells) + " |")
        else:
            lines += header + [""]
            widths = [max(len(columns[i]), *(len(r[i]) for r in rows)) for i in range(len(columns))]
            fmt = lambda cells: "  ".join(c.ljust(widths[i]) if i < 2 else c.rjust(widths[i]) for i, c in enumerate(cells))
            lines.append(fmt(columns))
            lines.append("  ".join("-" * w for w in widths))
            previous = None
            for row in rows:
                if previous is not None and row[0] != previous:
                    lines.append("")
                lines.append(fmt(row))
                previous = row[0]
        lines.append("")
        lines.append("Targets (batchline):" if not md else "Targets (batchline):\n")
        misses = 0
        for step in STEPS:
            if step not in self.results:
                continue
            res = self.results[step]
            ratio = res["article"].wall / res["batchline"].wall if res["batchline"].wall > 0 else float("inf")
            rss = res["batchline"].rss_mib
            ok_ratio = ratio >= TARGET_RATIO[step]
            ok_rss = rss <= TARGET_RSS_MIB
            misses += (not ok_ratio) + (not ok_rss)
            text = (f"{step:8} {ratio:7.1f}× faster than the article (target ≥ {TARGET_RATIO[step]:.0f}×) "
                    f"{'PASS' if ok_ratio else 'FAIL'};  peak RSS {rss:6.1f} MiB (target ≤ {TARGET_RSS_MIB:.0f} MiB) "
                    f"{'PASS' if ok_rss else 'FAIL'}")
            lines.append(f"- {text}" if md else f"  {text}")
        lines.append(("" if not md else "\n") + ("All targets met." if misses == 0 else f"{misses} target(s) missed."))
        lines.append("")
        lines.append("Notes:" if not md else "Notes:\n")
        bullet = "- " if md else "  - "
        for step in STEPS:
            for text in self.notes.get(step, []):
                lines.append(bullet + (text.replace("\n    ", "\n  - ") if md else text))
        earlier = sorted({s["article"].earlier for s in self.results.values() if s["article"].earlier})
        if earlier:
            lines.append(bullet + f"the article's numbers were measured earlier on these data ({', '.join(earlier)}; "
                         f"{BASELINE_FILE}), not in this invocation (--skip-baseline)")
        lines.append(bullet + "input MB (10^6 bytes) is what the article's step reads: items.jsonl (prepare), the shuffled "
                     "out files (sort), items.jsonl + the out files (merge); MB/s = input MB / median wall")
        if {"sort", "merge"} & set(self.results):
            in_mb = sum(size(os.path.join(self.run_dir, "in", f)) for f in self.files) / 1e6
            lines.append(bullet + f"batchline's sort and merge also read its request files in/ ({in_mb:,.1f} MB) "
                         "for the input order; not counted in input MB")
        lines.append(bullet + "wall: median of the runs, taken around /usr/bin/time -v; peak RSS: median of time(1)'s "
                     "\"Maximum resident set size\"; warm page cache; untimed rerun setup and sync before each run")
        print("\n".join(lines), flush=True)

    # -- main ----------------------------------------------------------------

    def run(self):
        self.check_environment()
        self.lock()
        self.ensure_data()
        self.load_baseline_store()
        self.prepare_workspace()
        note(f"machine: {self.machine_line()}")
        self.load_start = load_average()
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        if os.getloadavg()[0] > 0.5 * cores:
            note(f"warning: the machine is busy (load average {self.load_start} on {cores} cores); "
                 "the timings will be noisy")
        for step in STEPS:
            if step in self.steps:
                note(f"[{step}]")
                getattr(self, f"step_{step}")()
        self.report()


def load_average():
    try:
        return "/".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def parse_count(text):
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse_steps(text):
    steps = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in steps if s not in STEPS]
    if unknown or not steps:
        raise argparse.ArgumentTypeError(f"unknown step(s) {unknown}; choose from {','.join(STEPS)}")
    return [s for s in STEPS if s in steps]


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="bench.py", description=__doc__.split("\n\n")[0] + " Prints a table of medians and ratios.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Data: shared/baseline/gen_data.py, generated into --data unless it already holds complete data for N.")
    ap.add_argument("-n", type=parse_count, default=None,
                    help=f"number of items (default {DEFAULT_N:,}, or the N of the data given with --data)")
    ap.add_argument("--data", help="data directory (default: $TMPDIR/bench-data/N<n>)")
    ap.add_argument("--runs", type=parse_count, default=3, help="runs per command; medians are printed (default 3)")
    ap.add_argument("--bin", default=os.path.join(REPO, ".build", "release"),
                    help="directory of batch-prepare, batch-sort, batch-merge (default .build/release)")
    ap.add_argument("--steps", type=parse_steps, default=list(STEPS), help="steps to run (default prepare,sort,merge)")
    ap.add_argument("--skip-baseline", action="store_true",
                    help=f"reuse the article's numbers measured earlier on the same data ({BASELINE_FILE} in --data)")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ap.add_argument("--seed", type=int, help="gen_data.py's --seed for new data (a --data directory "
                    "with another seed is refused)")
    ap.add_argument("--compact", action="store_true", help="gen_data.py's --compact for new data")
    ap.add_argument("--ensure-ascii", action="store_true", help="gen_data.py's --ensure-ascii for new data")
    ap.add_argument("--baseline", default=os.environ.get("BATCHLINE_BASELINE",
                                                         os.path.join(os.path.dirname(REPO), "shared", "baseline")),
                    help="the baseline folder with gen_data.py and seed/ (default ../shared/baseline)")
    args = ap.parse_args(argv)

    args.bin = os.path.abspath(args.bin)
    args.baseline = os.path.abspath(args.baseline)
    if args.data:
        args.data = os.path.abspath(args.data)
        if args.n is None:
            try:
                with open(os.path.join(args.data, "expected.json"), encoding="utf-8") as f:
                    args.n = int(json.load(f)["items"])
            except (OSError, ValueError, KeyError, TypeError):
                args.n = DEFAULT_N
    else:
        args.n = args.n or DEFAULT_N
        args.data = os.path.join(tempfile.gettempdir(), "bench-data", f"N{args.n}")

    try:
        Bench(args).run()
    except BenchError as e:
        print(f"bench.py: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench.py: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
