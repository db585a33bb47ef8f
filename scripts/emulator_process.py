#!/usr/bin/env python3
"""The one way the project starts scripts/emulator.py: as a child process on a
free port of 127.0.0.1, stopped by its process id.

The tests (Tests/e2e/support.py, Tests/emulator/test_emulator.py), the
benchmark scripts and `make demo` all start it through here, so that the
startup wait, the shutdown and the admin calls exist once.

    python3 scripts/emulator_process.py WORKDIR [EMULATOR OPTIONS] -- COMMAND [ARGS]

runs COMMAND with OPENAI_BASE_URL pointed at a fresh emulator, then stops the
emulator and exits with COMMAND's status (what scripts/demo.sh does).
"""

import atexit
import itertools
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EMULATOR = os.path.join(ROOT, "scripts", "emulator.py")

# Every emulator still running, so that an interrupted run stops them at exit.
_LIVE = set()
_NUMBERS = itertools.count(1)
atexit.register(lambda: [emulator.stop() for emulator in list(_LIVE)])


class EmulatorProcess:
    """One emulator process. Its files (port, request log, stderr) live in
    `workdir` under a name of their own, so several can share a directory."""

    # The admin calls go to 127.0.0.1: a proxy from the environment must not see them.
    _opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def __init__(self, workdir, *options, log=True, env=None, timeout=30):
        self.workdir = str(workdir)
        self.options = [str(option) for option in options]
        self.env = env
        self.timeout = timeout
        tag = os.path.join(self.workdir, "emulator-%d-%d" % (os.getpid(), next(_NUMBERS)))
        self.port_file = tag + ".port"
        self.log_path = tag + ".log" if log else None
        self.stderr_path = tag + ".stderr"
        self.proc = None
        self.port = None

    def start(self):
        """Starts the process and waits for the port it chose; returns self."""
        os.makedirs(self.workdir, exist_ok=True)
        argv = [sys.executable, EMULATOR, "--host", "127.0.0.1", "--port", "0", "--port-file", self.port_file]
        if self.log_path:
            argv += ["--log", self.log_path]
        with open(self.stderr_path, "wb") as stderr:
            self.proc = subprocess.Popen(argv + self.options, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=stderr, env=self.env)
        _LIVE.add(self)
        deadline = time.monotonic() + self.timeout
        while True:
            port = self._read_port()
            if port:
                self.port = int(port)
                return self
            if self.proc.poll() is not None:
                status = self.proc.returncode
                self.stop()
                raise RuntimeError("the emulator exited (%s): %s" % (status, self.stderr()[-2000:]))
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the emulator did not start within %d s; see %s" % (self.timeout, self.stderr_path))
            time.sleep(0.02)

    def _read_port(self):
        try:
            with open(self.port_file) as port:
                return port.read().strip()
        except FileNotFoundError:
            return ""

    def stop(self):
        """Stops the process by its id: SIGTERM, then SIGKILL."""
        _LIVE.discard(self)
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()

    @property
    def pid(self):
        return self.proc.pid

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def base_url(self):
        return self.url + "/v1"

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as stderr:
                return stderr.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def admin(self, method, path, body=None):
        """One call to the emulator's /_emulator/ API; the parsed answer."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + "/_emulator/" + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        # urlopen raises on 4xx and 5xx; any other answer but 200 is as wrong.
        with self._opener.open(request, timeout=30) as response:
            if response.status != 200:
                raise RuntimeError("the emulator answered %s to %s %s" % (response.status, method, path))
            return json.loads(response.read() or b"null")

    def config(self, **settings):
        """Merges settings into the emulator's configuration."""
        return self.admin("POST", "config", settings)

    def state(self):
        return self.admin("GET", "state")

    def reset(self, keep_config=False):
        return self.admin("POST", "reset", {"keep_config": keep_config})

    def log(self):
        """The request log: one dict per API request."""
        try:
            with open(self.log_path) as log:
                return [json.loads(line) for line in log if line.strip()]
        except FileNotFoundError:
            return []

    def acted(self, action):
        """The log entries of requests whose action took effect (file.upload, ...)."""
        return [e for e in self.log() if e.get("action") == action and e.get("acted")]


def main(argv):
    if "--" not in argv or argv.index("--") < 1 or argv.index("--") == len(argv) - 1:
        sys.stderr.write("usage: emulator_process.py WORKDIR [EMULATOR OPTIONS] -- COMMAND [ARGS]\n")
        return 64
    split = argv.index("--")
    emulator = EmulatorProcess(argv[0], *argv[1:split])
    try:
        emulator.start()
    except RuntimeError as error:
        sys.stderr.write("emulator_process.py: %s\n" % error)
        return 1
    # SIGTERM and SIGINT end the command's wait, and the emulator is still stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return subprocess.call(argv[split + 1:], env=dict(os.environ, OPENAI_BASE_URL=emulator.base_url))
    except KeyboardInterrupt:
        return 130
    finally:
        emulator.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
