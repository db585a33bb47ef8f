"""Start and stop the project's emulator for the benchmark scripts.

Both bench_transfer.py and profile_run.py run it on a free loopback port
with its files in the scratch directory, and stop it by its process id.
"""

import os
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start(work, errors, *options, who="emulator"):
    """Starts scripts/emulator.py at --speed 0 in `work`, its stderr in the
    file `errors`; returns (process, port, stderr file). Exits when it does
    not start within 30 s."""
    port_file = os.path.join(work, "emulator.port")
    if os.path.exists(port_file):
        os.unlink(port_file)
    data_dir = os.path.join(work, "emulator-data")
    os.makedirs(data_dir, exist_ok=True)
    stderr = open(errors, "wb")
    process = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "scripts", "emulator.py"), "--host", "127.0.0.1", "--port", "0",
         "--port-file", port_file, "--speed", "0", "--data-dir", data_dir, *options],
        stdout=subprocess.DEVNULL, stderr=stderr)
    deadline = time.time() + 30
    while not os.path.exists(port_file):
        if process.poll() is not None or time.time() > deadline:
            stop(process)
            raise SystemExit("%s: the emulator did not start; see %s" % (who, errors))
        time.sleep(0.05)
    with open(port_file) as f:
        return process, int(f.read().strip()), stderr


def stop(process, timeout=15):
    """Stops the emulator by its process id: SIGTERM, then SIGKILL."""
    if process and process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
