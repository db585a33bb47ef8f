#!/usr/bin/env python3
"""The manual pages, made from what the tools and the Makefile already say,
so that nothing is written twice. Python 3 standard library only.

    python3 scripts/manpage.py tool BIN/batch-merge > batch-merge.1
    python3 scripts/manpage.py overview man/batchline.7.in Makefile BIN/batch-merge > batchline.7

`tool` runs the tool with --help and --version and turns the help text
into a page: its first line ("name - summary") is NAME, the "usage:"
paragraph SYNOPSIS, the "Exit status:" paragraph EXIT STATUS, the rest
DESCRIPTION. `overview` fills the hand-written batchline(7): @VERSION@
with the tool's version and @TARGETS@ with the Makefile's "## target
text" lines (the ones `make help` prints).
"""

import os
import re
import subprocess
import sys

TOOLS = ["batch-prepare", "batch-upload", "batch-create", "batch-wait",
         "batch-download", "batch-sort", "batch-merge", "batch-cleanup"]

# An option as the help texts write them: --retry, -o; not a hyphenated word.
OPTION = re.compile(r"(?<![\w-])(--?[a-z][a-z-]*)")


def escape(text):
    """Text as roff reads it literally: backslashes, hyphens (as minus
    signs, so that options can be searched and pasted) and anything beyond
    ASCII."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "".join(ch if ord(ch) < 128 else "\\[u%04X]" % ord(ch) for ch in text)


def marked(text):
    """Escaped text with each option in bold."""
    pieces = OPTION.split(text)
    return "".join("\\fB%s\\fR" % escape(piece) if index % 2 else escape(piece)
                   for index, piece in enumerate(pieces))


def text_lines(lines):
    """Filled text lines; one that starts like a request is protected."""
    return ["\\&" + line if line.startswith((".", "'")) else line for line in lines]


def output(argv):
    result = subprocess.run(argv, capture_output=True, text=True, check=True)
    return result.stdout


def version_of(tool):
    """The version the tool prints: "batch-merge 0.1.0" -> "0.1.0"."""
    return output([tool, "--version"]).split()[-1]


def tool_page(tool):
    name = os.path.basename(tool)
    paragraphs = [block.strip("\n").split("\n")
                  for block in output([tool, "--help"]).strip("\n").split("\n\n")]
    title, summary = paragraphs[0][0].split(" - ", 1)
    if title != name:
        sys.exit("manpage: %s --help starts with '%s', not its name" % (tool, title))

    page = ['.TH %s 1 "" "batchline %s" "batchline manual"' % (escape(name.upper()), version_of(tool)),
            # Left-aligned and unhyphenated: paths and variable names stay whole.
            ".ad l", ".nh", ".SH NAME", "%s \\- %s" % (escape(name), escape(summary)),
            ".SH SYNOPSIS", ".nf"]
    description, exit_status = [], []
    for lines in paragraphs[1:]:
        if lines[0].startswith("usage:"):
            for line in lines:
                line = line.strip()
                line = line[len("usage:"):].strip() if line.startswith("usage:") else line
                words = line.split(" ", 1)
                page.append("\\fB%s\\fR%s" % (escape(words[0]), " " + marked(words[1]) if len(words) > 1 else ""))
        elif lines[0].startswith("Exit status:"):
            lines[0] = lines[0][len("Exit status:"):].strip()
            exit_status += [".PP"] + text_lines([marked(line.strip()) for line in lines if line.strip()])
        else:
            description += [".PP"] + text_lines([marked(line.strip()) for line in lines])
    page.append(".fi")
    page += [".SH DESCRIPTION"] + description[1:]
    if exit_status:
        page += [".SH EXIT STATUS"] + exit_status[1:]
    others = [other for other in TOOLS if other != name]
    page += [".SH SEE ALSO", ".BR batchline (7),"]
    page += [".BR %s (1)%s" % (escape(other), "," if index < len(others) - 1 else "")
             for index, other in enumerate(others)]
    return "\n".join(page) + "\n"


def targets(makefile):
    """The Makefile's documented targets as a roff list."""
    lines = []
    with open(makefile) as source:
        for line in source:
            match = re.match(r"## (\S+)\s+(.*)", line.rstrip("\n"))
            if match:
                lines += [".TP", "\\fBmake %s\\fR" % escape(match.group(1)), marked(match.group(2))]
    return lines


def overview_page(template, makefile, tool):
    page = []
    with open(template) as source:
        for line in source.read().splitlines():
            if line == "@TARGETS@":
                page += targets(makefile)
            else:
                page.append(line.replace("@VERSION@", version_of(tool)))
    return "\n".join(page) + "\n"


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "tool":
        sys.stdout.write(tool_page(sys.argv[2]))
    elif len(sys.argv) == 5 and sys.argv[1] == "overview":
        sys.stdout.write(overview_page(*sys.argv[2:]))
    else:
        sys.exit(__doc__.split("\n\n")[1])


if __name__ == "__main__":
    main()
