#!/usr/bin/env python3
"""Self-tests of scripts/emulator.py: python3 Tests/emulator/test_emulator.py [-v]

Each test class starts its own emulator as a subprocess on port 0 (the port
comes back through --port-file), talks to it over HTTP with http.client, and
kills it by PID when done. Standard library only; runs in well under 30 s.
"""

import base64
import hashlib
import http.client
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "scripts"))

from emulator_process import EMULATOR, EmulatorProcess  # noqa: E402  (needs the path above)

KEY = "sk-test-0123456789abcdef"


class Emulator(EmulatorProcess):
    """One emulator process in a directory of its own, and a tiny HTTP
    client for it (http.client, to see every status and header)."""

    def __init__(self, *args):
        super().__init__(tempfile.mkdtemp(prefix="emu-test-"), *args)
        self.start()
        self.auth = {"Authorization": "Bearer " + KEY}

    def stop(self):
        """Stop the process by PID; return what it wrote on stderr."""
        super().stop()
        err = self.stderr()
        shutil.rmtree(self.workdir, ignore_errors=True)
        return err

    # ---- HTTP

    def request(self, method, path, body=None, headers=None, auth=True, conn=None):
        """(status, headers, raw body bytes); JSON bodies are encoded for you."""
        hdrs = dict(self.auth) if auth else {}
        hdrs.update(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, resp, data
        finally:
            if own:
                conn.close()

    def json(self, method, path, body=None, **kw):
        status, resp, data = self.request(method, path, body, **kw)
        return status, json.loads(data) if data else None

    def upload(self, content, filename="requests.jsonl", purpose="batch", path="/v1/files",
               headers=None):
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n"
                f"{purpose}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"{filename}\"\r\nContent-Type: application/jsonl\r\n\r\n").encode()
        body += content + f"\r\n--{boundary}--\r\n".encode()
        hdrs = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        hdrs.update(headers or {})
        return self.json("POST", path, body, headers=hdrs)

    def create(self, file_id, endpoint="/v1/chat/completions", path="/v1/batches", **extra):
        body = {"input_file_id": file_id, "endpoint": endpoint, "completion_window": "24h"}
        body.update(extra)
        return self.json("POST", path, body)

    def wait(self, batch_id, statuses=("completed", "failed", "expired", "cancelled"),
             timeout=10, path="/v1/batches/"):
        deadline = time.time() + timeout
        while True:
            status, obj = self.json("GET", path + batch_id)
            assert status == 200, obj
            if obj["status"] in statuses:
                return obj
            if time.time() > deadline:
                raise AssertionError(f"batch still {obj['status']}")
            time.sleep(0.02)

    def content(self, file_id, path="/v1/files/"):
        status, _, data = self.request("GET", path + file_id + "/content")
        assert status == 200, data
        return [json.loads(line) for line in data.decode().splitlines()]



def chat_lines(n, model="gpt-4o-mini", prefix="req", **body_extra):
    lines = []
    for i in range(n):
        body = {"model": model, "max_tokens": 50,
                "messages": [{"role": "system", "content": "Classify the food item."},
                             {"role": "user", "content": f"Item: food number {i}"}]}
        body.update(body_extra)
        lines.append(json.dumps({"custom_id": f"{prefix}-{i}", "method": "POST",
                                 "url": "/v1/chat/completions", "body": body}))
    return ("\n".join(lines) + "\n").encode()


def assert_error(test, obj, message=None, code=None, param=None, type_="invalid_request_error"):
    test.assertEqual(set(obj), {"error"})
    err = obj["error"]
    test.assertEqual(set(err), {"message", "type", "param", "code"})
    test.assertEqual(err["type"], type_)
    test.assertEqual(err["code"], code)
    test.assertEqual(err["param"], param)
    if message is not None:
        test.assertRegex(err["message"], message)


BATCH_KEYS = {"id", "object", "endpoint", "model", "errors", "input_file_id",
              "completion_window", "status", "output_file_id", "error_file_id", "created_at",
              "in_progress_at", "expires_at", "finalizing_at", "completed_at", "failed_at",
              "expired_at", "cancelling_at", "cancelled_at", "request_counts", "usage",
              "metadata"}
FILE_KEYS = {"id", "object", "bytes", "created_at", "expires_at", "filename", "purpose",
             "status", "status_details"}


class EmulatorTest(unittest.TestCase):
    ARGS = ("--speed", "0")

    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator(*cls.ARGS)

    @classmethod
    def tearDownClass(cls):
        err = cls.emu.stop()
        if "Traceback" in err:
            raise AssertionError("the emulator crashed in a handler:\n" + err)

    def setUp(self):
        status, _ = self.emu.json("POST", "/_emulator/reset", auth=False)
        self.assertEqual(status, 200)

    def upload_ok(self, content, **kw):
        status, obj = self.emu.upload(content, **kw)
        self.assertEqual(status, 200, obj)
        return obj

    def run_batch(self, content, endpoint="/v1/chat/completions", **extra):
        f = self.upload_ok(content)
        status, b = self.emu.create(f["id"], endpoint, **extra)
        self.assertEqual(status, 200, b)
        return self.emu.wait(b["id"])


class FilesTest(EmulatorTest):
    def test_upload_shape_and_get(self):
        content = chat_lines(3)
        f = self.upload_ok(content)
        self.assertEqual(set(f), FILE_KEYS)
        self.assertRegex(f["id"], r"^file-[0-9A-Za-z]{22}$")
        self.assertEqual((f["object"], f["bytes"], f["filename"], f["purpose"], f["status"]),
                         ("file", len(content), "requests.jsonl", "batch", "processed"))
        self.assertEqual(f["expires_at"] - f["created_at"], 30 * 86400)
        self.assertIsNone(f["status_details"])
        status, got = self.emu.json("GET", "/v1/files/" + f["id"])
        self.assertEqual((status, got), (200, f))
        status, _, data = self.emu.request("GET", f"/v1/files/{f['id']}/content")
        self.assertEqual((status, data), (200, content))

    def test_upload_rejections(self):
        cases = [
            (dict(content=b'{"a":1}\n', filename="x.json"), "Must be .jsonl"),
            (dict(content=b""), "Must be .jsonl"),
            (dict(content=b"not json\n{}\n"), "Must be .jsonl"),
            (dict(content=b"{}\n", purpose="nonsense"), r"Invalid value: 'nonsense'"),
        ]
        for kwargs, message in cases:
            status, obj = self.emu.upload(**kwargs)
            self.assertEqual(status, 400, kwargs)
            assert_error(self, obj, message, code="invalid_value" if "purpose" in kwargs
                         else None, param="purpose" if "purpose" in kwargs else None)
        self.emu.config(max_batch_file_bytes=10)
        status, obj = self.emu.upload(chat_lines(1))
        self.assertEqual(status, 400)
        assert_error(self, obj, r"^File is too large\.$")
        self.emu.config(max_batch_file_bytes=200_000_000)
        # A good first line is enough at upload; later lines fail at validation.
        self.upload_ok(b'{"custom_id":"a"}\nnot json\n', purpose="batch")
        self.assertEqual(len([f for f in self.emu.state()["files"]]), 1)

    def test_chunked_upload(self):
        content = chat_lines(200)
        boundary = "XyZ" + uuid.uuid4().hex
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"big.jsonl\"\r\n\r\n").encode()
        tail = (f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n"
                f"batch\r\n--{boundary}--\r\n").encode()
        whole = head + content + tail
        conn = http.client.HTTPConnection("127.0.0.1", self.emu.port, timeout=10)
        conn.putrequest("POST", "/v1/files")
        conn.putheader("Authorization", "Bearer " + KEY)
        conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for i in range(0, len(whole), 777):  # chunks that split the boundary
            piece = whole[i:i + 777]
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.send(b"0\r\n\r\n")
        resp = conn.getresponse()
        obj = json.loads(resp.read())
        self.assertEqual(resp.status, 200, obj)
        self.assertEqual(obj["bytes"], len(content))
        # the same connection is still usable (keep-alive)
        status, _, data = self.emu.request("GET", f"/v1/files/{obj['id']}/content", conn=conn)
        self.assertEqual((status, data), (200, content))
        conn.close()

    def test_list_pagination_and_delete(self):
        ids = [self.upload_ok(chat_lines(1, prefix=str(i)))["id"] for i in range(5)]
        self.upload_ok(b"hello", filename="notes.txt", purpose="user_data")
        status, page = self.emu.json("GET", "/v1/files?purpose=batch&limit=2")
        self.assertEqual(status, 200)
        self.assertEqual(set(page), {"object", "data", "first_id", "last_id", "has_more"})
        self.assertEqual([f["id"] for f in page["data"]], ids[::-1][:2])
        self.assertTrue(page["has_more"])
        seen, after = [], None
        while True:
            q = "/v1/files?purpose=batch&order=asc&limit=2" + (f"&after={after}" if after else "")
            page = self.emu.json("GET", q)[1]
            seen += [f["id"] for f in page["data"]]
            self.assertEqual(page["last_id"], page["data"][-1]["id"])
            if not page["has_more"]:
                break
            after = page["last_id"]
        self.assertEqual(seen, ids)
        status, obj = self.emu.json("DELETE", "/v1/files/" + ids[0])
        self.assertEqual((status, obj), (200, {"id": ids[0], "object": "file", "deleted": True}))
        for method, suffix in (("GET", ""), ("DELETE", ""), ("GET", "/content")):
            status, obj = self.emu.json(method, "/v1/files/" + ids[0] + suffix)
            self.assertEqual(status, 404)
            assert_error(self, obj, f"^No such File object: {ids[0]}$", param="id")
        page = self.emu.json("GET", "/v1/files?purpose=fine-tune")[1]
        self.assertEqual(page, {"object": "list", "data": [], "first_id": None, "last_id": None,
                                "has_more": False})
        self.assertEqual(self.emu.json("GET", "/v1/files?limit=0")[0], 400)
        state = self.emu.state()
        self.assertEqual([f["deleted"] for f in state["files"]], [True] + [False] * 5)


class AuthAndRoutingTest(EmulatorTest):
    def test_missing_and_refused_keys(self):
        status, obj = self.emu.json("GET", "/v1/files", auth=False)
        self.assertEqual(status, 401)
        assert_error(self, obj, "You didn't provide an API key")
        key = "sk-refused-" + "q" * 30 + "wxyz"
        status, obj = self.emu.json("GET", "/v1/batches",
                                    headers={"Authorization": "Bearer " + key}, auth=False)
        self.assertEqual(status, 401)
        assert_error(self, obj, r"^Incorrect API key provided: sk-ref\*\*\*wxyz\.",
                     code="invalid_api_key")
        self.assertNotIn(key, obj["error"]["message"])
        self.emu.config(api_key="sk-only")
        self.assertEqual(self.emu.json("GET", "/v1/files")[0], 401)
        self.assertEqual(self.emu.json("GET", "/v1/files", auth=False,
                                       headers={"Authorization": "Bearer sk-only"})[0], 200)

    def test_unknown_route_and_ids(self):
        status, obj = self.emu.json("GET", "/v1/nope")
        self.assertEqual(status, 404)
        assert_error(self, obj, r"^Invalid URL \(GET /v1/nope\)$")
        status, obj = self.emu.json("GET", "/v1/batches/batch_missing")
        self.assertEqual(status, 404)
        self.assertEqual(obj["error"]["message"], "No batch found with id 'batch_missing'.")
        self.assertEqual(self.emu.json("POST", "/v1/batches/batch_x/cancel")[0], 404)

    def test_keep_alive(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.emu.port, timeout=10)
        for _ in range(5):
            status, resp, _ = self.emu.request("GET", "/v1/batches", conn=conn)
            self.assertEqual(status, 200)
            self.assertIsNotNone(resp.getheader("Content-Length"))
        conn.close()


class CreateValidationTest(EmulatorTest):
    def test_create_errors(self):
        fid = self.upload_ok(chat_lines(1))["id"]
        good = {"input_file_id": fid, "endpoint": "/v1/chat/completions",
                "completion_window": "24h"}
        cases = [
            ({k: v for k, v in good.items() if k != "input_file_id"},
             r"^Missing required parameter: 'input_file_id'\.$", "missing_required_parameter",
             "input_file_id"),
            (dict(good, endpoint="/v1/invalid/endpoint"),
             r"^Invalid value: '/v1/invalid/endpoint'\. Supported values are: '/v1/responses', "
             r".*, and '/v1/videos'\.$", "invalid_value", "endpoint"),
            (dict(good, completion_window="48h"), "48h", "invalid_value", "completion_window"),
            (dict(good, metadata={"tags": ["a"]}),
             r"^Invalid type for 'metadata.tags': expected a string, but got an array instead\.$",
             "invalid_type", "metadata.tags"),
            (dict(good, metadata={str(i): "v" for i in range(17)}), "at most 16",
             "invalid_value", "metadata"),
            (dict(good, metadata={"k": "v" * 513}), "512", "invalid_value", "metadata.k"),
            (dict(good, surprise=1), r"^Unrecognized request argument supplied: surprise$",
             None, None),
        ]
        for body, message, code, param in cases:
            status, obj = self.emu.json("POST", "/v1/batches", body)
            self.assertEqual(status, 400, body)
            assert_error(self, obj, message, code=code, param=param)
        status, obj = self.emu.json("POST", "/v1/batches", b"{not json",
                                    headers={"Content-Type": "application/json"})
        self.assertEqual(status, 400)
        self.assertEqual(self.emu.state()["batches"], [])

    def test_validation_errors_every_line(self):
        good = json.loads(chat_lines(1)[:-1])
        lines = [
            json.dumps(good),                                                   # 1 ok
            "not json",                                                         # 2
            json.dumps({k: v for k, v in good.items() if k != "custom_id"}),    # 3
            json.dumps(dict(good, custom_id="x3", url="/v1/embeddings")),       # 4
            json.dumps(dict(good, custom_id="x4",
                            body=dict(good["body"], stream=True))),             # 5
            json.dumps(dict(good, custom_id="x5", body={"messages": []})),      # 6
            json.dumps(dict(good, custom_id="x6", body={"model": "gpt-4o-mini"})),  # 7
            json.dumps(good),                                                   # 8 duplicate
            json.dumps(dict(good, custom_id="x8",
                            body=dict(good["body"], model="gpt-4o"))),          # 9
            json.dumps(dict(good, custom_id="x9", method="GET")),               # 10
            "",                                                                 # 11 blank
            json.dumps(dict(good, custom_id="x11")),                            # 12 ok
            "", "",                                                             # trailing: fine
        ]
        b = self.run_batch("\n".join(lines).encode())
        self.assertEqual(b["status"], "failed")
        self.assertIsNotNone(b["failed_at"])
        self.assertIsNone(b["in_progress_at"])
        self.assertEqual(b["errors"]["object"], "list")
        got = [(e["line"], e["code"], e["param"]) for e in b["errors"]["data"]]
        self.assertEqual(got, [
            (2, "invalid_json_line", None),
            (3, "missing_required_parameter", "custom_id"),
            (4, "invalid_url", "url"),
            (5, "streaming_unsupported", "body.stream"),
            (6, "invalid_request", "body.model"),
            (7, "invalid_request", "body.messages"),
            (8, "duplicate_custom_id", "custom_id"),
            (9, "mismatched_model", "body.model"),
            (10, "invalid_method", "method"),
            (11, "invalid_json_line", None),
        ])
        messages = {e["code"]: e["message"] for e in b["errors"]["data"]}
        self.assertEqual(messages["invalid_json_line"], "This line is not parseable as valid JSON.")
        self.assertEqual(messages["streaming_unsupported"],
                         "Chat Completions: Streaming is not supported in the Batch API.")

    def test_bom_non_utf8_and_limits(self):
        b = self.run_batch(b"\xef\xbb\xbf" + chat_lines(2))
        self.assertEqual([(e["line"], e["code"]) for e in b["errors"]["data"]],
                         [(1, "invalid_json_line")])
        bad = chat_lines(1) + b'{"custom_id": "\xff"}\n'
        b = self.run_batch(bad)
        self.assertEqual([(e["line"], e["code"]) for e in b["errors"]["data"]],
                         [(2, "invalid_json_line")])
        b = self.run_batch(chat_lines(3).replace(b"\n", b"\r\n"))
        self.assertEqual(b["status"], "completed", b["errors"])
        self.emu.config(max_requests_per_batch=3)
        b = self.run_batch(chat_lines(4))
        self.assertEqual([e["code"] for e in b["errors"]["data"]], ["too_many_tasks"])

    def test_missing_input_file(self):
        status, b = self.emu.create("file-doesnotexist0000000000")
        self.assertEqual((status, b["status"]), (200, "validating"))
        b = self.emu.wait(b["id"])
        self.assertEqual(b["status"], "failed")
        err = b["errors"]["data"][0]
        self.assertEqual((err["code"], err["param"], err["line"]),
                         ("invalid_request", "file_id", None))
        self.assertRegex(err["message"], r"^Cannot find file file-doesnotexist0+, or "
                         r"organization org-\S+ does not have access to it\.$")
        self.emu.config(missing_file_400=True)
        status, obj = self.emu.create("file-doesnotexist0000000000")
        self.assertEqual(status, 400)
        assert_error(self, obj, "^Cannot find file", param="file_id")


class LifecycleTest(EmulatorTest):
    def test_completed_batch_output(self):
        n = 60
        content = chat_lines(n)
        f = self.upload_ok(content)
        status, b = self.emu.create(f["id"], metadata={"run": "r1", "file": "batch_001"})
        self.assertEqual(status, 200)
        self.assertEqual(set(b), BATCH_KEYS)
        self.assertRegex(b["id"], r"^batch_[0-9a-f]{32}$")
        self.assertEqual((b["status"], b["model"], b["request_counts"]),
                         ("validating", None, {"total": 0, "completed": 0, "failed": 0}))
        self.assertEqual(b["expires_at"] - b["created_at"], 86400)
        b = self.emu.wait(b["id"])
        self.assertEqual(b["status"], "completed")
        self.assertEqual(b["model"], "gpt-4o-mini-2024-07-18")
        self.assertEqual(b["request_counts"], {"total": n, "completed": n, "failed": 0})
        self.assertIsNone(b["error_file_id"])
        for key in ("in_progress_at", "finalizing_at", "completed_at"):
            self.assertIsNotNone(b[key])
        self.assertEqual(b["metadata"], {"run": "r1", "file": "batch_001"})
        lines = self.emu.content(b["output_file_id"])
        ids = [line["custom_id"] for line in lines]
        self.assertEqual(sorted(ids), sorted(f"req-{i}" for i in range(n)))
        self.assertNotEqual(ids, [f"req-{i}" for i in range(n)], "output must be shuffled")
        total_in = total_out = 0
        for line in lines:
            self.assertEqual(set(line), {"id", "custom_id", "response", "error"})
            self.assertRegex(line["id"], r"^batch_req_[0-9a-f]{32}$")
            self.assertIsNone(line["error"])
            resp = line["response"]
            self.assertEqual(resp["status_code"], 200)
            body = resp["body"]
            self.assertEqual(body["object"], "chat.completion")
            choice = body["choices"][0]
            self.assertEqual(set(choice), {"index", "message", "logprobs", "finish_reason"})
            self.assertEqual(choice["message"]["role"], "assistant")
            self.assertTrue(choice["message"]["content"])
            usage = body["usage"]
            self.assertEqual(usage["total_tokens"],
                             usage["prompt_tokens"] + usage["completion_tokens"])
            total_in += usage["prompt_tokens"]
            total_out += usage["completion_tokens"]
        self.assertEqual(b["usage"]["input_tokens"], total_in)
        self.assertEqual(b["usage"]["output_tokens"], total_out)
        listed = self.emu.json("GET", "/v1/files?purpose=batch_output")[1]["data"]
        self.assertEqual([x["id"] for x in listed], [b["output_file_id"]])
        out_file = self.emu.json("GET", "/v1/files/" + b["output_file_id"])[1]
        self.assertEqual((out_file["purpose"], out_file["filename"]),
                         ("batch_output", f"{b['id']}_output.jsonl"))
        # Same requests, same answers, in another batch.
        b2 = self.run_batch(content)
        answers = {ln["custom_id"]: ln["response"]["body"]["choices"][0]["message"]["content"]
                   for ln in lines}
        again = {ln["custom_id"]: ln["response"]["body"]["choices"][0]["message"]["content"]
                 for ln in self.emu.content(b2["output_file_id"])}
        self.assertEqual(answers, again)
        # The batch list, newest first, with a cursor.
        page = self.emu.json("GET", "/v1/batches?limit=1")[1]
        self.assertEqual([x["id"] for x in page["data"]], [b2["id"]])
        self.assertTrue(page["has_more"])
        page = self.emu.json("GET", f"/v1/batches?limit=100&after={b2['id']}")[1]
        self.assertEqual([x["id"] for x in page["data"]], [b["id"]])
        self.assertFalse(page["has_more"])

    def test_progress_and_timing(self):
        self.emu.config(speed=0.1)
        f = self.upload_ok(chat_lines(1000))
        started = time.time()
        b = self.emu.create(f["id"])[1]
        seen = set()
        while b["status"] not in ("completed", "failed"):
            b = self.emu.json("GET", "/v1/batches/" + b["id"])[1]
            seen.add((b["status"], b["request_counts"]["completed"] > 0))
            time.sleep(0.02)
        elapsed = time.time() - started
        self.assertEqual(b["status"], "completed")
        self.assertLess(elapsed, 2.0)
        self.assertIn(("in_progress", True), seen)
        self.assertIn(("finalizing", True), seen)

    def test_cancel(self):
        self.emu.config(speed=1.0, cancelling_seconds=0.2)
        f = self.upload_ok(chat_lines(5))
        b = self.emu.create(f["id"])[1]
        status, c = self.emu.json("POST", f"/v1/batches/{b['id']}/cancel")
        self.assertEqual((status, c["status"]), (200, "cancelling"))
        self.assertIsNotNone(c["cancelling_at"])
        c = self.emu.wait(b["id"], ("cancelled",), timeout=5)
        self.assertIsNotNone(c["cancelled_at"])
        self.assertIsNone(c["output_file_id"])
        status, c2 = self.emu.json("POST", f"/v1/batches/{b['id']}/cancel")
        self.assertEqual((status, c2["status"]), (200, "cancelled"))
        self.emu.config(speed=0)
        done = self.run_batch(chat_lines(2))
        status, obj = self.emu.json("POST", f"/v1/batches/{done['id']}/cancel")
        self.assertEqual(status, 409)
        assert_error(self, obj, r"^Cannot cancel a batch with status 'completed'\.$")

    def test_cancel_in_progress_keeps_partial_results(self):
        self.emu.config(speed=1.0, validating_seconds=0.05, in_progress_seconds=0,
                        per_request_seconds=0.01, cancelling_seconds=0.05,
                        cancel_writes_error_lines=True)
        f = self.upload_ok(chat_lines(100))
        b = self.emu.create(f["id"])[1]
        time.sleep(0.5)
        c = self.emu.json("POST", f"/v1/batches/{b['id']}/cancel")[1]
        self.assertEqual(c["status"], "cancelling")
        c = self.emu.wait(b["id"], ("cancelled",))
        done = c["request_counts"]["completed"]
        self.assertTrue(0 < done < 100, c["request_counts"])
        out = self.emu.content(c["output_file_id"])
        err = self.emu.content(c["error_file_id"])
        self.assertEqual(len(out), done)
        self.assertEqual(len(err), 100 - done)
        self.assertEqual({e["error"]["code"] for e in err}, {"batch_cancelled"})
        self.assertEqual({e["custom_id"] for e in out + err}, {f"req-{i}" for i in range(100)})

    def test_other_endpoints(self):
        lines = [json.dumps({"custom_id": f"e{i}", "method": "POST", "url": "/v1/embeddings",
                             "body": {"model": "text-embedding-3-small", "input": inp,
                                      **extra}})
                 for i, (inp, extra) in enumerate([
                     ("apple", {}), (["a", "b"], {"dimensions": 8}),
                     ("pear", {"dimensions": 4, "encoding_format": "base64"})])]
        b = self.run_batch("\n".join(lines).encode(), endpoint="/v1/embeddings")
        self.assertEqual(b["status"], "completed", b)
        out = {ln["custom_id"]: ln["response"]["body"] for ln in
               self.emu.content(b["output_file_id"])}
        self.assertEqual(len(out["e0"]["data"][0]["embedding"]), 1536)
        self.assertEqual([d["index"] for d in out["e1"]["data"]], [0, 1])
        self.assertEqual(len(out["e1"]["data"][1]["embedding"]), 8)
        packed = base64.b64decode(out["e2"]["data"][0]["embedding"])
        self.assertEqual(len(struct.unpack("<4f", packed)), 4)
        lines = [json.dumps({"custom_id": "r1", "method": "POST", "url": "/v1/responses",
                             "body": {"model": "gpt-5-mini", "input": "Item: kiwi"}})]
        b = self.run_batch("\n".join(lines).encode(), endpoint="/v1/responses")
        body = self.emu.content(b["output_file_id"])[0]["response"]["body"]
        self.assertEqual(body["object"], "response")
        message = [o for o in body["output"] if o["type"] == "message"][0]
        self.assertEqual(message["content"][0]["type"], "output_text")
        self.assertGreater(body["usage"]["output_tokens_details"]["reasoning_tokens"], 0)
        self.assertEqual(b["usage"]["output_tokens_details"]["reasoning_tokens"],
                         body["usage"]["output_tokens_details"]["reasoning_tokens"])
        lines = [json.dumps({"custom_id": "c1", "method": "POST", "url": "/v1/completions",
                             "body": {"model": "gpt-3.5-turbo-instruct", "prompt": "Item: fig"}})]
        b = self.run_batch("\n".join(lines).encode(), endpoint="/v1/completions")
        body = self.emu.content(b["output_file_id"])[0]["response"]["body"]
        self.assertTrue(body["choices"][0]["text"])

    def test_runtime_request_error(self):
        b = self.run_batch(chat_lines(2) + chat_lines(1, prefix="bad", max_tokens=-1))
        self.assertEqual(b["status"], "completed")
        self.assertEqual(b["request_counts"], {"total": 3, "completed": 2, "failed": 1})
        err = self.emu.content(b["error_file_id"])[0]
        self.assertEqual(err["custom_id"], "bad-0")
        self.assertIsNone(err["error"])
        self.assertEqual(err["response"]["status_code"], 400)
        self.assertEqual(err["response"]["body"]["error"]["code"], "integer_below_min_value")


class FaultTest(EmulatorTest):
    def test_429_and_5xx(self):
        self.emu.config(http_429_count=1, retry_after=2)
        status, resp, data = self.emu.request("GET", "/v1/batches")
        self.assertEqual(status, 429)
        self.assertEqual(resp.getheader("Retry-After"), "2")
        self.assertEqual(resp.getheader("x-ratelimit-remaining-requests"), "0")
        assert_error(self, json.loads(data), None, code="rate_limit_exceeded", type_="requests")
        self.assertEqual(self.emu.request("GET", "/v1/batches")[0], 200)
        self.emu.config(http_5xx_count=2, http_5xx_codes=[503])
        for _ in range(2):
            status, obj = self.emu.json("GET", "/v1/files")
            self.assertEqual(status, 503)
            self.assertEqual(obj["error"]["type"], "server_error")
        self.assertEqual(self.emu.request("GET", "/v1/files")[0], 200)
        # restricted to a path prefix: other paths are untouched
        self.emu.config(http_5xx_rate=1.0, fault_paths=["/v1/batches"])
        self.assertEqual(self.emu.request("GET", "/v1/files")[0], 200)
        self.assertEqual(self.emu.request("GET", "/v1/batches")[0], 503)

    def test_drop_before_and_after_action(self):
        self.emu.config(drop_count=1, fault_actions=["file.upload"])
        with self.assertRaises((http.client.HTTPException, ConnectionError)):
            self.emu.upload(chat_lines(1))
        self.assertEqual(self.emu.state()["files"], [])
        f = self.upload_ok(chat_lines(2))
        self.emu.config(drop_after_action_count=1, fault_actions=["batch.create"])
        with self.assertRaises((http.client.HTTPException, ConnectionError)):
            self.emu.create(f["id"], metadata={"job": "j1"})
        batches = self.emu.state()["batches"]
        self.assertEqual([b["metadata"] for b in batches], [{"job": "j1"}])
        log = [e for e in self.emu.log() if e["action"] in ("file.upload", "batch.create")]
        self.assertEqual([(e["action"], e["dropped"], e["acted"], e["status"]) for e in log[-3:]],
                         [("file.upload", True, False, None), ("file.upload", False, True, 200),
                          ("batch.create", True, True, None)])
        self.assertEqual(log[-1]["batch_id"], batches[0]["id"])
        self.assertEqual(log[-2]["sha256"], hashlib.sha256(
            chat_lines(2)).hexdigest())

    def test_truncated_download(self):
        b = self.run_batch(chat_lines(20))
        self.emu.config(truncate_download_count=1)
        conn = http.client.HTTPConnection("127.0.0.1", self.emu.port, timeout=10)
        conn.request("GET", f"/v1/files/{b['output_file_id']}/content", headers=self.emu.auth)
        resp = conn.getresponse()
        with self.assertRaises(http.client.IncompleteRead):
            resp.read()
        conn.close()
        self.assertEqual(len(self.emu.content(b["output_file_id"])), 20)

    def test_request_errors(self):
        self.emu.config(request_error_rate=1.0, request_error_codes=[500])
        b = self.run_batch(chat_lines(4))
        self.assertEqual(b["status"], "completed")
        self.assertIsNone(b["output_file_id"])
        self.assertEqual(b["request_counts"], {"total": 4, "completed": 0, "failed": 4})
        for line in self.emu.content(b["error_file_id"]):
            self.assertEqual(line["response"]["status_code"], 500)
            self.assertEqual(line["response"]["body"]["error"]["type"], "server_error")
        self.emu.config(request_error_rate=0.0, request_error_count=2,
                        request_error_codes=["request_timeout"])
        b = self.run_batch(chat_lines(5))
        self.assertEqual(b["request_counts"], {"total": 5, "completed": 3, "failed": 2})
        errs = self.emu.content(b["error_file_id"])
        self.assertEqual([(e["response"], e["error"]["code"]) for e in errs],
                         [(None, "request_timeout")] * 2)
        self.assertEqual(self.emu.json("GET", "/_emulator/config", auth=False)[1]
                         ["request_error_count"], 0)

    def test_expire(self):
        self.emu.config(expire_count=1, expire_after_fraction=0.5)
        b = self.run_batch(chat_lines(10))
        self.assertEqual(b["status"], "expired")
        self.assertIsNotNone(b["expired_at"])
        self.assertEqual(len(self.emu.content(b["output_file_id"])), 5)
        err = self.emu.content(b["error_file_id"])
        self.assertEqual(len(err), 5)
        self.assertEqual(err[0]["error"], {"code": "batch_expired", "message": "This request "
                         "could not be executed before the completion window expired."})
        self.assertIsNone(err[0]["response"])

    def test_fail_batch(self):
        self.emu.config(fail_batch_count=1)
        b = self.run_batch(chat_lines(3))
        self.assertEqual(b["status"], "failed")
        self.assertEqual(b["errors"]["data"][0]["code"], "server_error")
        self.assertEqual(self.run_batch(chat_lines(3))["status"], "completed")

    def test_token_limit(self):
        # 1,000 requests of ~20 tokens: one batch fits in 30,000, two do not.
        self.emu.config(speed=1.0, validating_seconds=0.05, in_progress_seconds=5,
                        enqueued_token_limit={"gpt-4o-mini": 30000})
        f1 = self.upload_ok(chat_lines(1000, prefix="a"))
        f2 = self.upload_ok(chat_lines(1000, prefix="b"))
        b1 = self.emu.create(f1["id"])[1]
        time.sleep(0.1)
        b2 = self.emu.create(f2["id"])[1]
        b2 = self.emu.wait(b2["id"], ("failed", "in_progress"))
        self.assertEqual(b2["status"], "failed")
        err = b2["errors"]["data"][0]
        self.assertEqual((err["code"], err["param"], err["line"]),
                         ("token_limit_exceeded", None, None))
        self.assertEqual(err["message"], "Enqueued token limit reached for gpt-4o-mini in "
                         "organization org-emulator. Limit: 30,000 enqueued tokens. Please try "
                         "again once some in_progress batches have been completed.")
        self.assertEqual(self.emu.json("GET", "/v1/batches/" + b1["id"])[1]["status"],
                         "in_progress")
        self.emu.config(token_limit_at_create=429)
        status, obj = self.emu.create(f2["id"])
        self.assertEqual(status, 429)
        self.assertEqual(obj["error"]["code"], "token_limit_exceeded")
        self.assertEqual(len(self.emu.state()["batches"]), 2)

    def test_file_visibility_delay(self):
        self.emu.config(file_visibility_delay=0.3)
        f = self.upload_ok(chat_lines(1))
        self.assertEqual(self.emu.json("GET", "/v1/files")[1]["data"], [])
        status, obj = self.emu.create(f["id"])
        self.assertEqual(status, 400)
        assert_error(self, obj, "^Cannot find file " + f["id"], param="file_id")
        time.sleep(0.35)
        self.assertEqual(self.emu.create(f["id"])[0], 200)

    def test_config_rejects_bad_values(self):
        for body in ({"nope": 1}, {"http_429_rate": 2}, {"request_error_codes": [200]},
                     {"enqueued_token_limit": "x"}):
            status, obj = self.emu.json("POST", "/_emulator/config", body, auth=False)
            self.assertEqual(status, 400, body)


class AzureTest(EmulatorTest):
    ARGS = ("--speed", "0", "--provider", "azure")

    def test_azure_paths_and_quirks(self):
        key = {"api-key": "azure-key"}
        status, obj = self.emu.json("GET", "/openai/files", auth=False, headers=key)
        self.assertEqual(status, 400)
        content = (json.dumps({"custom_id": "a", "method": "POST", "url": "/chat/completions",
                               "body": {"model": "my-deployment", "messages": [
                                   {"role": "user", "content": "hi"}]}}) + "\n").encode()
        status, f = self.emu.upload(content, path="/openai/files?api-version=2024-10-21",
                                    headers=key)
        self.assertEqual(status, 200, f)
        self.assertRegex(f["id"], r"^file-[0-9a-f]{32}$")
        status, b = self.emu.create(f["id"], endpoint="/chat/completions",
                                    path="/openai/v1/batches")
        self.assertEqual(status, 200, b)
        b = self.emu.wait(b["id"], path="/openai/v1/batches/")
        self.assertEqual(b["status"], "completed", b)
        out = self.emu.content(b["output_file_id"], path="/openai/v1/files/")
        self.assertIn("content_filter_results", out[0]["response"]["body"]["choices"][0])
        self.assertIsNotNone(b["error_file_id"])
        status, _, data = self.emu.request("GET", f"/openai/v1/files/{b['error_file_id']}/content")
        self.assertEqual((status, data), (200, b""))


class GroqTest(EmulatorTest):
    ARGS = ("--speed", "0", "--provider", "groq")

    def test_groq_window_and_endpoint(self):
        f = self.emu.upload(chat_lines(2), path="/openai/v1/files")[1]
        status, b = self.emu.create(f["id"], path="/openai/v1/batches", completion_window="7d")
        self.assertEqual(status, 200, b)
        self.assertEqual(b["expires_at"] - b["created_at"], 7 * 86400)
        status, obj = self.emu.create(f["id"], endpoint="/v1/embeddings",
                                      path="/openai/v1/batches")
        self.assertEqual(status, 400)
        self.assertEqual(self.emu.json("GET", "/v1/files")[0], 404)


class ProcessTest(unittest.TestCase):
    def test_signals_exit_zero_and_refuses_public_host(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            emu = Emulator("--speed", "0")
            try:
                self.assertEqual(emu.json("GET", "/_emulator/health", auth=False)[0], 200)
                os.kill(emu.proc.pid, sig)
                self.assertEqual(emu.proc.wait(5), 0)
                self.assertFalse(os.path.exists(emu.port_file))
            finally:
                emu.stop()
        proc = subprocess.run([sys.executable, EMULATOR, "--host", "0.0.0.0"],
                              capture_output=True, timeout=10)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(b"loopback", proc.stderr)


if __name__ == "__main__":
    unittest.main()
