"""What the benchmark scripts measure with: the machine, a process's CPU
time, and /usr/bin/time -v's report. Shared by bench_transfer.py and
profile_run.py. Python 3 standard library only."""

import os
import time


def machine():
    """The CPU model, core count, memory, kernel and the date."""
    model, mem = "?", "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / (1 << 20):.1f} GiB"
                break
    return {"nproc": os.cpu_count(), "cpu": model, "memory": mem, "kernel": os.uname().release,
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def proc_cpu(pid):
    """utime+stime of a process (all its threads), in seconds; None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def parse_time_v(path):
    """The fields of a /usr/bin/time -v report in `path` that the scripts use;
    {} when the file is missing."""
    out = {}
    try:
        f = open(path, errors="replace")
    except OSError:
        return out
    with f:
        for line in f:
            line = line.strip()
            if line.startswith("User time (seconds):"):
                out["user"] = float(line.rsplit(":", 1)[1])
            elif line.startswith("System time (seconds):"):
                out["sys"] = float(line.rsplit(":", 1)[1])
            elif line.startswith("Maximum resident set size (kbytes):"):
                out["rss_kib"] = int(line.rsplit(":", 1)[1])
            elif line.startswith("File system outputs:"):
                out["fs_out_blocks"] = int(line.rsplit(":", 1)[1])
            elif line.startswith("Elapsed (wall clock) time"):
                secs = 0.0
                for part in line.rsplit(": ", 1)[1].split(":"):
                    secs = secs * 60 + float(part)
                out["time_wall"] = secs
            elif line.startswith("Exit status:"):
                out["exit"] = int(line.rsplit(":", 1)[1])
    return out
