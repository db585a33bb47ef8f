#!/usr/bin/env python3
"""Every end-to-end test (each Tests/e2e/test_*.py) in one run, in worker
processes side by side (see runner.py):

    python3 Tests/e2e/all.py .build/release [-j JOBS] [-k PATTERN]... [-f] [TEST_NAME]...
"""

import sys

import runner

if __name__ == "__main__":
    sys.exit(runner.main())
