#!/usr/bin/env python3
"""Runs the end-to-end tests in worker processes side by side (all.py's engine):

    python3 Tests/e2e/all.py BIN_DIR [-j JOBS] [-k PATTERN]... [-f] [TEST_NAME]...

Most of an end-to-end test's time goes on waiting (for the emulator's
batches, for the tools' pauses between reads), not on the CPU, so JOBS
workers run side by side (BATCHLINE_E2E_JOBS, 3 by default: even on two
cores three beat two; the figures are in docs/PERFORMANCE.md). Tests can
share a machine because each has its own temporary directory and its own
emulator on a free port of 127.0.0.1.

A class with class or module fixtures (setUpClass: one install, one emulator
for all its tests) runs whole in one worker; every other test is a unit of
its own. The units go out longest first, as timed on the last run (kept in
.build/e2e-durations.json; new tests count as average), so that no long test
starts last. A test's output is captured and shown with its failure; the run
ends with the failures in full and a count, and fails if any test failed.

-k PATTERN and TEST_NAME select tests as unittest's do; -f stops handing out
tests after the first failure. Workers are stopped by their process ids,
each stopping its emulators, when the run ends or is interrupted.
"""

import json
import os
import selectors
import signal
import subprocess
import sys
import time
import unittest
from collections import deque
from pathlib import Path

import support

DURATIONS = support.REPO / ".build" / "e2e-durations.json"
# Worst first: the one a test with several outcomes (subtests) is shown as.
RANKS = ["error", "fail", "xpass", "ok", "xfail", "skip"]
LABELS = {"error": "ERROR", "fail": "FAIL", "xpass": "XPASS", "ok": "ok", "xfail": "xfail", "skip": "skip"}
BAD = {"error", "fail", "xpass"}
USAGE = "usage: python3 Tests/e2e/all.py BIN_DIR [-j JOBS] [-k PATTERN]... [-f] [TEST_NAME]...\n"


# --------------------------------------------------------------------------
# Both sides: running tests and recording what happened

class Recorder(unittest.TestResult):
    """Hands each test's outcomes, time and captured output to `emit` as
    one plain record: {"test", "seconds", "outcomes": [[kind, label, detail]]}."""

    def __init__(self, emit):
        super().__init__()
        self.buffer = True
        self.emit = emit
        self.current = None
        self.started = 0.0

    def startTest(self, test):
        super().startTest(test)
        self.current = {"test": test.id(), "outcomes": []}
        self.started = time.monotonic()

    def stopTest(self, test):
        super().stopTest(test)
        record, self.current = self.current, None
        record["seconds"] = time.monotonic() - self.started
        self.emit(record)

    def _restoreStdout(self):
        # The captured output goes into the record only, not also to the
        # worker's stderr, where it would interleave with the other workers.
        self._mirrorOutput = False
        super()._restoreStdout()

    def note(self, kind, test, label="", detail=""):
        if self.current is None:
            # A class or module fixture failed, outside any test.
            self.emit({"test": test.id(), "seconds": 0.0, "outcomes": [[kind, label, detail]]})
        else:
            self.current["outcomes"].append([kind, label, detail])

    def addSuccess(self, test):
        super().addSuccess(test)
        self.note("ok", test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.note("fail", test, detail=self.failures[-1][1])

    def addError(self, test, err):
        super().addError(test, err)
        self.note("error", test, detail=self.errors[-1][1])

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            failed = issubclass(err[0], test.failureException)
            detail = (self.failures if failed else self.errors)[-1][1]
            self.note("fail" if failed else "error", test, subtest._subDescription(), detail)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.note("skip", test, detail=reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.note("xfail", test)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.note("xpass", test)


def run_suite(suite, emit):
    suite.run(Recorder(emit))


def worker(result_fd):
    """Runs the units read from stdin (a JSON list of test ids a line),
    writing a record per test and then {"done": true} to result_fd."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    loader = unittest.TestLoader()
    with os.fdopen(result_fd, "w", buffering=1) as results:
        def emit(record):
            results.write(json.dumps(record) + "\n")
        for line in sys.stdin:
            ids = json.loads(line)
            run_suite(unittest.TestSuite(loader.loadTestsFromName(i) for i in ids), emit)
            emit({"done": True})
    return 0


# --------------------------------------------------------------------------
# The parent: which tests, in which units, in what order

def tests_of(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from tests_of(item)
        else:
            yield item


def runs_whole(test):
    """A test whose class or module sets things up for all its tests."""
    cls = type(test)
    module = sys.modules.get(cls.__module__)
    base = unittest.TestCase
    return (cls.setUpClass.__func__ is not base.setUpClass.__func__
            or cls.tearDownClass.__func__ is not base.tearDownClass.__func__
            or hasattr(module, "setUpModule") or hasattr(module, "tearDownModule"))


def units_of(tests):
    """[[test id, ...], ...]: a class with fixtures as one unit, else one test a unit."""
    units = {}
    for test in tests:
        key = "%s.%s" % (type(test).__module__, type(test).__qualname__) if runs_whole(test) else test.id()
        units.setdefault(key, []).append(test.id())
    return list(units.values())


def load_durations():
    try:
        durations = json.loads(DURATIONS.read_text())
        return {k: float(v) for k, v in durations.items()} if isinstance(durations, dict) else {}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def save_durations(old, records):
    durations = dict(old)
    durations.update({r["test"]: round(r["seconds"], 2) for r in records if r["seconds"] > 0})
    try:
        if DURATIONS.parent.is_dir():
            temporary = DURATIONS.with_suffix(".new")
            temporary.write_text(json.dumps(durations, indent=0, sort_keys=True) + "\n")
            temporary.replace(DURATIONS)
    except OSError:
        pass  # The order is only a speed-up.


def longest_first(units, durations):
    average = sum(durations.values()) / len(durations) if durations else 1.0
    return sorted(units, key=lambda unit: -sum(durations.get(i, average) for i in unit))


# --------------------------------------------------------------------------
# The parent: workers

class Worker:
    def __init__(self, number, selector):
        self.number = number
        read, write = os.pipe()
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--worker", str(support.BIN), str(write)],
            stdin=subprocess.PIPE, pass_fds=(write,), text=True)
        os.close(write)
        self.fd = read
        self.pending = b""
        self.unit = None
        self.reported = set()
        selector.register(read, selectors.EVENT_READ, self)

    def give(self, unit):
        self.unit, self.reported = unit, set()
        try:
            self.proc.stdin.write(json.dumps(unit) + "\n")
            self.proc.stdin.flush()
        except OSError:
            pass  # It died: the end of its output reports the unit as failed.

    def records(self):
        """The records read so far, or None at the end of the worker's output."""
        data = os.read(self.fd, 65536)
        if not data:
            return None
        lines = (self.pending + data).split(b"\n")
        self.pending = lines.pop()
        return [json.loads(line) for line in lines if line]

    def stop(self):
        """Closes stdin, on which an idle worker exits. One still in a test
        (the run was interrupted) gets a moment to end on the same ^C, then
        SIGTERM, which stops its emulators, then SIGKILL: each by its pid."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        for graces, signal_it in ((10 if self.unit is None else 2, self.proc.terminate),
                                  (10, self.proc.kill)):
            try:
                self.proc.wait(timeout=graces)
                return
            except subprocess.TimeoutExpired:
                signal_it()
        self.proc.wait()


class Report:
    """Prints a line per test as it ends; keeps every record for the summary."""

    def __init__(self):
        self.records = []

    def add(self, record, worker=None):
        self.records.append(record)
        kind = status_of(record)
        where = " [%d]" % worker if worker is not None else ""
        sys.stderr.write("%-5s %6.1f s%s  %s\n" % (LABELS[kind], record["seconds"], where, record["test"]))
        sys.stderr.flush()
        return kind in BAD

    def summary(self, elapsed, jobs):
        bad = [r for r in self.records if status_of(r) in BAD]
        for record in bad:
            for kind, label, detail in record["outcomes"]:
                if kind in BAD:
                    sys.stderr.write("%s\n%s: %s%s\n%s\n%s\n" % (
                        "=" * 70, LABELS[kind], record["test"], " " + label if label else "",
                        "-" * 70, detail.rstrip() or "(unexpected success)"))
        slowest = sorted((r for r in self.records if r["seconds"] > 0), key=lambda r: -r["seconds"])[:8]
        counts = {kind: sum(1 for r in self.records if status_of(r) == kind) for kind in RANKS}
        sys.stderr.write("%s\ne2e: %d tests in %.1f s with %d worker%s; slowest: %s\n" % (
            "-" * 70, len(self.records), elapsed, jobs, "" if jobs == 1 else "s",
            ", ".join("%s %.1f s" % (r["test"].rsplit(".", 1)[-1], r["seconds"]) for r in slowest)))
        shown = ", ".join("%s %d" % (LABELS[kind], n) for kind, n in counts.items() if n)
        if bad:
            sys.stderr.write("FAILED (%s): %s\n" % (shown, " ".join(r["test"] for r in bad)))
        elif self.records:
            sys.stderr.write("OK (%s)\n" % shown)
        else:
            sys.stderr.write("FAILED: no tests ran\n")
        return 1 if bad or not self.records else 0


def status_of(record):
    kinds = [outcome[0] for outcome in record["outcomes"]] or ["ok"]
    return min(kinds, key=RANKS.index)


def run_parallel(units, jobs, failfast, report):
    """Hands the units to up to `jobs` workers, each a new one as it asks."""
    queue = deque(units)
    selector = selectors.DefaultSelector()
    workers, numbers, stop = [], iter(range(1, 10**6)), False

    def next_unit(worker):
        if queue and not stop:
            worker.give(queue.popleft())
        else:
            worker.unit = None

    try:
        for _ in range(min(jobs, len(queue))):
            worker = Worker(next(numbers), selector)
            workers.append(worker)
            next_unit(worker)
        while any(w.unit is not None for w in workers):
            for key, _ in selector.select():
                worker = key.data
                records = worker.records()
                if records is None:
                    # The worker died mid-unit: what it did not report failed.
                    selector.unregister(worker.fd)
                    os.close(worker.fd)
                    worker.proc.wait()
                    workers.remove(worker)
                    for test in worker.unit or []:
                        if test not in worker.reported:
                            stop |= report.add({"test": test, "seconds": 0.0, "outcomes": [[
                                "error", "", "the worker process exited with status %s before this test ended"
                                % worker.proc.returncode]]}, worker.number) and failfast
                    if queue and not stop:
                        replacement = Worker(next(numbers), selector)
                        workers.append(replacement)
                        next_unit(replacement)
                    continue
                for record in records:
                    if record.get("done"):
                        next_unit(worker)
                    else:
                        worker.reported.add(record["test"])
                        stop |= report.add(record, worker.number) and failfast
    finally:
        for worker in workers:
            worker.stop()
            try:
                selector.unregister(worker.fd)
            except (KeyError, ValueError):
                pass
            os.close(worker.fd)


# --------------------------------------------------------------------------

def parse(argv):
    """(bin, jobs, patterns, failfast, names) from the command line, or None."""
    if not argv or argv[0].startswith("-"):
        return None
    bin_dir, rest = argv[0], argv[1:]
    jobs = os.environ.get("BATCHLINE_E2E_JOBS") or "3"
    patterns, failfast, names = [], False, []
    while rest:
        arg = rest.pop(0)
        if arg[:2] in ("-j", "-k") and (len(arg) > 2 or rest):
            value = arg[2:] or rest.pop(0)
            if arg[:2] == "-j":
                jobs = value
            else:
                patterns.append(value)
        elif arg == "-f":
            failfast = True
        elif arg.startswith("-"):
            return None
        else:
            names.append(arg)
    if not jobs.isdigit() or int(jobs) < 1:
        return None
    return bin_dir, int(jobs), patterns, failfast, names


def main():
    if sys.argv[1:2] == ["--worker"]:
        support.BIN = Path(sys.argv[2])
        return worker(int(sys.argv[3]))
    parsed = parse(sys.argv[1:])
    if parsed is None:
        sys.stderr.write(USAGE)
        return 64
    bin_dir, jobs, patterns, failfast, names = parsed
    status = support.use_tools(bin_dir)
    if status:
        return status
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    loader = unittest.TestLoader()
    if patterns:
        # As unittest's -k: a pattern without a wildcard matches as a substring.
        loader.testNamePatterns = [p if "*" in p else "*%s*" % p for p in patterns]
    here = str(support.HERE)
    suite = loader.loadTestsFromNames(names) if names else loader.discover(here, "test_*.py", here)
    tests = list(tests_of(suite))
    report = Report()
    # A module that cannot be imported shows as a test that fails where it is loaded.
    broken = [t for t in tests if type(t).__module__ == "unittest.loader"]
    if broken:
        run_suite(unittest.TestSuite(broken), report.add)
    durations = load_durations()
    units = longest_first(units_of(t for t in tests if t not in broken), durations)
    run_parallel(units, jobs, failfast, report)
    save_durations(durations, report.records)
    return report.summary(time.monotonic() - started, min(jobs, len(units)) or 1)


if __name__ == "__main__":
    sys.exit(main())
