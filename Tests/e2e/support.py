"""What the end-to-end tests share: the repository's place and the emulator."""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Emulator:
    """The project's emulator, started on a free loopback port."""

    def __init__(self, workdir, *options):
        self.port_file = os.path.join(workdir, "emulator.port")
        self.log = os.path.join(workdir, "emulator.log")
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(REPO, "scripts", "emulator.py"), "--port", "0",
             "--port-file", self.port_file, "--log", self.log, *options],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 15
        while not self.read_port():
            if time.time() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError("the emulator did not start")
            time.sleep(0.05)
        self.port = int(self.read_port())
        self.base_url = "http://127.0.0.1:%d/v1" % self.port

    def read_port(self):
        try:
            with open(self.port_file) as port:
                return port.read().strip()
        except FileNotFoundError:
            return ""

    def admin(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request("http://127.0.0.1:%d/_emulator/%s" % (self.port, path), data=data,
                                         method="GET" if body is None else "POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"{}")

    def log_lines(self):
        with open(self.log) as log:
            return [json.loads(line) for line in log if line.strip()]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def sample_run(workdir, name):
    """A run directory holding a copy of the tracked sample (items and template)."""
    run = os.path.join(workdir, name)
    os.makedirs(run)
    for sample in ("items.jsonl", "prompt.json"):
        shutil.copy(os.path.join(REPO, "batch", sample), run)
    return run


def tool_environment(emulator, **extra):
    """The caller's environment pointed at `emulator`, with quick polls and
    retries and small request files (four of 250 for the sample)."""
    env = dict(os.environ)
    env.update({
        "OPENAI_BASE_URL": emulator.base_url, "OPENAI_API_KEY": "sk-e2e-test",
        "SWIFT_BACKTRACE": "enable=no", "POLL": "1", "BATCHLINE_MAX_REQUESTS": "250",
        "BATCHLINE_RETRY_BASE": "0.05", "BATCHLINE_VISIBILITY_WAIT": "3", "BATCHLINE_HTTP_TIMEOUT": "5",
    })
    env.update(extra)
    return env
