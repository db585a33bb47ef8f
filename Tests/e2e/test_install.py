#!/usr/bin/env python3
"""The installed tools, end to end, with no Swift toolchain in reach.

`make install` (into a DESTDIR) and `make dist` (unpacked elsewhere) each
give a tree of tools, libraries and manual pages. With the toolchain's
directory hidden under an empty tmpfs in a private mount namespace
(unshare -m, which needs root, as on CI), the tools of both trees run
make demo's run: the tracked sample through every step, against the
project's emulator, with `make merged cleaned BIN=<tree>/bin`. The tests
also check that the two trees are the same, that no tool or library
names the toolchain, that the eight tools with their libraries take at
most 120 MB, and that every manual page renders without a warning and
says what the tool's --help says.

usage: python3 Tests/e2e/test_install.py [BIN_DIR] [unittest options]

BIN_DIR (default .build/release) holds the development build: its tools
load the toolchain's libraries, so they must fail where the toolchain is
hidden, which shows that the hiding works.
"""

import filecmp
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest

from support import REPO, sample_run, start_emulator, tool_env

TOOLS = ["batch-prepare", "batch-upload", "batch-create", "batch-wait",
         "batch-download", "batch-sort", "batch-merge", "batch-cleanup"]
SIZE_LIMIT = 120 * 10**6
DEV_BIN = ".build/release"


def toolchain():
    """(the toolchain's Swift library directory, the directory to hide):
    the whole toolchain where its layout allows, else the libraries."""
    info = subprocess.run([os.environ.get("SWIFT", "swift"), "-print-target-info"],
                          capture_output=True, text=True, check=True)
    runtime = os.path.normpath(json.loads(info.stdout)["paths"]["runtimeLibraryPaths"][0])
    suffix = "/usr/lib/swift/linux"
    root = runtime[:-len(suffix)] if runtime.endswith(suffix) else ""
    return runtime, root or runtime


RUNTIME, HIDDEN = toolchain()


def environment(**extra):
    """The caller's environment without a surrounding make's flags."""
    env = {name: value for name, value in os.environ.items()
           if name not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    env.update(extra)
    return env


def hidden(argv, env=None, timeout=300):
    """Runs argv with the toolchain's directory hidden; returns the
    CompletedProcess (text)."""
    wrapper = ["unshare", "-m", "--propagation", "private", "sh", "-c",
               'mount -t tmpfs none "$0" && exec "$@"', HIDDEN]
    return subprocess.run(wrapper + list(argv), capture_output=True, text=True,
                          env=env or environment(), timeout=timeout)


def make(*args, timeout=600):
    result = subprocess.run(["make", "--no-print-directory", "-C", REPO, *args], capture_output=True,
                            text=True, env=environment(), timeout=timeout)
    if result.returncode != 0:
        raise AssertionError("make %s exited %d:\n%s%s" % (
            " ".join(args), result.returncode, result.stdout[-3000:], result.stderr[-3000:]))
    return result.stdout


def files(root):
    """Every file under root, by its path relative to root."""
    found = set()
    for directory, _, names in os.walk(root):
        found.update(os.path.relpath(os.path.join(directory, name), root) for name in names)
    return found


class InstallTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="batchline-install-")
        try:
            cls.prefix = os.path.join(cls.work, "dest", "usr", "local")
            make("install", "DESTDIR=" + os.path.join(cls.work, "dest"), "PREFIX=/usr/local")
            dist = os.path.join(cls.work, "dist")
            os.mkdir(dist)
            make("dist", "DISTDIR=" + dist)
            archives = os.listdir(dist)
            if len(archives) != 1:
                raise AssertionError("make dist left %s in DISTDIR" % archives)
            cls.archive = os.path.join(dist, archives[0])
            with tarfile.open(cls.archive) as archive:
                cls.members = archive.getnames()
                archive.extractall(os.path.join(cls.work, "unpacked"), filter="tar")
            cls.unpacked = os.path.join(cls.work, "unpacked", cls.members[0].split("/")[0])
        except BaseException:
            shutil.rmtree(cls.work, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def trees(self):
        return {"make install": self.prefix, "make dist": self.unpacked}

    def test_archive_is_named_after_the_version_and_holds_the_install(self):
        version = subprocess.run([os.path.join(self.prefix, "bin", "batch-prepare"), "--version"],
                                 capture_output=True, text=True, check=True).stdout.split()[-1]
        name = "batchline-%s-linux-%s" % (version, platform.machine())
        self.assertEqual(os.path.basename(self.archive), name + ".tar.gz")
        self.assertTrue(all(member == name or member.startswith(name + "/") for member in self.members),
                        "every member under one directory %s/" % name)
        installed = files(self.prefix)
        self.assertEqual(files(self.unpacked), installed | {"README.md", "LICENSE"})
        self.assertEqual({path for path in installed if path.startswith("bin/")},
                         {"bin/" + tool for tool in TOOLS})
        self.assertEqual({path for path in installed if path.startswith("share/")},
                         {"share/man/man1/%s.1" % tool for tool in TOOLS} | {"share/man/man7/batchline.7"})
        different = [path for path in sorted(installed) if not filecmp.cmp(
            os.path.join(self.prefix, path), os.path.join(self.unpacked, path), shallow=False)]
        self.assertEqual(different, [])
        for path in ("README.md", "LICENSE"):
            self.assertTrue(filecmp.cmp(os.path.join(REPO, path), os.path.join(self.unpacked, path),
                                        shallow=False), path)

    def test_eight_tools_and_their_libraries_take_at_most_120_mb(self):
        for what, root in self.trees().items():
            size = sum(os.path.getsize(os.path.join(root, path)) for path in files(root)
                       if path.startswith(("bin/", "lib/")))
            self.assertLessEqual(size, SIZE_LIMIT, "%s: %d bytes" % (what, size))

    def test_nothing_names_the_toolchain(self):
        for what, root in self.trees().items():
            binaries = [os.path.join(root, "bin", tool) for tool in TOOLS]
            binaries += [os.path.join(root, "lib", "batchline", name)
                         for name in sorted(os.listdir(os.path.join(root, "lib", "batchline")))]
            for binary in binaries:
                dynamic = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True,
                                         check=True).stdout
                self.assertIn("NEEDED", dynamic, binary)
                paths = re.findall(r"\((?:RPATH|RUNPATH)\)\s+Library r(?:un)?path: \[(.*)\]", dynamic)
                if "/bin/" in binary:
                    self.assertEqual(paths, ["$ORIGIN/../lib/batchline"], "%s: %s" % (what, binary))
                else:
                    self.assertIn(paths, ([], ["$ORIGIN"]), "%s: %s" % (what, binary))
                # With the toolchain in place, the loader must still take
                # every library from the tree or the system.
                libraries = subprocess.run(["ldd", binary], capture_output=True, text=True,
                                           check=True).stdout
                self.assertNotIn(HIDDEN + "/", libraries, binary)
                self.assertNotIn("not found", libraries, binary)

    def test_installed_tools_run_the_demo_without_the_toolchain(self):
        gone = hidden(["test", "!", "-e", os.path.join(RUNTIME, "libswiftCore.so")])
        self.assertEqual(gone.returncode, 0, "the toolchain's runtime is still in reach")
        dev_tool = os.path.join(REPO, DEV_BIN, "batch-merge")
        if os.path.exists(dev_tool):
            # The hiding works: a tool that needs the toolchain cannot start.
            refused = hidden([dev_tool, "--version"])
            self.assertNotEqual(refused.returncode, 0)
            self.assertIn("libswiftCore.so", refused.stderr)
        for what, root in self.trees().items():
            with self.subTest(what):
                self.demo(os.path.join(root, "bin"), what.split()[-1])

    def demo(self, bin_dir, name):
        version = hidden([os.path.join(bin_dir, "batch-prepare"), "--version"])
        self.assertEqual(version.returncode, 0, version.stderr)
        self.assertRegex(version.stdout, r"^batch-prepare \d+\.\d+\.\d+\n$")
        work = os.path.join(self.work, "demo-" + name)
        os.mkdir(work)
        emulator = start_emulator(work, speed=0.05)
        try:
            run = sample_run(work, "run")
            env = tool_env(emulator)
            result = hidden(["make", "--no-print-directory", "-C", REPO, "merged", "cleaned",
                             "BATCH=" + run, "POLL=1", "BIN=" + bin_dir], env=env)
            self.assertEqual(result.returncode, 0, result.stdout[-3000:] + result.stderr[-3000:])
            self.assertNotIn("swift build", result.stdout)
            self.assertRegex(result.stdout, r"(?m)^price: \d+\.\d+ USD; items: 1000; ")
            with open(os.path.join(run, "items.jsonl"), "rb") as items, \
                    open(os.path.join(run, "items_classified.jsonl"), "rb") as merged:
                item_lines, merged_lines = items.read().splitlines(), merged.read().splitlines()
            self.assertEqual(len(merged_lines), len(item_lines))
            for item, line in zip(item_lines, merged_lines):
                # Each item's own bytes, then a non-empty answer.
                self.assertTrue(line.startswith(item.rstrip()[:-1]), line[:200])
                answer = json.loads(line)["llm"]
                self.assertIsInstance(answer, str)
                self.assertTrue(answer)
            actions = [entry.get("action") for entry in emulator.log()]
            self.assertIn("file.delete", actions, "make cleaned deleted the run's files")
        finally:
            emulator.stop()

    def test_manual_pages_render_without_warnings(self):
        env = environment(MANWIDTH="200", MANPAGER="cat", PAGER="cat", LC_ALL="C.UTF-8")
        if shutil.which("man") is None:
            self.fail("man is not installed (apt-get install man-db groff; .ci/run does it)")
        pages = os.path.join(self.prefix, "share", "man")
        for tool in TOOLS + ["batchline"]:
            page = os.path.join(pages, "man7/batchline.7" if tool == "batchline" else "man1/%s.1" % tool)
            with self.subTest(tool):
                utf8 = subprocess.run(["man", "--warnings=all", "-E", "UTF-8", "-l", page],
                                      capture_output=True, text=True, env=env)
                self.assertEqual((utf8.returncode, utf8.stderr), (0, ""))
                # man finds the page by name where the tools are installed.
                by_name = subprocess.run(["man", "-M", pages, "-E", "ascii", tool],
                                         capture_output=True, text=True, env=env)
                self.assertEqual((by_name.returncode, by_name.stderr), (0, ""))
                self.assertIn("NAME", by_name.stdout)
                if tool != "batchline":
                    self.assert_says_the_help(tool, by_name.stdout)
        overview = subprocess.run(["man", "-M", pages, "-E", "ascii", "7", "batchline"],
                                  capture_output=True, text=True, env=env).stdout
        for heading in ("THE RUN DIRECTORY", "THE TEMPLATE", "MAKE TARGETS"):
            self.assertIn(heading, overview)
        for target in ("merged", "cleaned", "retry", "status", "install", "dist"):
            self.assertIn("make " + target, overview)

    def assert_says_the_help(self, tool, rendered):
        """Every paragraph of the tool's --help is in its page, word for word."""
        help_text = subprocess.run([os.path.join(self.prefix, "bin", tool), "--help"],
                                   capture_output=True, text=True, check=True).stdout
        page = " ".join(rendered.split())
        paragraphs = help_text.strip().split("\n\n")
        name, summary = paragraphs[0].split(" - ", 1)
        self.assertIn("%s - %s" % (name, summary), page)
        for paragraph in paragraphs[1:]:
            paragraph = paragraph.replace("usage:", "").replace("Exit status:", "")
            self.assertIn(" ".join(paragraph.split()), page)


def main():
    global DEV_BIN
    options = sys.argv[1:]
    if options and not options[0].startswith("-"):
        DEV_BIN = options.pop(0)
    unittest.main(argv=sys.argv[:1] + options, verbosity=2)


if __name__ == "__main__":
    main()
