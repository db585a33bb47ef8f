#!/usr/bin/env python3
"""Transfer benchmark: batch-upload and batch-download against curl, on loopback.

Python 3 standard library only. It measures, under /usr/bin/time -v, against
the project's emulator (scripts/emulator.py, 127.0.0.1, --speed 0):

  (a) upload of one ~200 MB request file: batch-upload vs
      curl -s -F purpose=batch -F file=@FILE -H 'Authorization: Bearer sk-test' .../v1/files
  (b) download of a ~200 MB file: batch-download vs curl -s -o OUT .../v1/files/ID/content
      (the file downloaded is a 200 MB upload; a crafted ledger entry, a
      "completed" batch whose output file id is that upload, makes
      batch-download fetch it), plus curl followed by `sync FILE`, since
      batch-download fsyncs what it fetched
  (c) four ~50 MB files: one batch-upload (it moves 4 at a time) vs four
      sequential curls, and four concurrent curls for reference

and prints, per case: MB moved, wall s (median of --repeat runs), CPU s of
the client (user+sys), CPU s of the emulator over the same interval (from
/proc/PID/stat), MB/s, peak RSS MiB (largest over the runs), and the wall
time relative to curl's. Then PASS/FAIL for peak RSS <= 64 MiB while moving
a 200 MB file, and (unless --no-phases) the phases of one batch-upload
(SHA-256 of the file, the multipart body written to a temporary file, the
HTTP transfer) and one batch-download (transfer, fsync, line count), found
by sampling the tool's open files in /proc every 5 ms.

The request file is rendered by batch-prepare from generated items (the
README's chat template, long descriptions so that 49,000 requests make
~199 MB, under the 200,000,000-byte limit of one batch file).

Usage:
    python3 scripts/bench_transfer.py [--bin .build-xfer/release] [--repeat 3]
        [--work DIR] [--keep] [--no-phases] [--json OUT.json]

Build the tools first: swift build -c release --scratch-path .build-xfer
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from emulator_process import EmulatorProcess
from measure import machine, parse_time_v, proc_cpu

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIME_BIN = "/usr/bin/time"
KEY = "sk-test"
MB = 1_000_000
MIB = 1 << 20
RSS_LIMIT_MIB = 64

PROMPT = {
    "url": "/v1/chat/completions",
    "custom_id": "{{uuid}}",
    "body": {
        "model": "gpt-4o-mini",
        "max_tokens": 50,
        "messages": [
            {"role": "system", "content": "Classify the food item. Answer with one word."},
            {"role": "user", "content": "Item: {{name}}. {{description}}"},
        ],
    },
}

WORDS = ("fresh organic roasted smoked creamy crunchy sweet savoury spicy mild tangy golden crispy "
         "tender slow cooked traditional homemade artisan seasonal local farm wild aged cured whole "
         "grain wheat rye barley oats rice corn bean lentil chickpea tomato onion garlic pepper "
         "basil oregano thyme rosemary olive butter cream cheese yoghurt milk egg honey maple "
         "vanilla chocolate caramel almond hazelnut walnut pistachio apple pear cherry berry lemon "
         "orange mango coconut ginger cinnamon nutmeg saffron paprika cumin coriander mint parsley "
         "dill fennel celery carrot potato spinach kale cabbage mushroom truffle salmon tuna cod "
         "shrimp chicken turkey beef pork lamb duck sauce soup stew salad bread cake pie tart "
         "biscuit cracker noodle pasta dumpling packed refrigerated frozen dried canned jar bottle "
         "serve with store keep in a cool dry place away from sunlight per 100 g kcal protein fat "
         "carbohydrates sugar salt fibre made from selected ingredients family recipe since 1987").split()


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Bench:
    def __init__(self, args):
        self.args = args
        self.bin = os.path.abspath(args.bin)
        for tool in ("batch-prepare", "batch-upload", "batch-download"):
            if not os.access(os.path.join(self.bin, tool), os.X_OK):
                sys.exit(f"bench_transfer: {self.bin}/{tool} not found; "
                         "run: swift build -c release --scratch-path .build-xfer")
        for tool in (TIME_BIN, shutil.which("curl")):
            if not tool or not os.access(tool, os.X_OK):
                sys.exit(f"bench_transfer: {tool or 'curl'} is needed")
        self.work = os.path.abspath(args.work) if args.work else tempfile.mkdtemp(prefix="bench-xfer-")
        os.makedirs(self.work, exist_ok=True)
        self.logs = os.path.join(self.work, "logs")
        os.makedirs(self.logs, exist_ok=True)
        self.emu = None
        self.port = None
        self.results = {}  # case -> tool -> list of runs

    # ---- emulator

    def start_emulator(self):
        # No request log: writing it would count as the emulator's CPU time.
        self.emu = EmulatorProcess(self.logs, "--speed", "0", "--data-dir", os.path.join(self.work, "emulator-data"),
                                   log=False)
        try:
            self.port = self.emu.start().port
        except RuntimeError as error:
            sys.exit(f"bench_transfer: {error}")
        self.base = f"http://127.0.0.1:{self.port}/v1"
        log(f"emulator pid {self.emu.pid} on port {self.port}")

    def stop_emulator(self):
        if self.emu:
            self.emu.stop()

    def api(self, method, path):
        url = f"http://127.0.0.1:{self.port}{path}" if path.startswith("/_emulator") else self.base + path
        req = urllib.request.Request(url, method=method,
                                     headers={"Authorization": f"Bearer {KEY}"})
        with urllib.request.urlopen(req, timeout=120) as r:
            return json.loads(r.read() or b"null")

    def delete_file(self, fid):
        try:
            self.api("DELETE", f"/files/{fid}")
        except Exception as exc:  # best effort: only disk space is at stake
            log(f"could not delete {fid}: {exc}")

    # ---- data

    def tool_env(self, **extra):
        env = dict(os.environ)
        for name in ("BATCHLINE_MAX_BYTES", "BATCHLINE_MAX_REQUESTS", "BATCHLINE_PROVIDER",
                     "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "GROQ_API_KEY"):
            env.pop(name, None)
        env.update(OPENAI_API_KEY=KEY, NO_COLOR="1")
        if self.port:
            env["OPENAI_BASE_URL"] = self.base
        env.update(extra)
        return env

    def make_items(self, path, n, target_bytes):
        """n items whose requests under PROMPT come to about target_bytes."""
        rng = random.Random(20261127)
        sentences = []
        for _ in range(2000):
            words = [rng.choice(WORDS) for _ in range(rng.randint(8, 20))]
            sentences.append(" ".join(words).capitalize() + ".")
        per_line = target_bytes // n
        # A request line adds about 215 bytes to the name and description.
        categories = ["Deli", "Dairy & Eggs", "Bakery", "Pantry", "Frozen", "Drinks", "Snacks"]
        with open(path, "w", encoding="utf-8") as f:
            for i in range(1, n + 1):
                name = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} {rng.choice(WORDS)}, {rng.randint(1, 9) * 100} g"
                want = per_line - 215 - len(name) - len(str(i))
                parts, size = [], 0
                while size < want:
                    s = rng.choice(sentences)
                    parts.append(s)
                    size += len(s) + 1
                desc = " ".join(parts)[:want]
                f.write(json.dumps({"uuid": i, "name": name, "description": desc,
                                    "category": rng.choice(categories)}) + "\n")

    def prepare(self, run_dir, items, **env):
        os.makedirs(run_dir, exist_ok=True)
        link = os.path.join(run_dir, "items.jsonl")
        if not os.path.exists(link):
            os.link(items, link)
        with open(os.path.join(run_dir, "prompt.json"), "w") as f:
            json.dump(PROMPT, f, indent=2)
        self.run_cmd("prepare", [os.path.join(self.bin, "batch-prepare"), run_dir],
                     env=self.tool_env(**env))
        with open(os.path.join(run_dir, "status.json")) as f:
            ledger = json.load(f)
        # As prepare leaves a new run (prepare keeps an earlier ledger when
        # the request files come out the same, as with a reused --work).
        ledger.pop("base_url", None)
        for entry in ledger["files"]:
            for key in ("remote", "sha256", "upload_started_at", "is_remote_deleted"):
                entry["input_filename"].pop(key, None)
        with open(os.path.join(run_dir, "status.pristine.json"), "w") as f:
            json.dump(ledger, f, indent=2)
        return ledger

    def run_cmd(self, label, cmd, env=None, timed=False):
        err = os.path.join(self.logs, f"{label}.err")
        out = os.path.join(self.logs, f"{label}.out")
        tfile = os.path.join(self.logs, f"{label}.time")
        full = [TIME_BIN, "-v", "-o", tfile] + cmd if timed else cmd
        emu0 = proc_cpu(self.emu.pid) if self.emu else 0.0
        load0 = os.getloadavg()[0]
        with open(out, "wb") as o, open(err, "wb") as e:
            t0 = time.perf_counter()
            rc = subprocess.call(full, env=env or self.tool_env(), stdout=o, stderr=e)
            wall = time.perf_counter() - t0
        emu1 = proc_cpu(self.emu.pid) if self.emu else 0.0
        if rc != 0:
            with open(err, errors="replace") as f:
                tail = f.read()[-2000:]
            raise SystemExit(f"bench_transfer: {label}: exit {rc}: {' '.join(cmd)}\n{tail}")
        res = {"wall": wall, "emu_cpu": emu1 - emu0, "load1": load0}
        if timed:
            res.update(parse_time_v(tfile))
            res["cpu"] = res.get("user", 0) + res.get("sys", 0)
        res["out"] = out
        return res

    # ---- cases

    def setup(self):
        a = self.args
        self.items = os.path.join(self.work, "items.jsonl")
        if not os.path.exists(self.items):
            log(f"generating {a.items} items (~{a.target_mb} MB of requests)")
            self.make_items(self.items, a.items, a.target_mb * MB)
        # One ~200 MB file.
        self.big_dir = os.path.join(self.work, "big")
        ledger = self.prepare(self.big_dir, self.items)
        if len(ledger["files"]) != 1:
            raise SystemExit(f"bench_transfer: prepare made {len(ledger['files'])} files, not 1; "
                             "lower --target-mb")
        self.big_file = os.path.join(self.big_dir, "in", ledger["files"][0]["input_filename"]["local"])
        self.big_bytes = os.path.getsize(self.big_file)
        # Four ~50 MB files from the same items.
        self.four_dir = os.path.join(self.work, "four")
        per = -(-a.items // 4)
        ledger4 = self.prepare(self.four_dir, self.items, BATCHLINE_MAX_REQUESTS=str(per))
        if len(ledger4["files"]) != 4:
            raise SystemExit(f"bench_transfer: prepare made {len(ledger4['files'])} files, not 4")
        self.four_files = [os.path.join(self.four_dir, "in", f["input_filename"]["local"]) for f in ledger4["files"]]
        self.four_bytes = sum(os.path.getsize(p) for p in self.four_files)
        log(f"request files: 1 x {self.big_bytes:,} bytes; 4 files, {self.four_bytes:,} bytes")
        with open(self.big_file, "rb") as f:
            self.big_sha = hashlib.file_digest(f, "sha256").hexdigest()

    def reset_run(self, run_dir):
        """The ledger as prepare left it, pointed at this emulator."""
        shutil.copyfile(os.path.join(run_dir, "status.pristine.json"), os.path.join(run_dir, "status.json"))

    def uploaded_ids(self, run_dir):
        with open(os.path.join(run_dir, "status.json")) as f:
            ledger = json.load(f)
        ids = [f["input_filename"].get("remote") for f in ledger["files"]]
        if not all(ids):
            raise SystemExit(f"bench_transfer: batch-upload left files without an id in {run_dir}")
        return ids

    def curl_upload_cmd(self, path, resp):
        return ["curl", "-s", "-S", "-f", "-o", resp, "-F", "purpose=batch", "-F", f"file=@{path}",
                "-H", f"Authorization: Bearer {KEY}", f"{self.base}/files"]

    def record(self, case, tool, res, mbytes):
        res["bytes"] = mbytes
        self.results.setdefault(case, {}).setdefault(tool, []).append(res)
        log(f"  {case:<12} {tool:<34} {res['wall']:7.2f} s wall  {res.get('cpu', 0):6.2f} s cpu  "
            f"emu {res['emu_cpu']:6.2f} s  rss {res.get('rss_kib', 0) / 1024:6.1f} MiB  load {res['load1']:.2f}")

    def case_upload(self, rep):
        upload = os.path.join(self.bin, "batch-upload")
        self.reset_run(self.big_dir)
        res = self.run_cmd(f"a-upload-{rep}", [upload, self.big_dir], timed=True)
        (fid,) = self.uploaded_ids(self.big_dir)
        self.check_remote(fid, self.big_bytes, self.big_sha)
        self.record("a upload", "batch-upload", res, self.big_bytes)
        self.delete_file(fid)

        resp = os.path.join(self.logs, f"a-curl-{rep}.json")
        res = self.run_cmd(f"a-curl-{rep}", self.curl_upload_cmd(self.big_file, resp), timed=True)
        with open(resp) as f:
            fid = json.load(f)["id"]
        self.check_remote(fid, self.big_bytes, self.big_sha)
        self.record("a upload", "curl -F", res, self.big_bytes)
        self.delete_file(fid)

    def check_remote(self, fid, size, sha):
        state = self.api("GET", "/_emulator/state")
        for f in state["files"]:
            if f["id"] == fid:
                if f["bytes"] != size or (sha and f["sha256"] != sha):
                    raise SystemExit(f"bench_transfer: {fid} arrived with {f['bytes']} bytes / {f['sha256']}")
                return
        raise SystemExit(f"bench_transfer: {fid} not on the emulator")

    def setup_download(self):
        resp = os.path.join(self.logs, "b-source.json")
        self.run_cmd("b-source", self.curl_upload_cmd(self.big_file, resp))
        with open(resp) as f:
            self.dl_id = json.load(f)["id"]
        self.dl_dir = os.path.join(self.work, "download")
        os.makedirs(os.path.join(self.dl_dir, "out"), exist_ok=True)
        with open(os.path.join(self.big_dir, "status.pristine.json")) as f:
            ledger = json.load(f)
        ledger["base_url"] = self.base
        entry = ledger["files"][0]
        entry["input_filename"]["remote"] = self.dl_id
        entry["batch_id"] = "batch_benchtransfer0000000000000"
        entry["status"] = "completed"
        entry["output_filenames"] = {"ok": {"remote": self.dl_id}, "failed": {"remote": None}}
        with open(os.path.join(self.dl_dir, "status.pristine.json"), "w") as f:
            json.dump(ledger, f, indent=2)

    def case_download(self, rep):
        out = os.path.join(self.dl_dir, "out", "batch_001.jsonl")
        if os.path.exists(out):
            os.unlink(out)
        self.reset_run(self.dl_dir)
        res = self.run_cmd(f"b-download-{rep}", [os.path.join(self.bin, "batch-download"), self.dl_dir], timed=True)
        self.check_local(out)
        self.record("b download", "batch-download", res, self.big_bytes)
        os.unlink(out)

        url = f"{self.base}/files/{self.dl_id}/content"
        res = self.run_cmd(f"b-curl-{rep}", ["curl", "-s", "-S", "-f", "-o", out, "-H",
                                             f"Authorization: Bearer {KEY}", url], timed=True)
        self.check_local(out)
        self.record("b download", "curl -o", res, self.big_bytes)
        os.unlink(out)

        res = self.run_cmd(f"b-curlsync-{rep}", ["sh", "-c", 'curl -s -S -f -o "$1" -H "$2" "$3" && sync "$1"',
                                                 "sh", out, f"Authorization: Bearer {KEY}", url], timed=True)
        self.check_local(out)
        self.record("b download", "curl -o + sync FILE", res, self.big_bytes)
        os.unlink(out)

    def check_local(self, path):
        if os.path.getsize(path) != self.big_bytes:
            raise SystemExit(f"bench_transfer: {path} has {os.path.getsize(path)} bytes")
        with open(path, "rb") as f:
            if hashlib.file_digest(f, "sha256").hexdigest() != self.big_sha:
                raise SystemExit(f"bench_transfer: {path} differs from the uploaded file")

    def case_four(self, rep):
        self.reset_run(self.four_dir)
        res = self.run_cmd(f"c-upload-{rep}", [os.path.join(self.bin, "batch-upload"), self.four_dir], timed=True)
        ids = self.uploaded_ids(self.four_dir)
        for fid, path in zip(ids, self.four_files):
            self.check_remote(fid, os.path.getsize(path), None)
        self.record("c 4 x 50 MB", "batch-upload (3 at once)", res, self.four_bytes)
        for fid in ids:
            self.delete_file(fid)

        for mode in ("sequential", "concurrent"):
            resps = [os.path.join(self.logs, f"c-curl-{mode}-{rep}-{i}.json") for i in range(4)]
            cmds = [" ".join(shlex.quote(x) for x in self.curl_upload_cmd(p, r))
                    for p, r in zip(self.four_files, resps)]
            script = " && ".join(cmds) if mode == "sequential" else " & ".join(cmds) + " & wait"
            res = self.run_cmd(f"c-curl-{mode}-{rep}", ["sh", "-c", script], timed=True)
            ids = []
            for r in resps:
                with open(r) as f:
                    ids.append(json.load(f)["id"])
            for fid, path in zip(ids, self.four_files):
                self.check_remote(fid, os.path.getsize(path), None)
            self.record("c 4 x 50 MB", f"4 curls, {mode}", res, self.four_bytes)
            for fid in ids:
                self.delete_file(fid)

    # ---- where batch-upload and batch-download spend their time

    def sample_fds(self, cmd, interval=0.005):
        """Runs cmd (no time wrapper) and samples its open files every interval.

        Returns (wall, samples): samples are (t, {path: (flags, pos)}) with t
        from the start. Reading /proc/PID/fd and fdinfo is all it does: the
        tool runs untraced (strace slowed libcurl's transfers 30-fold here).
        """
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=self.tool_env(), stdout=subprocess.DEVNULL,
                                stderr=open(os.path.join(self.logs, "phases.err"), "ab"))
        samples = []
        fd_dir = f"/proc/{proc.pid}/fd"
        while proc.poll() is None:
            t = time.perf_counter() - t0
            seen = {}
            try:
                for fd in os.listdir(fd_dir):
                    try:
                        target = os.readlink(f"{fd_dir}/{fd}")
                        if target.startswith("socket:"):
                            seen["socket"] = (0, 0)
                            continue
                        if not target.startswith("/"):
                            continue
                        with open(f"/proc/{proc.pid}/fdinfo/{fd}") as f:
                            info = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
                        seen[target] = (int(info["flags"].strip(), 8), int(info["pos"].strip()))
                    except (OSError, KeyError, ValueError):
                        pass
            except OSError:
                pass
            samples.append((t, seen))
            time.sleep(interval)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"bench_transfer: {' '.join(cmd)} exited {proc.returncode}; see {self.logs}/phases.err")
        samples.append((wall, {}))
        return wall, samples

    @staticmethod
    def spans(samples, classify):
        """{phase: [first seen, last seen]} from samples classified one by one."""
        out = {}
        for t, seen in samples:
            phase = classify(seen)
            if phase:
                span = out.setdefault(phase, [t, t])
                span[1] = t
        return out

    def phases(self):
        name = os.path.basename(self.big_file)
        self.reset_run(self.big_dir)
        wall, samples = self.sample_fds([os.path.join(self.bin, "batch-upload"), self.big_dir])
        (fid,) = self.uploaded_ids(self.big_dir)
        self.delete_file(fid)

        def upload_phase(seen):
            # The request file is read twice: hashed before any connection,
            # then sent as the middle of the multipart body.
            if any(os.path.basename(p) == "batch_001.jsonl" for p in seen):
                return "HTTP transfer and answer, the file read as it goes out" if "socket" in seen else "SHA-256 of the file"
            return None
        up = self.spans(samples, upload_phase)

        out = os.path.join(self.dl_dir, "out", "batch_001.jsonl")
        if os.path.exists(out):
            os.unlink(out)
        self.reset_run(self.dl_dir)
        dwall, dsamples = self.sample_fds([os.path.join(self.bin, "batch-download"), self.dl_dir])
        self.check_local(out)
        os.unlink(out)
        tmp = os.path.realpath(tempfile.gettempdir())

        def download_phase(seen):
            for p in seen:
                if p.endswith("batch_001.jsonl.part"):
                    return "HTTP transfer into the .part, and its fsync"
                if p == out:
                    return "count the lines"
            if any(os.path.basename(os.path.dirname(p)) == ".incoming" for p in seen):
                return "HTTP transfer to out/.incoming"
            if any(os.path.dirname(p) == tmp or "CFNetworkDownload" in p for p in seen):
                return "HTTP transfer to $TMPDIR"
            return None
        down = self.spans(dsamples, download_phase)

        ref = {}
        t = time.perf_counter()
        with open(self.big_file, "rb") as f:
            hashlib.file_digest(f, "sha256")
        ref["python hashlib.sha256 (OpenSSL)"] = time.perf_counter() - t
        if shutil.which("sha256sum"):
            t = time.perf_counter()
            subprocess.run(["sha256sum", self.big_file], stdout=subprocess.DEVNULL, check=True)
            ref["sha256sum (coreutils)"] = time.perf_counter() - t
        t = time.perf_counter()
        subprocess.run(["cat", self.big_file], stdout=subprocess.DEVNULL, check=True)
        ref["cat FILE > /dev/null"] = time.perf_counter() - t
        return {"upload": (wall, up), "download": (dwall, down), "reference": ref}

    # ---- report

    def report(self, ph):
        rows = []
        curl_ref = {"a upload": "curl -F", "b download": "curl -o", "c 4 x 50 MB": "4 curls, sequential"}
        for case, tools in self.results.items():
            ref = statistics.median(r["wall"] for r in tools[curl_ref[case]])
            for tool, runs in tools.items():
                wall = statistics.median(r["wall"] for r in runs)
                cpu = statistics.median(r["cpu"] for r in runs)
                emu = statistics.median(r["emu_cpu"] for r in runs)
                rss = max(r["rss_kib"] for r in runs) / 1024
                mbytes = runs[0]["bytes"] / MB
                rows.append((case, tool, mbytes, wall, min(r["wall"] for r in runs), max(r["wall"] for r in runs),
                             cpu, emu, mbytes / wall, rss, wall / ref))
        head = ("| case | client | MB | wall s (median; min–max) | client CPU s | emulator CPU s | MB/s "
                "| peak RSS MiB | wall ÷ curl's |")
        lines = [head, "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for case, tool, mbytes, wall, lo, hi, cpu, emu, rate, rss, ratio in rows:
            lines.append(f"| {case} | {tool} | {mbytes:.1f} | {wall:.2f} ({lo:.2f}–{hi:.2f}) | {cpu:.2f} | "
                         f"{emu:.2f} | {rate:.0f} | {rss:.1f} | {ratio:.2f} |")
        print("\n".join(lines))
        print()
        for case, tool in (("a upload", "batch-upload"), ("b download", "batch-download")):
            rss = max(r["rss_kib"] for r in self.results[case][tool]) / 1024
            verdict = "PASS" if rss <= RSS_LIMIT_MIB else "FAIL"
            print(f"{verdict}: {tool} peak RSS {rss:.1f} MiB moving {self.big_bytes / MB:.1f} MB "
                  f"(limit {RSS_LIMIT_MIB} MiB)")
        if ph:
            for tool, key in (("batch-upload", "upload"), ("batch-download", "download")):
                wall, spans = ph[key]
                print()
                print(f"{tool} of {self.big_bytes / MB:.1f} MB, open files sampled every 5 ms "
                      f"({wall:.2f} s wall in that run):")
                print("| phase | from s | to s | s | MB/s |")
                print("|---|---:|---:|---:|---:|")
                for k, (a, b) in sorted(spans.items(), key=lambda kv: kv[1][0]):
                    d = b - a
                    rate = f"{self.big_bytes / MB / d:.0f}" if d > 0.02 else ""
                    print(f"| {k} | {a:.2f} | {b:.2f} | {d:.2f} | {rate} |")
            print()
            print("| reference, same file | s | MB/s |")
            print("|---|---:|---:|")
            for k, v in ph["reference"].items():
                print(f"| {k} | {v:.2f} | {self.big_bytes / MB / v:.0f} |")
        self.summary = {"rows": rows, "phases": ph}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default=os.path.join(ROOT, ".build-xfer", "release"))
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--items", type=int, default=49_000, help="requests in the big file (<= 50,000)")
    p.add_argument("--target-mb", type=int, default=199, help="size of the big file, MB (< 200)")
    p.add_argument("--work", help="scratch directory (default: a new one in $TMPDIR)")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory")
    p.add_argument("--no-phases", action="store_true",
                   help="skip the phase timelines of batch-upload and batch-download")
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args()

    bench = Bench(args)
    info = machine()
    load_before = os.getloadavg()
    log(f"scratch: {bench.work}")
    try:
        bench.start_emulator()
        bench.setup()
        bench.setup_download()
        for rep in range(args.repeat):
            log(f"run {rep + 1} of {args.repeat}")
            bench.case_upload(rep)
            bench.case_download(rep)
            bench.case_four(rep)
        ph = None if args.no_phases else bench.phases()
        load_after = os.getloadavg()
        print(f"machine: {info['nproc']} CPUs, {info['cpu']}, {info['memory']}, Linux {info['kernel']}; {info['date']}")
        print("load average before: " + ", ".join(f"{x:.2f}" for x in load_before)
              + "; after: " + ", ".join(f"{x:.2f}" for x in load_after))
        print(f"emulator: scripts/emulator.py --speed 0 on 127.0.0.1 (Python {sys.version.split()[0]}); "
              f"{args.repeat} runs each; MB = 10^6 bytes")
        print()
        bench.report(ph)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"machine": info, "load_before": load_before, "load_after": load_after,
                           "results": bench.results, "summary": bench.summary}, f, indent=1, default=str)
    finally:
        bench.stop_emulator()
        if not args.keep:
            shutil.rmtree(bench.work, ignore_errors=True)


if __name__ == "__main__":
    main()
