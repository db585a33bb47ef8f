#!/usr/bin/env python3
"""Start-up cost of the tools: `batch-merge --version` and a no-op
`make merged` on a finished run, for one or more builds side by side.

    python3 scripts/bench_startup.py --run DIR [--runs N] NAME=BIN[@MAKEDIR] ...

Each NAME=BIN names a directory holding the eight tools; MAKEDIR (default:
this repository) is the directory whose Makefile runs them, with
`BIN=BIN`. DIR is a finished run (every step done, as `make demo` leaves
.build/demo): each build gets its own copy, brought up to date by one
`make merged` (the local steps run again when their tool is newer), and
the measured runs must then find nothing to do. The builds take turns, run
by run, so that a change in the machine's load falls on all of them alike.
Prints, per build and command, the median and the lowest wall time in ms
and the median and the highest peak RSS in KiB (the process's own, from
wait4). Python 3 standard library only.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from measure import machine

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def measure(argv, cwd=None):
    """(wall seconds, peak RSS KiB) of one run of argv, which must exit 0."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit("bench_startup: '%s' exited %d" % (" ".join(argv), process.returncode))
    return wall, usage.ru_maxrss


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, help="a finished run directory to copy")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("builds", nargs="+", metavar="NAME=BIN[@MAKEDIR]")
    options = parser.parse_args()

    work = tempfile.mkdtemp(prefix="bench-startup-")
    builds = []
    try:
        for spec in options.builds:
            name, _, rest = spec.partition("=")
            bin_dir, _, make_dir = rest.partition("@")
            bin_dir, make_dir = os.path.abspath(bin_dir), os.path.abspath(make_dir or REPO)
            run = os.path.join(work, name)
            shutil.copytree(options.run, run, symlinks=True)
            make = ["make", "-C", make_dir, "merged", "BATCH=" + run, "BIN=" + bin_dir]
            subprocess.run(make, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            again = subprocess.run(make, capture_output=True, text=True)
            if again.returncode != 0 or "Nothing to be done" not in again.stdout:
                sys.exit("bench_startup: make merged is not a no-op for %s" % name)
            builds.append((name, {"batch-merge --version": [os.path.join(bin_dir, "batch-merge"), "--version"],
                                  "make merged (no-op)": make}))

        results = {(name, label): [] for name, commands in builds for label in commands}
        for _ in range(options.runs):
            for name, commands in builds:
                for label, argv in commands.items():
                    results[(name, label)].append(measure(argv))

        facts = machine()
        print("%s; %s, %d cores, %s; kernel %s; load %s; %d runs each" % (
            facts["date"], facts["cpu"], facts["nproc"], facts["memory"], facts["kernel"],
            " ".join("%.2f" % load for load in os.getloadavg()), options.runs))
        print("| build | command | wall ms, median | wall ms, lowest | peak RSS KiB, median | peak RSS KiB, highest |")
        print("|---|---|---:|---:|---:|---:|")
        for (name, label), samples in results.items():
            walls = [wall * 1000 for wall, _ in samples]
            rss = [kib for _, kib in samples]
            print("| %s | `%s` | %.2f | %.2f | %d | %d |" % (
                name, label, statistics.median(walls), min(walls), statistics.median(rss), max(rss)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
