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
        first, last = stats["batch_read_times"][b["id"]]
        self.assertGreaterEqual(last - first, 1.5)
        self.emu.json("POST", "/_emulator/reset", auth=False)
        self.assertEqual(self.stats()["batch_reads_total"], 0)

    def test_answers_tracked_per_custom_id(self):
        self.assertEqual(self.stats()["answered"]["requests"], 0)
        self.run_batch(chat_lines(3))
        self.assertEqual(self.stats()["answered"]["requests"], 0)  # off by default
        self.emu.config(track_answers=True, request_error_count=1)
        self.run_batch(chat_lines(4))
        self.run_batch(chat_lines(2))
        answered = self.stats()["answered"]
        # Three of the four answered first, then req-0 and req-1 again.
        self.assertEqual(answered["requests"], 5)
        self.assertIn(answered["twice"], (1, 2))
        self.assertEqual(answered["custom_ids"], 5 - answered["twice"])
        self.assertEqual(answered["twice"], len(answered["twice_examples"]))
        self.assertTrue(set(answered["twice_examples"]) <= {"req-0", "req-1"})

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

    def test_held_batch_visible_and_cancel_frees(self):
        self.emu.config(enqueued_token_limit={"gpt-4o-mini": 20000}, held_share=0.95,
                        held_seconds=60)
        self.assertEqual(self.emu.json("GET", "/v1/batches")[1]["data"], [])  # hidden
        self.emu.config(held_visible=True)
        mine = self.run_batch(chat_lines(100))
        self.assertEqual(mine["status"], "failed")
        listed = self.emu.json("GET", "/v1/batches")[1]["data"]
        self.assertEqual([b["id"] for b in listed][0], mine["id"])
        other = listed[1]
        self.assertEqual((other["status"], other["metadata"]["job"]),
                         ("in_progress", "nightly-report"))
        self.assertEqual(self.emu.json("GET", "/v1/batches/" + other["id"])[1]["id"],
                         other["id"])
        page = self.emu.json("GET", "/v1/batches?limit=1&after=" + mine["id"])[1]
        self.assertEqual([b["id"] for b in page["data"]], [other["id"]])
        self.assertFalse(self.stats()["held_batch_cancelled"])
        status, c = self.emu.json("POST", f"/v1/batches/{other['id']}/cancel")
        self.assertEqual((status, c["status"]), (200, "cancelled"))
        self.assertTrue(self.stats()["held_batch_cancelled"])
        self.assertEqual(self.run_batch(chat_lines(100))["status"], "completed")

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
        def upload_expiring(seconds, anchor="expires_after[anchor]", field="expires_after[seconds]"):
            boundary = "b0undary"
            body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n"
                    f"batch\r\n--{boundary}\r\nContent-Disposition: form-data; "
                    f"name=\"{anchor}\"\r\n\r\ncreated_at\r\n--{boundary}\r\n"
                    f"Content-Disposition: form-data; name=\"{field}\"\r\n\r\n"
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
        # The fields as Azure's REST samples write them.
        status, dotted = upload_expiring(1296000, "expires_after.anchor", "expires_after.seconds")
        self.assertEqual(status, 200)
        self.assertEqual(dotted["expires_at"], dotted["created_at"] + 1296000)
        self.assertEqual(upload_expiring(3600, "expires_after.anchor", "expires_after.seconds")[0], 400)
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


SCHEMA = {
    "type": "object", "additionalProperties": False,
    "required": ["label", "confidence", "count", "vegan", "tags", "origin", "alt"],
    "properties": {
        "label": {"type": "string", "enum": ["fruit", "vegetable", "grain"]},
        "confidence": {"type": "number"},
        "count": {"type": "integer"},
        "vegan": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "origin": {"$ref": "#/$defs/place"},
        "alt": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
    "$defs": {"place": {"type": "object", "required": ["country"],
                        "properties": {"country": {"type": "string"}}}},
}


def conforms(value, schema, root):
    """A test-side check of the schema subset SCHEMA uses."""
    if "$ref" in schema:
        return conforms(value, root["$defs"][schema["$ref"].rsplit("/", 1)[1]], root)
    if "anyOf" in schema:
        return any(conforms(value, s, root) for s in schema["anyOf"])
    if "enum" in schema and value not in schema["enum"]:
        return False
    kind = schema["type"]
    if kind == "object":
        return (isinstance(value, dict) and all(k in value for k in schema.get("required", []))
                and all(conforms(value[k], s, root) for k, s in schema["properties"].items()
                        if k in value))
    if kind == "array":
        return isinstance(value, list) and all(conforms(v, schema["items"], root)
                                               for v in value)
    return {"string": isinstance(value, str), "null": value is None,
            "boolean": isinstance(value, bool),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, (int, float)) and not isinstance(value, bool)}[kind]


class AnswersTest(EmulatorTest):
    def answers(self, endpoint, bodies, prefix="req"):
        """custom_id -> response body of a completed batch of these bodies."""
        b = self.run_batch(lines_of(endpoint, bodies, prefix), endpoint)
        self.assertEqual(b["status"], "completed", b)
        out = self.emu.content(b["output_file_id"])
        self.assertEqual(len(out), len(bodies))
        return {line["custom_id"]: line["response"]["body"] for line in out}

    def chat_bodies(self, count, **extra):
        return [dict({"model": "gpt-4o-mini", "max_completion_tokens": 200,
                      "messages": [{"role": "user", "content": f"Item: food {i}"}]}, **extra)
                for i in range(count)]

    def test_chat_unusable_answers_by_custom_id(self):
        self.emu.config(answer_refusal_rate=0.2, answer_content_filter_rate=0.2,
                        answer_empty_length_rate=0.2, answer_cut_rate=0.2)
        first = self.answers("/v1/chat/completions", self.chat_bodies(100))
        kinds = {}
        for cid, body in first.items():
            choice = body["choices"][0]
            msg, finish = choice["message"], choice["finish_reason"]
            if msg["refusal"] is not None:
                self.assertIsNone(msg["content"])
                self.assertEqual(finish, "stop")
                self.assertTrue(msg["refusal"])
                kind = "refusal"
            elif finish == "content_filter":
                self.assertIsNone(msg["content"])
                kind = "content_filter"
            elif finish == "length" and msg["content"] == "":
                self.assertEqual(body["usage"]["completion_tokens_details"]["reasoning_tokens"],
                                 200)
                self.assertEqual(body["usage"]["completion_tokens"], 200)
                kind = "empty_length"
            elif finish == "length":
                self.assertTrue(msg["content"])
                kind = "cut"
            else:
                self.assertEqual(finish, "stop")
                self.assertTrue(msg["content"])
                kind = "plain"
            kinds[cid] = kind
        counts = {k: list(kinds.values()).count(k) for k in set(kinds.values())}
        self.assertEqual(set(counts), {"refusal", "content_filter", "empty_length", "cut",
                                       "plain"})
        self.assertTrue(all(8 <= c <= 35 for c in counts.values()), counts)
        # The same custom_ids get the same fate in another batch (a retry).
        again = self.answers("/v1/chat/completions", self.chat_bodies(100))
        for cid in first:
            self.assertEqual(again[cid]["choices"][0]["message"],
                             first[cid]["choices"][0]["message"])

    def test_completions_and_responses_unusable(self):
        self.emu.config(answer_content_filter_rate=0.34, answer_empty_length_rate=0.33,
                        answer_refusal_rate=0.33)
        comp = self.answers("/v1/completions", [
            {"model": "gpt-3.5-turbo-instruct", "prompt": f"p{i}"} for i in range(30)])
        finishes = set()
        for body in comp.values():
            self.assertEqual(body["choices"][0]["text"], "")
            finishes.add(body["choices"][0]["finish_reason"])
        self.assertEqual(finishes, {"content_filter", "length"})
        resp = self.answers("/v1/responses", [
            {"model": "o3", "input": f"i{i}", "max_output_tokens": 500} for i in range(30)])
        seen = set()
        for body in resp.values():
            texts = [p for item in body["output"] if item["type"] == "message"
                     for p in item["content"]]
            self.assertFalse([p for p in texts if p["type"] == "output_text"])
            if body["status"] == "incomplete":
                reason = body["incomplete_details"]["reason"]
                self.assertIn(reason, ("max_output_tokens", "content_filter"))
                seen.add(reason)
            else:
                self.assertEqual(body["status"], "completed")
                self.assertEqual([p["type"] for p in texts], ["refusal"])
                self.assertTrue(texts[0]["refusal"])
                seen.add("refusal")
        self.assertEqual(seen, {"max_output_tokens", "content_filter", "refusal"})

    def test_n_choices_distinct_in_order(self):
        out = self.answers("/v1/chat/completions", self.chat_bodies(20, n=3))
        for body in out.values():
            self.assertEqual([c["index"] for c in body["choices"]], [0, 1, 2])
            texts = [c["message"]["content"] for c in body["choices"]]
            self.assertEqual(len(set(texts)), 3, texts)
        again = self.answers("/v1/chat/completions", self.chat_bodies(20, n=3))
        self.assertEqual(again["req-4"]["choices"], out["req-4"]["choices"])

    def test_tool_calls(self):
        tool = {"type": "function", "function": {"name": "classify", "parameters": SCHEMA}}
        self.emu.config(answer_tool_calls_rate=1.0)
        out = self.answers("/v1/chat/completions", self.chat_bodies(5, tools=[tool]) +
                           self.chat_bodies(1))
        for cid, body in out.items():
            choice = body["choices"][0]
            if cid == "req-5":  # no tools: a plain answer
                self.assertEqual(choice["finish_reason"], "stop")
                continue
            self.assertEqual(choice["finish_reason"], "tool_calls")
            self.assertIsNone(choice["message"]["content"])
            call = choice["message"]["tool_calls"][0]
            self.assertEqual((call["type"], call["function"]["name"]), ("function", "classify"))
            self.assertTrue(call["id"].startswith("call_"))
            self.assertTrue(conforms(json.loads(call["function"]["arguments"]), SCHEMA, SCHEMA))
        resp = self.answers("/v1/responses", [
            {"model": "gpt-4o", "input": "x", "tools": [
                {"type": "function", "name": "classify", "parameters": SCHEMA}]}])
        calls = [o for o in resp["req-0"]["output"] if o["type"] == "function_call"]
        self.assertEqual(calls[0]["name"], "classify")
        self.assertTrue(conforms(json.loads(calls[0]["arguments"]), SCHEMA, SCHEMA))

    def test_structured_outputs(self):
        fmt = {"type": "json_schema", "json_schema": {"name": "food", "strict": True,
                                                      "schema": SCHEMA}}
        plain = self.answers("/v1/chat/completions", self.chat_bodies(2, response_format=fmt))
        self.assertRaises(ValueError, json.loads, plain["req-0"]["choices"][0]["message"]
                          ["content"])  # off by default: the usual text
        self.emu.config(structured_outputs=True)
        out = self.answers("/v1/chat/completions", self.chat_bodies(10, response_format=fmt))
        for body in out.values():
            value = json.loads(body["choices"][0]["message"]["content"])
            self.assertTrue(conforms(value, SCHEMA, SCHEMA), value)
        resp = self.answers("/v1/responses", [{"model": "gpt-4o", "input": "x", "text": {
            "format": {"type": "json_schema", "name": "food", "schema": SCHEMA}}}])
        text = resp["req-0"]["output"][-1]["content"][0]["text"]
        self.assertTrue(conforms(json.loads(text), SCHEMA, SCHEMA))
        obj = self.answers("/v1/chat/completions", self.chat_bodies(
            3, response_format={"type": "json_object"}))
        for body in obj.values():
            self.assertIsInstance(json.loads(body["choices"][0]["message"]["content"]), dict)
        self.emu.config(schema_mismatch_rate=0.5, invalid_json_rate=0.25)
        out = self.answers("/v1/chat/completions", self.chat_bodies(60, response_format=fmt))
        tally = {"ok": 0, "mismatch": 0, "invalid": 0}
        for body in out.values():
            try:
                value = json.loads(body["choices"][0]["message"]["content"])
            except ValueError:
                tally["invalid"] += 1
                continue
            tally["ok" if conforms(value, SCHEMA, SCHEMA) else "mismatch"] += 1
        self.assertTrue(all(v >= 5 for v in tally.values()), tally)

    def test_embeddings_base64_and_arrays(self):
        out = self.answers("/v1/embeddings", [
            {"model": "text-embedding-3-small", "input": "apple", "dimensions": 8},
            {"model": "text-embedding-3-small", "input": "apple", "dimensions": 8,
             "encoding_format": "base64"},
            {"model": "text-embedding-3-small", "input": ["apple", "pear", "fig"],
             "dimensions": 8}])
        floats = out["req-0"]["data"][0]["embedding"]
        raw = base64.b64decode(out["req-1"]["data"][0]["embedding"])
        decoded = struct.unpack("<8f", raw)
        for a, b in zip(floats, decoded):
            self.assertAlmostEqual(a, b, places=6)
        data = out["req-2"]["data"]
        self.assertEqual([d["index"] for d in data], [0, 1, 2])
        self.assertEqual(data[0]["embedding"], floats)
        self.assertNotEqual(data[1]["embedding"], floats)

    def test_validation_errors_by_line(self):
        self.emu.config(invalid_lines=[2, 4, 99],
                        invalid_lines_error={"code": "invalid_request",
                                             "message": "Bad request on this line."})
        b = self.run_batch(chat_lines(5))
        self.assertEqual(b["status"], "failed")
        data = b["errors"]["data"]
        self.assertEqual([(e["line"], e["code"], e["message"]) for e in data],
                         [(2, "invalid_request", "Bad request on this line."),
                          (4, "invalid_request", "Bad request on this line.")])


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class HostileTest(EmulatorTest):
    def test_huge_body_streamed_in_bounded_memory(self):
        size = 256 << 20
        self.emu.config(huge_body_count=2, huge_body_bytes=size, fault_actions=["batch.get"])
        before = rss_kib(self.emu.proc.pid)
        conn = http.client.HTTPConnection("127.0.0.1", self.emu.port, timeout=30)
        conn.request("GET", "/v1/batches/batch_abc", headers={"Authorization": "Bearer " + KEY})
        resp = conn.getresponse()
        self.assertEqual((resp.status, int(resp.getheader("Content-Length"))), (200, size))
        head, total, last = resp.read(64), 64, b""
        while True:
            chunk = resp.read(1 << 20)
            if not chunk:
                break
            total, last = total + len(chunk), (last + chunk)[-64:]
        conn.close()
        self.assertEqual(total, size)
        self.assertTrue(head.startswith(b'{"object": "batch", "padding": "xxx'))
        self.assertTrue(last.endswith(b'xxx"}\n'))
        self.assertLess(rss_kib(self.emu.proc.pid) - before, 32 * 1024)
        self.emu.config(huge_body_status=500, huge_body_bytes=4096)
        status, _, data = self.emu.request("GET", "/v1/batches/batch_abc")
        self.assertEqual((status, len(data)), (500, 4096))
        self.assertEqual(len(json.loads(data)["error"]["message"]), 4096 - 80)
        status, _, _ = self.emu.request("GET", "/v1/batches/batch_abc")
        self.assertEqual(status, 404)  # the count is spent: back to normal
        self.emu.config(huge_body_count=1, huge_body_status=200, huge_body_chunked=True,
                        huge_body_bytes=3 << 20)
        status, resp, data = self.emu.request("GET", "/v1/batches/batch_abc")
        self.assertEqual((status, resp.getheader("Transfer-Encoding")), (200, "chunked"))
        self.assertIsNone(resp.getheader("Content-Length"))
        self.assertEqual(len(data), 3 << 20)
        self.assertEqual(set(json.loads(data)["padding"]), {"x"})

    def test_slow_drip(self):
        self.emu.config(drip_count=1, drip_interval=0.1)
        sock = socket.create_connection(("127.0.0.1", self.emu.port), timeout=10)
        sock.sendall(f"GET /v1/batches/batch_nope HTTP/1.1\r\nHost: x\r\n"
                     f"Authorization: Bearer {KEY}\r\n\r\n".encode())
        got = b""
        while b"\r\n\r\n" not in got:
            got += sock.recv(4096)
        headers, _, body = got.partition(b"\r\n\r\n")
        self.assertIn(b" 404 ", headers.split(b"\r\n")[0])
        started = time.time()
        while len(body) < 6:
            body += sock.recv(4096)
        self.assertGreaterEqual(time.time() - started, 0.35)
        self.assertLessEqual(len(body), 8)  # a byte at a time, not the whole body
        sock.close()
        self.assertEqual(self.emu.json("GET", "/v1/batches/batch_nope")[0], 404)

    def test_escape_sequences_and_secrets(self):
        self.emu.config(hostile_text=["errors", "model", "error_body", "custom_id"],
                        fail_batch_count=1)
        failed = self.run_batch(chat_lines(2))
        err = failed["errors"]["data"][0]
        self.assertIn("\x1b]0;", err["code"])
        for text in ("\x1b]0;", "\x1b[2J", "\x9b", "\x07", KEY, "sk-proj-"):
            self.assertIn(text, err["message"])
        self.assertIn("\x1b[2J", failed["model"])
        status, obj = self.emu.json("GET", "/v1/batches/batch_nope")
        self.assertEqual(status, 404)
        self.assertIn(KEY, obj["error"]["message"])
        self.assertTrue(obj["error"]["code"].startswith("\x1b[2J"))
        done = self.run_batch(chat_lines(3))
        self.assertEqual(done["request_counts"]["completed"], 3)
        lines = self.emu.content(done["output_file_id"])
        ids = [line["custom_id"] for line in lines]
        self.assertEqual(sorted(ids[:3]), ["req-0", "req-1", "req-2"])
        self.assertEqual(len(ids), 4)
        self.assertIn("\x1b]0;", ids[3])
        self.assertIn(KEY, ids[3])
        self.emu.config(hostile_text=["status"])
        status, obj = self.emu.json("GET", "/v1/batches/" + done["id"])
        self.assertTrue(obj["status"].startswith("completed\x1b]0;"))
        listed = self.emu.json("GET", "/v1/batches")[1]["data"]
        self.assertTrue(all("\x1b[2J" in b["status"] for b in listed))
        self.emu.config(hostile_text=[])
        self.assertEqual(self.emu.json("GET", "/v1/batches/" + done["id"])[1]["status"],
                         "completed")
        status, _ = self.emu.json("POST", "/_emulator/config", {"hostile_text": ["x"]},
                                  auth=False)
        self.assertEqual(status, 400)

    def test_redirect_to_the_trap(self):
        self.emu.config(redirect_count=1, redirect_status=307)
        status, resp, _ = self.emu.request("GET", "/v1/batches?limit=2")
        self.assertEqual(status, 307)
        location = resp.getheader("Location")
        trap = self.emu.json("GET", "/_emulator/trap", auth=False)[1]
        self.assertEqual(location, trap["base"] + "/v1/batches?limit=2")
        self.assertEqual(trap["requests"], [])
        port = int(trap["base"].rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/v1/batches?limit=2", headers={"X-Probe": "1"})
        self.assertEqual(conn.getresponse().status, 404)
        conn.close()
        seen = self.emu.json("GET", "/_emulator/trap", auth=False)[1]["requests"]
        self.assertEqual(len(seen), 1)
        self.assertEqual(seen[0]["path"], "/v1/batches?limit=2")
        names = {k.lower() for k, _ in seen[0]["headers"]}
        self.assertIn("x-probe", names)
        self.assertNotIn("authorization", names)
        self.assertEqual(self.emu.request("GET", "/v1/batches")[0], 200)
        self.emu.config(redirect_count=1, redirect_status=301, redirect_to="http://127.0.0.2:9/")
        status, resp, _ = self.emu.request("POST", "/v1/batches", {})
        self.assertEqual((status, resp.getheader("Location")),
                         (301, "http://127.0.0.2:9/v1/batches"))
        self.assertEqual(self.emu.state()["batches"], [])  # redirected before acting
        self.emu.json("POST", "/_emulator/reset", auth=False)
        self.assertEqual(self.emu.json("GET", "/_emulator/trap", auth=False)[1]["requests"], [])

    def test_trailing_bytes_and_overlong_lines(self):
        self.emu.config(result_trailing_rate=0.5, overlong_line_bytes=3 << 20)
        done = self.run_batch(chat_lines(20))
        status, _, data = self.emu.request("GET", f"/v1/files/{done['output_file_id']}/content")
        self.assertEqual(status, 200)
        lines = data.split(b"\n")
        self.assertEqual(lines[-1], b"")
        lines = lines[:-1]
        self.assertEqual(len(lines), 20)
        self.assertGreaterEqual(len(lines[0]), 3 << 20)
        self.assertEqual(json.loads(lines[0])["padding"].strip("x"), "")
        decoder, trailing = json.JSONDecoder(), 0
        for line in lines:
            obj, end = decoder.raw_decode(line.decode())
            self.assertTrue(obj["custom_id"].startswith("req-"))
            if end < len(line):
                self.assertEqual(line[end:], b' {"custom_id": "trailing"}')
                trailing += 1
        self.assertTrue(3 <= trailing <= 17, trailing)


if __name__ == "__main__":
    unittest.main()
