#!/usr/bin/env python3
"""Answers as users need them: HTTP 200 answers with nothing usable are
failures with their reason, "answer" in prompt.json picks what the field
holds (text, parsed JSON, message, body), several choices, tool calls,
base64 embeddings. Each expectation is worked out here from the raw result
lines the server sent, not from what merge wrote.

usage: python3 Tests/e2e/test_answers.py BIN_DIR [unittest options]
"""

import json
import struct
import sys

import support
from support import CHAT_PROMPT, COUNTER_RE, E2ETest, read_lines

UNUSABLE = ["--answer-refusal-rate", "0.04", "--answer-content-filter-rate", "0.04",
            "--answer-empty-length-rate", "0.04", "--answer-cut-rate", "0.04", "--seed", "7"]


def raw_results(run):
    """Every result line the server sent, by custom_id."""
    ledger = json.loads((run / "status.json").read_text())
    lines = {}
    for entry in ledger["files"]:
        outputs = entry.get("output_filenames") or {}
        for kind in ("ok", "failed"):
            local = (outputs.get(kind) or {}).get("local")
            if local:
                for line in read_lines(run / "out" / local):
                    result = json.loads(line)
                    lines[result["custom_id"]] = result
    return lines


def merged(run):
    return [json.loads(line) for line in read_lines(run / "items_classified.jsonl")]


def chat_expectation(body):
    """(answer, error) for a chat body, as the issue spells it."""
    message = body["choices"][0]["message"]
    finish = body["choices"][0]["finish_reason"]
    if message.get("content"):
        return message["content"], None
    if message.get("refusal"):
        return None, {"status": 200, "code": "refusal", "message": message["refusal"]}
    if message.get("tool_calls"):
        return message["tool_calls"], None
    return None, {"status": 200, "code": finish}


def completions_expectation(body):
    choice = body["choices"][0]
    if choice.get("text"):
        return choice["text"], None
    return None, {"status": 200, "code": choice["finish_reason"]}


def responses_expectation(body):
    texts, refusal = [], None
    for item in body.get("output") or []:
        for part in item.get("content") or []:
            if part.get("type") == "output_text":
                texts.append(part["text"])
            elif part.get("type") == "refusal":
                refusal = part["refusal"]
    if "".join(texts):
        return "".join(texts), None
    if refusal:
        return None, {"status": 200, "code": "refusal", "message": refusal}
    return None, {"status": 200, "code": (body.get("incomplete_details") or {}).get("reason")}


class TestAnswers(E2ETest):
    COUNT = 300

    def run_make(self, run, emulator):
        out, err = self.make("merged", "BATCH=%s" % run, "POLL=1", env=self.env(emulator))
        self.assertEqual(len(COUNTER_RE.findall(out)), 1, out)
        return out, err

    def check_unusable(self, run, emulator, expectation):
        """Every item gets exactly the answer or the error its raw line
        calls for; make retry resubmits none of the failures."""
        out, err = self.run_make(run, emulator)
        raw = raw_results(run)
        items = merged(run)
        self.assertEqual(len(items), self.COUNT)
        codes = {}
        for item in items:
            answer, error = expectation(raw[item["uuid"]]["response"]["body"])
            if error is None:
                self.assertEqual(item["llm"], answer, item["uuid"])
                self.assertNotIn("llm_error", item)
                continue
            self.assertIn("llm", item)
            self.assertIsNone(item["llm"], item["uuid"])
            got = item["llm_error"]
            self.assertEqual(set(got), {"status", "code", "message"}, got)
            self.assertEqual((got["status"], got["code"]), (error["status"], error["code"]), item["uuid"])
            if "message" in error:
                self.assertEqual(got["message"], error["message"])
            else:
                self.assertTrue(got["message"])
            codes[got["code"]] = codes.get(got["code"], 0) + 1
        self.assertGreaterEqual(len(codes), 2, codes)
        failed = sum(codes.values())
        self.assertIn("%d of %d items failed" % (failed, self.COUNT), err)
        self.assertIn("none can be retried", err)
        before = sorted(p.name for p in (run / "in").iterdir())
        out, err = self.make("retry", "BATCH=%s" % run, "POLL=1", env=self.env(emulator))
        self.assertIn("nothing to retry", err)
        self.assertEqual(sorted(p.name for p in (run / "in").iterdir()), before)
        return codes, err

    def test_chat_refusals_filtered_and_empty(self):
        emulator = self.start_emulator(*UNUSABLE)
        prompt = json.loads(json.dumps(CHAT_PROMPT))
        del prompt["body"]["max_tokens"]
        prompt["body"]["max_completion_tokens"] = 64
        run = self.new_run(count=self.COUNT, prompt=prompt)
        codes, err = self.check_unusable(run, emulator, chat_expectation)
        self.assertEqual(set(codes), {"refusal", "content_filter", "length"}, codes)
        self.assertIn("raise max_completion_tokens", err)
        cut = sum(1 for r in raw_results(run).values()
                  if r["response"]["body"]["choices"][0]["finish_reason"] == "length"
                  and r["response"]["body"]["choices"][0]["message"]["content"])
        self.assertGreater(cut, 0)
        self.assertIn("%d of %d answers stopped at the token limit" % (cut, self.COUNT - sum(codes.values())), err)

    def test_completions_empty(self):
        emulator = self.start_emulator(*UNUSABLE)
        run = self.new_run(count=self.COUNT, prompt={
            "url": "/v1/completions", "custom_id": "{{uuid}}",
            "body": {"model": "gpt-4o-mini", "max_tokens": 16, "prompt": "Classify: {{name}}"}})
        codes, _ = self.check_unusable(run, emulator, completions_expectation)
        self.assertIn("content_filter", codes)
        self.assertIn("length", codes)

    def test_responses_incomplete_and_refused(self):
        emulator = self.start_emulator(*UNUSABLE)
        run = self.new_run(count=self.COUNT, prompt={
            "url": "/v1/responses", "custom_id": "{{uuid}}",
            "body": {"model": "gpt-4o-mini", "max_output_tokens": 32, "input": "Classify: {{name}}"}})
        codes, err = self.check_unusable(run, emulator, responses_expectation)
        self.assertEqual(set(codes), {"refusal", "content_filter", "max_output_tokens"}, codes)
        self.assertIn("raise max_output_tokens", err)

    def test_several_choices(self):
        emulator = self.start_emulator()
        prompt = json.loads(json.dumps(CHAT_PROMPT))
        prompt["body"]["n"] = 3
        run = self.new_run(count=self.COUNT, prompt=prompt)
        self.run_make(run, emulator)
        raw = raw_results(run)
        for item in merged(run):
            choices = sorted(raw[item["uuid"]]["response"]["body"]["choices"], key=lambda c: c["index"])
            self.assertEqual(item["llm"], [c["message"]["content"] for c in choices])
        # The same results, merged again as whole messages.
        prompt["answer"] = "message"
        support.write_json(run / "prompt.json", prompt)
        self.tool("batch-merge", run, env=self.env())
        for item in merged(run):
            choices = sorted(raw[item["uuid"]]["response"]["body"]["choices"], key=lambda c: c["index"])
            self.assertEqual(item["llm"], [c["message"] for c in choices])
        # Merge reads "answer" again: a bad one is bad data, and nothing is written.
        before = (run / "items_classified.jsonl").read_bytes()
        prompt["answer"] = "texts"
        support.write_json(run / "prompt.json", prompt)
        _, err = self.tool("batch-merge", run, env=self.env(), expect=65)
        self.assertIn("prompt.json:", err)
        self.assertIn("'answer' must be one of", err)
        self.assertEqual((run / "items_classified.jsonl").read_bytes(), before)

    def test_tool_calls(self):
        emulator = self.start_emulator("--answer-tool-calls-rate", "1")
        prompt = json.loads(json.dumps(CHAT_PROMPT))
        prompt["body"]["tools"] = [{"type": "function", "function": {
            "name": "classify", "parameters": {
                "type": "object", "properties": {"label": {"type": "string"}}, "required": ["label"]}}}]
        run = self.new_run(count=self.COUNT, prompt=prompt)
        self.run_make(run, emulator)
        raw = raw_results(run)
        for item in merged(run):
            message = raw[item["uuid"]]["response"]["body"]["choices"][0]["message"]
            self.assertTrue(message["tool_calls"])
            self.assertEqual(item["llm"], message["tool_calls"])
        prompt["answer"] = "message"
        support.write_json(run / "prompt.json", prompt)
        self.tool("batch-merge", run, env=self.env())
        for item in merged(run):
            self.assertEqual(item["llm"], raw[item["uuid"]]["response"]["body"]["choices"][0]["message"])

    SCHEMA = {"type": "object", "additionalProperties": False, "required": ["label", "score", "tags"],
              "properties": {"label": {"type": "string", "enum": ["soup", "dessert", "main", "other"]},
                             "score": {"type": "number"},
                             "tags": {"type": "array", "items": {"type": "string"}}}}

    def structured_prompt(self):
        prompt = json.loads(json.dumps(CHAT_PROMPT))
        prompt["body"]["max_tokens"] = 200
        prompt["body"]["response_format"] = {"type": "json_schema", "json_schema": {
            "name": "label", "strict": True, "schema": self.SCHEMA}}
        prompt["answer"] = "json"
        return prompt

    def test_structured_output_parsed(self):
        emulator = self.start_emulator("--structured-outputs")
        run = self.new_run(count=self.COUNT, prompt=self.structured_prompt())
        self.run_make(run, emulator)
        raw = raw_results(run)
        for item in merged(run):
            content = raw[item["uuid"]]["response"]["body"]["choices"][0]["message"]["content"]
            self.assertIsInstance(item["llm"], dict)
            self.assertEqual(item["llm"], json.loads(content))
            self.assertNotIn("llm_error", item)
        line = read_lines(run / "items_classified.jsonl")[0]
        self.assertIn(b',"llm":{"', line)  # inserted compact, as a value

    def test_structured_output_mismatch(self):
        emulator = self.start_emulator("--structured-outputs", "--schema-mismatch-rate", "0.1",
                                       "--invalid-json-rate", "0.1", "--seed", "3")
        run = self.new_run(count=self.COUNT, prompt=self.structured_prompt())
        self.run_make(run, emulator)
        raw = raw_results(run)
        codes = {}
        for item in merged(run):
            content = raw[item["uuid"]]["response"]["body"]["choices"][0]["message"]["content"]
            try:
                value = json.loads(content)
            except ValueError:
                value = None
                expected = "invalid_json"
            else:
                ok = (set(value) == set(self.SCHEMA["required"]) and isinstance(value["label"], str)
                      and value["label"] in self.SCHEMA["properties"]["label"]["enum"]
                      and isinstance(value["score"], (int, float)) and not isinstance(value["score"], bool)
                      and isinstance(value["tags"], list) and all(isinstance(t, str) for t in value["tags"]))
                expected = None if ok else "schema_mismatch"
            if expected is None:
                self.assertEqual(item["llm"], value)
                continue
            self.assertIsNone(item["llm"])
            self.assertEqual(item["llm_error"]["status"], 200)
            self.assertEqual(item["llm_error"]["code"], expected, (content, item["llm_error"]))
            codes[expected] = codes.get(expected, 0) + 1
        self.assertEqual(set(codes), {"invalid_json", "schema_mismatch"}, codes)

    def test_structured_output_responses(self):
        emulator = self.start_emulator("--structured-outputs")
        run = self.new_run(count=100, prompt={
            "url": "/v1/responses", "custom_id": "{{uuid}}", "answer": "json",
            "body": {"model": "gpt-4o-mini", "max_output_tokens": 200, "input": "Classify: {{name}}",
                     "text": {"format": {"type": "json_schema", "name": "label", "strict": True,
                                         "schema": self.SCHEMA}}}})
        self.make("merged", "BATCH=%s" % run, "POLL=1", env=self.env(emulator))
        raw = raw_results(run)
        for item in merged(run):
            text, error = responses_expectation(raw[item["uuid"]]["response"]["body"])
            self.assertIsNone(error)
            self.assertEqual(item["llm"], json.loads(text))
            self.assertIsInstance(item["llm"], dict)

    def test_base64_embeddings(self):
        emulator = self.start_emulator()
        run = self.new_run(count=50, prompt={
            "url": "/v1/embeddings", "custom_id": "{{uuid}}",
            "body": {"model": "text-embedding-3-small", "input": ["{{name}}"], "dimensions": 6,
                     "encoding_format": "base64"}})
        self.make("merged", "BATCH=%s" % run, "POLL=1", env=self.env(emulator))
        raw = raw_results(run)
        for item in merged(run):
            data = raw[item["uuid"]]["response"]["body"]["data"]
            self.assertEqual(len(data), 1)
            floats = list(struct.unpack("<6f", __import__("base64").b64decode(data[0]["embedding"])))
            self.assertEqual(len(item["llm"]), 1, "an input array of one text gives an array of one vector")
            # Each number reads back as the same float32.
            self.assertEqual([struct.unpack("<f", struct.pack("<f", x))[0] for x in item["llm"][0]], floats)

    def test_moderations_give_results(self):
        emulator = self.start_emulator()
        items = [{"id": "s%d" % n, "text": "text %d" % n} for n in range(5)]
        items += [{"id": "a%d" % n, "text": ["first %d" % n, "second %d" % n]} for n in range(5)]
        run = self.new_run(items=items, prompt={
            "url": "/v1/moderations", "custom_id": "{{id}}",
            "body": {"model": "omni-moderation-latest", "input": "{{text}}"}})
        self.make("merged", "BATCH=%s" % run, "POLL=1", env=self.env(emulator))
        raw = raw_results(run)
        for item in merged(run):
            results = raw[item["id"]]["response"]["body"]["results"]
            if isinstance(item["text"], list):
                self.assertEqual(item["llm"], results)
                self.assertEqual(len(results), 2)
            else:
                self.assertEqual(item["llm"], results[0])


class TestLineErrors(E2ETest):
    def test_each_item_gets_its_own_lines_error(self):
        emulator = self.start_emulator(
            "--invalid-lines", "2,5", "--invalid-lines-error",
            json.dumps({"code": "invalid_request", "message": "bad request here"}))
        run = self.new_run(count=8, prompt=CHAT_PROMPT)
        self.make("merged", "BATCH=%s" % run, "POLL=1", env=self.env(emulator))
        ledger = json.loads((run / "status.json").read_text())
        self.assertEqual([f["status"] for f in ledger["files"]], ["failed"])
        self.assertEqual([e["line"] for e in ledger["files"][0]["errors"]], [2, 5])
        for number, item in enumerate(merged(run), 1):
            self.assertIsNone(item["llm"])
            error = item["llm_error"]
            self.assertEqual(error["code"], "invalid_request")
            # Lines 2 and 5 name their own line; the others get the batch's
            # first error, which is line 2's.
            line = number if number in (2, 5) else 2
            self.assertEqual(error["message"], "the batch failed: line %d: bad request here" % line)


if __name__ == "__main__":
    sys.exit(support.main(sys.modules[__name__]))
