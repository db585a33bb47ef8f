#!/usr/bin/env python3
"""Every end-to-end test (each Tests/e2e/test_*.py) in one run:

    python3 Tests/e2e/all.py .build/release [unittest options, e.g. -k Corpus]
"""

import sys

import support

if __name__ == "__main__":
    sys.exit(support.main())
