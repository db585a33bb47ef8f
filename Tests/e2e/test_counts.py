#!/usr/bin/env python3
"""One count: make status, wait's total line and merge report the same
answered, failed and retryable items after an expired batch, a failed
batch and per-request errors.

usage: python3 Tests/e2e/test_counts.py BIN_DIR [unittest options]
"""

import re
import sys

import support
from support import E2ETest

ITEMS_RE = re.compile(r"(\d+) answered, (\d+) failed \((\d+) retryable(?:, (\d+) to classify once downloaded)?\)")
MERGE_FAILED_RE = re.compile(r"(\d+) of (\d+) items failed .*?; (?:(\d+) can be retried|none can be retried)")


class TestCounts(E2ETest):
    def counts_agree(self, emulator, **faults):
        run = self.new_run(count=200)
        env = self.env(emulator, BATCHLINE_MAX_REQUESTS=50)
        emulator.config(**faults)
        out, err = self.make("merged", "BATCH=%s" % run, env=env)
        merge = MERGE_FAILED_RE.search(err)
        self.assertIsNotNone(merge, err)
        failed, items = int(merge.group(1)), int(merge.group(2))
        retryable = int(merge.group(3) or 0)
        merged = (items - failed, failed, retryable)
        self.assertGreater(failed, 0)
        waited = [m.groups() for m in ITEMS_RE.finditer(err)]
        self.assertTrue(waited, "wait's total line: " + err)
        # wait runs before the error files are downloaded: their lines are
        # classified then, and until then counted apart.
        answered_w, failed_w, retryable_w, unclassified = waited[-1]
        self.assertEqual((int(answered_w), int(failed_w)), merged[:2], "wait's total line against merge")
        self.assertLessEqual(int(retryable_w), retryable)
        self.assertLessEqual(retryable, int(retryable_w) + int(unclassified or 0))
        out, err = self.make("status", "BATCH=%s" % run, env=env)
        status = ITEMS_RE.search(out + err)
        self.assertIsNotNone(status, out + err)
        self.assertIsNone(status.group(4))
        self.assertEqual(tuple(map(int, status.groups()[:3])), merged, "make status against merge")
        self.assertIn("of 200 items", out + err)
        return merged

    def test_an_expired_batch(self):
        emulator = self.start_emulator(speed=0.2)
        answered, failed, retryable = self.counts_agree(emulator, expire_count=1, expire_after_fraction=0.5)
        self.assertEqual(failed, retryable, "expired requests can be retried")

    def test_a_failed_batch_and_per_request_errors(self):
        emulator = self.start_emulator()
        answered, failed, retryable = self.counts_agree(
            emulator, fail_batch_count=1, request_error_rate=0.2, request_error_codes=[500, 400])
        self.assertLess(retryable, failed, "a 400 and a failed batch are final")


if __name__ == "__main__":
    sys.exit(support.main(sys.modules[__name__]))
