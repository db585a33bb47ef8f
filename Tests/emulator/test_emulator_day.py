#!/usr/bin/env python3
"""Tests of the emulator's conditions for a real day, unusable answers and a
hostile server (issues 10, 11, 12): python3 Tests/emulator/test_emulator_day.py [-v]

The emulator runs as a subprocess (scripts/emulator.py, found by path); the
process and HTTP helpers are those of the emulator's main self-tests, which
live next to this file or, before their move, in scripts/.
"""

import base64
import http.client
import json
import os
import socket
import struct
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [HERE, os.path.join(ROOT, "scripts")]
from test_emulator import KEY, EmulatorTest, chat_lines  # noqa: E402


def lines_of(endpoint, bodies, prefix="req"):
    """A JSONL input file: one request per body, custom_ids prefix-0, prefix-1, ..."""
    return b"".join(json.dumps({"custom_id": f"{prefix}-{i}", "method": "POST", "url": endpoint,
                                "body": body}).encode() + b"\n"
                    for i, body in enumerate(bodies))


class DayTest(EmulatorTest):
    def stats(self):
        return self.emu.json("GET", "/_emulator/stats", auth=False)[1]

    def test_long_in_progress_counts_creep(self):
        self.emu.config(speed=1.0, validating_seconds=0.05, in_progress_seconds=1.5,
                        per_request_seconds=0, finalizing_seconds=0.3)
        f = self.upload_ok(chat_lines(100))
        b = self.emu.create(f["id"])[1]
        seen = []
        deadline = time.time() + 10
        while time.time() < deadline:
            obj = self.emu.json("GET", "/v1/batches/" + b["id"])[1]
            seen.append((obj["status"], obj["request_counts"]["completed"]))
            if obj["status"] == "completed":
                break
            time.sleep(0.1)
        statuses = [s for s, _ in seen]
        self.assertEqual(statuses[-1], "completed")
        self.assertIn("finalizing", statuses)
        creeping = [c for s, c in seen if s == "in_progress"]
        self.assertGreaterEqual(len(set(creeping)), 5, seen)
        self.assertEqual(creeping, sorted(creeping))
        self.assertTrue(all(0 <= c < 100 for c in creeping))
        stats = self.stats()
        self.assertEqual(stats["batch_reads"], {b["id"]: len(seen)})
        self.assertEqual(stats["batch_reads_total"], len(seen))
        self.assertEqual(stats["actions"]["batch.create"], 1)
        self.emu.json("POST", "/_emulator/reset", auth=False)
        self.assertEqual(self.stats()["batch_reads_total"], 0)

    def test_held_tokens_refuse_at_validation_then_free(self):
        # 100 requests of 20 tokens: 2,000 tokens fit in 20,000 but not in the
        # 5% another job leaves free for 1.5 s.
        self.emu.config(enqueued_token_limit={"gpt-4o-mini": 20000}, held_share=0.95,
                        held_seconds=1.5)
        started = time.time()
        f = self.upload_ok(chat_lines(100))
        b = self.run_batch(chat_lines(100))
        self.assertEqual(b["status"], "failed")
        err = b["errors"]["data"][0]
        self.assertEqual(err["code"], "token_limit_exceeded")
        self.assertIn("Limit: 20,000 enqueued tokens.", err["message"])
        small = self.run_batch(chat_lines(5, prefix="s"))
        self.assertEqual(small["status"], "completed")  # 100 tokens fit next to the hold
        time.sleep(max(0, started + 1.6 - time.time()))
        status, again = self.emu.create(f["id"])
        self.assertEqual(status, 200)
        self.assertEqual(self.emu.wait(again["id"])["status"], "completed")

    def test_held_tokens_refuse_at_create(self):
        self.emu.config(enqueued_token_limit=20000, held_share=0.95, held_seconds=30,
                        token_limit_at_create=400)
        f = self.upload_ok(chat_lines(100))
        status, obj = self.emu.create(f["id"])
        self.assertEqual(status, 400)
        self.assertEqual(obj["error"]["code"], "token_limit_exceeded")
        self.assertIn("Limit: 20,000 enqueued tokens.", obj["error"]["message"])
        self.assertEqual(self.emu.state()["batches"], [])
        self.emu.config(held_share=0)
        self.assertEqual(self.emu.create(f["id"])[0], 200)

    def test_enqueued_request_limit(self):
        self.emu.config(speed=1.0, validating_seconds=0, in_progress_seconds=5,
                        enqueued_request_limit={"text-embedding-3-small": 150})
        body = {"model": "text-embedding-3-small", "input": "apple"}
        first = self.run_batch_until(lines_of("/v1/embeddings", [body] * 100, "a"),
                                     "/v1/embeddings")
        self.assertEqual(first["status"], "in_progress")
        second = self.run_batch_until(lines_of("/v1/embeddings", [body] * 100, "b"),
                                      "/v1/embeddings")
        self.assertEqual(second["status"], "failed")
        err = second["errors"]["data"][0]
        self.assertEqual(err["code"], "request_limit_exceeded")
        self.assertEqual(err["message"], "Enqueued request limit reached for "
                         "text-embedding-3-small in organization org-emulator. Limit: 150 "
                         "enqueued requests.")
        self.assertNotIn("tokens", err["message"])

    def run_batch_until(self, content, endpoint):
        f = self.upload_ok(content)
        b = self.emu.create(f["id"], endpoint)[1]
        return self.emu.wait(b["id"], ("failed", "in_progress", "completed"))

    def test_cancel_partial_results_match_counts(self):
        self.emu.config(speed=1.0, validating_seconds=0.05, in_progress_seconds=0,
                        per_request_seconds=0.01, cancelling_seconds=0.5)
        f = self.upload_ok(chat_lines(200))
        b = self.emu.create(f["id"])[1]
        time.sleep(0.6)
        status, c = self.emu.json("POST", f"/v1/batches/{b['id']}/cancel")
        self.assertEqual((status, c["status"]), (200, "cancelling"))
        mid = self.emu.json("GET", "/v1/batches/" + b["id"])[1]
        self.assertEqual(mid["status"], "cancelling")
        c = self.emu.wait(b["id"], ("cancelled",))
        counts = c["request_counts"]
        self.assertTrue(0 < counts["completed"] < 200, counts)
        self.assertEqual(counts["total"], 200)
        out = self.emu.content(c["output_file_id"])
        self.assertEqual(len(out), counts["completed"] + counts["failed"])
        self.assertIsNone(c["error_file_id"])  # the unfinished rest is in neither file
        self.assertGreaterEqual(c["cancelled_at"] - c["cancelling_at"], 0)


class AzureDayTest(EmulatorTest):
    ARGS = ("--speed", "0", "--provider", "azure")
    BASE = "/openai/v1"

    def upload(self, content, **kw):
        return self.emu.upload(content, path=self.BASE + "/files", **kw)

    def test_files_pending_then_processed(self):
        self.emu.config(file_processing_seconds=0.5)
        status, f = self.upload(chat_lines(2))
        self.assertEqual((status, f["status"]), (200, "pending"))
        status, obj = self.emu.create(f["id"], path=self.BASE + "/batches")
        self.assertEqual(status, 400)
        self.assertEqual(obj["error"]["code"], "file_not_processed")
        self.assertIn(f["id"], obj["error"]["message"])
        self.assertEqual(self.emu.json("GET", self.BASE + "/files/" + f["id"])[1]["status"],
                         "pending")
        time.sleep(0.55)
        got = self.emu.json("GET", self.BASE + "/files/" + f["id"])[1]
        self.assertEqual((got["status"], got["status_details"]), ("processed", None))
        self.assertEqual(self.emu.create(f["id"], path=self.BASE + "/batches")[0], 200)

    def test_file_error_with_reason(self):
        self.emu.config(file_error_count=1, file_error_details="Line 1: not JSON.")
        f = self.upload(chat_lines(2))[1]
        self.assertEqual((f["status"], f["status_details"]), ("error", "Line 1: not JSON."))
        status, obj = self.emu.create(f["id"], path=self.BASE + "/batches")
        self.assertEqual((status, obj["error"]["code"]), (400, "invalid_file"))
        self.assertIn("Line 1: not JSON.", obj["error"]["message"])
        self.assertEqual(self.upload(chat_lines(2))[1]["status"], "processed")

    def test_expiry_ranges(self):
        def upload_expiring(seconds):
            boundary = "b0undary"
            body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n"
                    f"batch\r\n--{boundary}\r\nContent-Disposition: form-data; "
                    f"name=\"expires_after[anchor]\"\r\n\r\ncreated_at\r\n--{boundary}\r\n"
                    f"Content-Disposition: form-data; name=\"expires_after[seconds]\"\r\n\r\n"
                    f"{seconds}\r\n--{boundary}\r\nContent-Disposition: form-data; "
                    f"name=\"file\"; filename=\"r.jsonl\"\r\n\r\n").encode()
            body += chat_lines(1) + f"\r\n--{boundary}--\r\n".encode()
            return self.emu.json("POST", self.BASE + "/files", body, headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}"})
        status, obj = upload_expiring(3600)
        self.assertEqual(status, 400)
        self.assertIn("between 1209600 and 2592000", obj["error"]["message"])
        status, f = upload_expiring(1209600)
        self.assertEqual(status, 200)
        self.assertEqual(f["expires_at"], f["created_at"] + 1209600)
        status, obj = self.emu.create(f["id"], path=self.BASE + "/batches",
                                      output_expires_after={"anchor": "created_at",
                                                            "seconds": 86400})
        self.assertEqual(status, 400)
        status, b = self.emu.create(f["id"], path=self.BASE + "/batches",
                                    output_expires_after={"anchor": "created_at",
                                                          "seconds": 2592000})
        self.assertEqual(status, 200)
        b = self.emu.wait(b["id"], path=self.BASE + "/batches/")
        out = self.emu.json("GET", self.BASE + "/files/" + b["output_file_id"])[1]
        self.assertEqual(out["expires_at"], out["created_at"] + 2592000)


class OpenAIExpiryTest(EmulatorTest):
    def test_output_expires_after_echoed(self):
        b = self.run_batch(chat_lines(2), output_expires_after={"anchor": "created_at",
                                                                "seconds": 3600})
        out = self.emu.json("GET", "/v1/files/" + b["output_file_id"])[1]
        self.assertEqual(out["expires_at"], out["created_at"] + 3600)
        f = self.upload_ok(chat_lines(1))
        status, obj = self.emu.create(f["id"], output_expires_after={"anchor": "created_at",
                                                                     "seconds": 3599})
        self.assertEqual(status, 400)
        self.assertEqual(obj["error"]["param"], "output_expires_after.seconds")


if __name__ == "__main__":
    unittest.main()
