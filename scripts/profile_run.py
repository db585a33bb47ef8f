#!/usr/bin/env python3
"""Profile of a whole `make merged` run against the emulator: batchline or the emulator?

Python 3 standard library only. It copies N items (default 1,000,000, the
first N lines of the data of ../shared/baseline/gen_data.py, by default
/tmp/bench-data/N1000000/batch/items.jsonl) into a scratch run directory
with the article's prompt (the one scripts/bench.py derives from the
article's utils/prompt.py: 945 MB of requests for 1M items), starts
scripts/emulator.py on 127.0.0.1 with --speed 0, and runs the project's
Makefile:

    make -C ROOT merged BATCH=SCRATCH/batch BIN=SCRATCH/bin SWIFT=true

where SCRATCH/bin holds one small shim per tool that runs the real tool
(from --bin, default .build-xfer/release) under /usr/bin/time -v and
records, for that step: wall time, the tool's CPU time (user+sys) and peak
RSS, and the emulator's CPU time over the same interval (utime+stime of its
process from /proc/PID/stat, read before and after). The emulator's request
log is split by step too (how many uploads, polls, downloads).

For batch-upload and batch-download the shim also samples the tool's open
files every 10 ms (/proc/PID/fd and fdinfo), which tells, per request file,
when it was being copied (and hashed) into a multipart body,
transferred, fsynced or line-counted. Turn this off with --no-sample.

Usage:
    python3 scripts/profile_run.py [-n 1000000] [--items PATH] [--bin DIR]
        [--work DIR] [--keep] [--json OUT.json] [--no-sample]

Build the tools first: swift build -c release --scratch-path .build-xfer
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from emulator_process import EmulatorProcess
from bench import BenchError, article_prompt
from measure import machine, parse_time_v, proc_cpu

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SELF = os.path.abspath(__file__)
TIME_BIN = "/usr/bin/time"
KEY = "sk-test"
MB = 1_000_000
TOOLS = ["batch-prepare", "batch-upload", "batch-create", "batch-wait", "batch-download",
         "batch-sort", "batch-merge", "batch-cleanup"]
DEFAULT_ITEMS = "/tmp/bench-data/N1000000/batch/items.jsonl"

def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# The shim: runs one tool, records one step

class FdSampler:
    """Samples a process's open files; attributes time to per-file phases."""

    def __init__(self, pid, tool, interval=0.01):
        self.pid, self.tool, self.interval = pid, tool, interval
        self.tmp = os.path.realpath(tempfile.gettempdir())
        self.union = {}       # phase -> seconds during which at least one file was in it
        self.file_secs = {}   # phase -> seconds summed over files
        self.per_file = {}    # file -> phase -> seconds
        self.samples = 0
        self.cost = 0.0

    def classify(self, seen):
        """{file stem: phase} for one sample of open paths and their flags."""
        phases = {}
        for path, flags in seen.items():
            base = os.path.basename(path)
            if self.tool == "batch-upload":
                if os.path.basename(os.path.dirname(path)) == "in" and base.endswith(".jsonl"):
                    phases[base[:-6]] = "file read: hashed, then sent"
            elif self.tool == "batch-download":
                if base.endswith(".jsonl.part"):
                    phases[base[:-11]] = "HTTP transfer into the .part, and its fsync"
                elif os.path.basename(os.path.dirname(path)) == "out" and base.endswith(".jsonl"):
                    phases[base[:-6]] = "line count"
                elif os.path.basename(os.path.dirname(path)) == ".incoming" and flags & 3:
                    phases["incoming:" + base] = "HTTP transfer to out/.incoming"
                elif os.path.dirname(path) == self.tmp and flags & 3:
                    phases["tmp:" + base] = "HTTP transfer to $TMPDIR"
        return phases

    def run(self, stop):
        fd_dir = f"/proc/{self.pid}/fd"
        last = time.perf_counter()
        prev = {}
        while not stop():
            c0 = time.process_time()
            seen = {}
            try:
                for fd in os.listdir(fd_dir):
                    try:
                        target = os.readlink(f"{fd_dir}/{fd}")
                        if not target.startswith("/"):
                            continue
                        with open(f"/proc/{self.pid}/fdinfo/{fd}") as f:
                            for line in f:
                                if line.startswith("flags:"):
                                    seen[target] = int(line.split()[1], 8)
                                    break
                    except (OSError, ValueError, IndexError):
                        pass
            except OSError:
                pass
            now = time.perf_counter()
            dt = now - last
            last = now
            for phase in set(prev.values()):
                self.union[phase] = self.union.get(phase, 0.0) + dt
            for stem, phase in prev.items():
                self.file_secs[phase] = self.file_secs.get(phase, 0.0) + dt
                if not stem.startswith("tmp:"):
                    per = self.per_file.setdefault(stem, {})
                    per[phase] = per.get(phase, 0.0) + dt
            prev = self.classify(seen)
            self.samples += 1
            self.cost += time.process_time() - c0
            time.sleep(self.interval)

    def result(self):
        return {"union_s": self.union, "file_s": self.file_secs, "per_file_s": self.per_file,
                "samples": self.samples, "sampler_cpu_s": self.cost}


def child_pid(pid, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                kids = f.read().split()
            if kids:
                return int(kids[0])
        except OSError:
            return None
        time.sleep(0.001)
    return None


def shim(tool, argv):
    import threading
    real = os.path.join(os.environ["PROFILE_REAL_BIN"], tool)
    record = os.environ["PROFILE_LOG"]
    emu = int(os.environ["PROFILE_EMU_PID"])
    sample = os.environ.get("PROFILE_SAMPLE") == "1" and tool in ("batch-upload", "batch-download")
    tfile = f"{record}.{tool}.{os.getpid()}.time"
    load0 = os.getloadavg()
    e0 = proc_cpu(emu)
    start = time.time()
    t0 = time.perf_counter()
    proc = subprocess.Popen([TIME_BIN, "-v", "-o", tfile, real] + argv)
    result = None
    if sample:
        pid = child_pid(proc.pid)
        if pid:
            sampler = FdSampler(pid, tool)
            th = threading.Thread(target=sampler.run, args=(lambda: proc.poll() is not None,), daemon=True)
            th.start()
    try:
        rc = proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        rc = proc.wait()
    wall = time.perf_counter() - t0
    e1 = proc_cpu(emu)
    if sample and pid:
        th.join(2)
        result = sampler.result()
    entry = {"tool": tool, "args": argv, "start": start, "end": start + wall, "wall": wall, "exit": rc,
             "emu_cpu": (e1 - e0) if e0 is not None and e1 is not None else None,
             "load_start": load0, "load_end": os.getloadavg()}
    times = parse_time_v(tfile)
    times.pop("exit", None)  # the shim's own status is the one recorded
    entry.update(times)
    entry["cpu"] = entry.get("user", 0.0) + entry.get("sys", 0.0)
    if result:
        entry["phases"] = result
    try:
        os.unlink(tfile)
    except OSError:
        pass
    with open(record, "a") as f:
        f.write(json.dumps(entry) + "\n")
    sys.exit(rc if rc >= 0 else 128 - rc)


# --------------------------------------------------------------------------
# The profile

class Profile:
    def __init__(self, args):
        self.args = args
        self.bin = os.path.abspath(args.bin)
        for tool in TOOLS:
            if not os.access(os.path.join(self.bin, tool), os.X_OK):
                sys.exit(f"profile_run: {self.bin}/{tool} not found; "
                         "run: swift build -c release --scratch-path .build-xfer")
        if not os.access(TIME_BIN, os.X_OK):
            sys.exit("profile_run: /usr/bin/time is needed")
        self.work = os.path.abspath(args.work) if args.work else tempfile.mkdtemp(prefix="profile-run-")
        os.makedirs(self.work, exist_ok=True)
        self.run_dir = os.path.join(self.work, "batch")
        self.shims = os.path.join(self.work, "bin")
        self.record = os.path.join(self.work, "steps.jsonl")
        self.emu_log = None
        self.emu = None

    def setup(self):
        a = self.args
        if os.path.exists(self.run_dir):
            shutil.rmtree(self.run_dir)
        os.makedirs(self.run_dir)
        items = os.path.join(self.run_dir, "items.jsonl")
        t = time.perf_counter()
        n = 0
        with open(a.items, "rb") as src, open(items, "wb") as dst:
            for line in src:
                if n == a.n:
                    break
                dst.write(line)
                n += 1
        if n < a.n:
            sys.exit(f"profile_run: {a.items} has only {n} items, not {a.n}")
        self.items_bytes = os.path.getsize(items)
        log(f"copied {n:,} items ({self.items_bytes / MB:.0f} MB) in {time.perf_counter() - t:.1f} s")
        if a.prompt:
            shutil.copyfile(a.prompt, os.path.join(self.run_dir, "prompt.json"))
        else:
            try:
                prompt = article_prompt(os.path.join(a.baseline, "seed"))
            except (BenchError, ImportError) as e:
                sys.exit(f"profile_run: the article's prompt from {a.baseline}/seed: {e}; use --baseline DIR or --prompt")
            with open(os.path.join(self.run_dir, "prompt.json"), "w") as f:
                json.dump(prompt, f, indent=2)
        if os.path.exists(self.shims):
            shutil.rmtree(self.shims)
        os.makedirs(self.shims)
        # The Makefile's $(BIN)/.built: newer than every source, so make builds nothing.
        open(os.path.join(self.shims, ".built"), "w").close()
        for tool in TOOLS:
            path = os.path.join(self.shims, tool)
            with open(path, "w") as f:
                f.write(f'#!/bin/sh\nexec "{sys.executable}" "{SELF}" --shim {tool} "$@"\n')
            os.chmod(path, 0o755)
        if os.path.exists(self.record):
            os.unlink(self.record)

    def start_emulator(self):
        self.emu = EmulatorProcess(self.work, "--speed", "0", "--data-dir", os.path.join(self.work, "emulator-data"))
        try:
            self.port = self.emu.start().port
        except RuntimeError as error:
            sys.exit(f"profile_run: {error}")
        self.emu_log = self.emu.log_path
        self.base = f"http://127.0.0.1:{self.port}/v1"
        log(f"emulator pid {self.emu.pid} on port {self.port}")

    def stop_emulator(self):
        if self.emu:
            self.emu.stop()

    def run_make(self):
        env = dict(os.environ)
        for name in ("BATCHLINE_MAX_BYTES", "BATCHLINE_MAX_REQUESTS", "BATCHLINE_PROVIDER", "MAX_COST",
                     "TOKEN_LIMIT", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "GROQ_API_KEY"):
            env.pop(name, None)
        env.update(OPENAI_API_KEY=KEY, OPENAI_BASE_URL=self.base, NO_COLOR="1",
                   PROFILE_REAL_BIN=self.bin, PROFILE_LOG=self.record, PROFILE_EMU_PID=str(self.emu.pid),
                   PROFILE_SAMPLE="0" if self.args.no_sample else "1")
        cmd = ["make", "-C", ROOT, "--no-print-directory", "merged", f"BATCH={self.run_dir}",
               f"BIN={self.shims}", "SWIFT=true", f"POLL={self.args.poll}"]
        self.make_cmd = cmd
        tfile = os.path.join(self.work, "make.time")
        out = os.path.join(self.work, "make.log")
        log("running: " + " ".join(cmd))
        self.load_before = os.getloadavg()
        e0 = proc_cpu(self.emu.pid)
        t0 = time.perf_counter()
        with open(out, "wb") as f:
            rc = subprocess.call([TIME_BIN, "-v", "-o", tfile] + cmd, env=env, stdout=f, stderr=subprocess.STDOUT)
        self.make_wall = time.perf_counter() - t0
        self.make_emu_cpu = proc_cpu(self.emu.pid) - e0
        self.load_after = os.getloadavg()
        self.make_time = parse_time_v(tfile)
        with open(out, errors="replace") as f:
            self.make_log = f.read()
        if rc != 0:
            sys.exit(f"profile_run: make exited {rc}; see {out}\n{self.make_log[-3000:]}")
        log(f"make merged: {self.make_wall:.1f} s")

    def check(self):
        result = os.path.join(self.run_dir, "items_classified.jsonl")
        lines = 0
        with open(result, "rb") as f:
            for _ in f:
                lines += 1
        if lines != self.args.n:
            sys.exit(f"profile_run: {result} has {lines} lines, not {self.args.n}")
        self.result_bytes = os.path.getsize(result)
        with open(os.path.join(self.run_dir, "status.json")) as f:
            ledger = json.load(f)
        self.files = len(ledger["files"])
        self.in_bytes = sum(f["input_filename"]["bytes"] for f in ledger["files"])
        self.out_bytes = sum((f.get("output_filenames") or {}).get("ok", {}).get("bytes") or 0 for f in ledger["files"])

    def floors(self):
        """`cat` of each step's input files to /dev/null, right after the run:
        how fast this machine reads them at this moment (the load varies)."""
        import glob
        sets = {
            "items.jsonl": [os.path.join(self.run_dir, "items.jsonl")],
            "in/*.jsonl (prepare's output, upload's input)": sorted(glob.glob(os.path.join(self.run_dir, "in", "*.jsonl"))),
            "out/*.jsonl (download's output, sort's input)": sorted(glob.glob(os.path.join(self.run_dir, "out", "*.jsonl"))),
        }
        out = {}
        for name, paths in sets.items():
            if not paths:
                continue
            size = sum(os.path.getsize(p) for p in paths)
            t = time.perf_counter()
            subprocess.run(["cat"] + paths, stdout=subprocess.DEVNULL, check=True)
            out[name] = (size, time.perf_counter() - t)
        return out

    def steps(self):
        with open(self.record) as f:
            steps = [json.loads(line) for line in f]
        reqs = []
        if self.emu_log and os.path.exists(self.emu_log):
            with open(self.emu_log) as f:
                for line in f:
                    try:
                        reqs.append(json.loads(line))
                    except ValueError:
                        pass
        for s in steps:
            counts = {}
            for r in reqs:
                if s["start"] <= r.get("t", 0) <= s["end"] + 0.05:
                    counts[r.get("action") or r.get("path")] = counts.get(r.get("action") or r.get("path"), 0) + 1
            s["requests"] = counts
        return steps

    def report(self, steps, info):
        a = self.args
        print(f"machine: {info['nproc']} CPUs, {info['cpu']}, {info['memory']}, Linux {info['kernel']}; {info['date']}")
        print("load average before: " + ", ".join(f"{x:.2f}" for x in self.load_before)
              + "; after: " + ", ".join(f"{x:.2f}" for x in self.load_after))
        print(f"run: N = {a.n:,} items ({self.items_bytes / MB:.0f} MB), {self.files} request files "
              f"({self.in_bytes / MB:.0f} MB), results {self.out_bytes / MB:.0f} MB, "
              f"items_classified.jsonl {self.result_bytes / MB:.0f} MB; emulator --speed 0; POLL={a.poll}")
        print(f"command: {' '.join(self.make_cmd)}")
        print()
        print("| step | wall s | tool CPU s (user+sys) | tool peak RSS MiB | emulator CPU s | "
              "wall − tool CPU − emulator CPU | emulator requests |")
        print("|---|---:|---:|---:|---:|---:|---|")
        tw = tc = te = 0.0
        for s in steps:
            emu = s.get("emu_cpu") or 0.0
            rest = s["wall"] - s["cpu"] - emu
            reqs = ", ".join(f"{k} {v}" for k, v in sorted(s["requests"].items(), key=lambda kv: -kv[1]))
            print(f"| {s['tool']} | {s['wall']:.2f} | {s['cpu']:.2f} | {s.get('rss_kib', 0) / 1024:.1f} | "
                  f"{emu:.2f} | {rest:.2f} | {reqs} |")
            tw += s["wall"]
            tc += s["cpu"]
            te += emu
        print(f"| all steps | {tw:.2f} | {tc:.2f} | | {te:.2f} | {tw - tc - te:.2f} | |")
        mt = self.make_time
        print(f"| make merged, whole (incl. make and shims) | {self.make_wall:.2f} | "
              f"{mt.get('user', 0) + mt.get('sys', 0):.2f} | | {self.make_emu_cpu:.2f} | | |")
        print()
        print(f"batchline tools: {tc:.1f} CPU s ({100 * tc / max(tc + te, 1e-9):.0f}% of the CPU time of tools "
              f"+ emulator); emulator: {te:.1f} CPU s ({100 * te / max(tc + te, 1e-9):.0f}%).")
        if getattr(self, "floor", None):
            print()
            print("floor: `cat FILES > /dev/null` right after the run, on the same machine and load")
            print("| files | MB | s |")
            print("|---|---:|---:|")
            for name, (size, secs) in self.floor.items():
                print(f"| {name} | {size / MB:.0f} | {secs:.2f} |")
        for s in steps:
            ph = s.get("phases")
            if not ph:
                continue
            print()
            print(f"{s['tool']}: where its {s['wall']:.1f} s went (open files sampled every 10 ms, "
                  f"{ph['samples']} samples, sampler {ph['sampler_cpu_s']:.2f} CPU s)")
            print("| phase | s with ≥ 1 file in it | file-seconds (summed over files) |")
            print("|---|---:|---:|")
            for phase, secs in sorted(ph["union_s"].items(), key=lambda kv: -kv[1]):
                print(f"| {phase} | {secs:.2f} | {ph['file_s'].get(phase, 0):.2f} |")
            covered = sum(ph["union_s"].values())
            print(f"| (wall time with no file in a phase above ≈ wall − union, overlaps aside) | "
                  f"≥ {max(0.0, s['wall'] - covered):.2f} | |")


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--shim":
        shim(sys.argv[2], sys.argv[3:])
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-n", type=int, default=1_000_000, help="items (default 1,000,000)")
    p.add_argument("--items", default=DEFAULT_ITEMS, help=f"items to take the first N from (default {DEFAULT_ITEMS})")
    p.add_argument("--prompt", help="prompt.json to use (default: the article's prompt)")
    p.add_argument("--baseline", default=os.path.join(os.path.dirname(ROOT), "shared", "baseline"),
                   help="the baseline folder whose seed/ holds the article's prompt (default ../shared/baseline)")
    p.add_argument("--bin", default=os.path.join(ROOT, ".build-xfer", "release"))
    p.add_argument("--poll", default="60", help="POLL for make (the polling cap, s)")
    p.add_argument("--work", help="scratch directory (default: a new one in $TMPDIR)")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory")
    p.add_argument("--no-sample", action="store_true", help="do not sample the open files of upload and download")
    p.add_argument("--json", help="also write the steps here")
    args = p.parse_args()
    if not os.path.exists(args.items):
        sys.exit(f"profile_run: {args.items} not found; make it with "
                 "python3 ../shared/baseline/gen_data.py -n 1000000")
    prof = Profile(args)
    info = machine()
    log(f"scratch: {prof.work}")
    try:
        prof.setup()
        prof.start_emulator()
        prof.run_make()
        prof.check()
        steps = prof.steps()
        prof.floor = prof.floors()
        prof.report(steps, info)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"machine": info, "load_before": prof.load_before, "load_after": prof.load_after,
                           "n": args.n, "make_wall": prof.make_wall, "make_emu_cpu": prof.make_emu_cpu,
                           "floors": prof.floor, "steps": steps}, f, indent=1)
    finally:
        prof.stop_emulator()
        if not args.keep:
            shutil.rmtree(prof.work, ignore_errors=True)


if __name__ == "__main__":
    main()
