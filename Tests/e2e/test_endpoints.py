#!/usr/bin/env python3
"""Other endpoints and template features: embeddings, responses, line
numbers as ids, another output field, the whole item, array indexes, CRLF
lines and the rendering of each kind of placeholder.

usage: python3 Tests/e2e/test_endpoints.py BIN_DIR [unittest options]
"""

import json
import sys

import support
from support import CHAT_PROMPT, COUNTER_RE, E2ETest, make_sample, nonempty_string, read_lines


class TestEndpoints(E2ETest):
    COUNT = 300

    def run_make(self, run, emulator):
        out, err = self.make("merged", "BATCH=%s" % run, "POLL=1", env=self.env(emulator))
        self.assertEqual(len(COUNTER_RE.findall(out)), 1, out)
        return out, err

    def requests(self, run):
        lines = []
        for path in sorted((run / "in").glob("batch_*.jsonl")):
            lines.extend(json.loads(line) for line in read_lines(path))
        return lines

    def test_embeddings(self):
        emulator = self.start_emulator()
        run = self.new_run(count=self.COUNT, prompt={
            "url": "/v1/embeddings",
            "custom_id": "{{uuid}}",
            "body": {"model": "text-embedding-3-small", "input": "{{description}}",
                     "dimensions": 8},
        })
        self.run_make(run, emulator)
        requests = self.requests(run)
        self.assertEqual(len(requests), self.COUNT)
        self.assertTrue(all(r["url"] == "/v1/embeddings" for r in requests))

        def vector(answer):
            return (isinstance(answer, list) and len(answer) == 8
                    and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                            for x in answer))
        self.assert_merged(run, answer_check=vector)

    def test_responses(self):
        emulator = self.start_emulator()
        run = self.new_run(count=self.COUNT, prompt={
            "url": "/v1/responses",
            "custom_id": "{{uuid}}",
            "body": {"model": "gpt-4o-mini", "max_output_tokens": 32,
                     "input": "Classify this food item in one word: {{name}}. {{description}}"},
        })
        self.run_make(run, emulator)
        self.assertTrue(all(r["url"] == "/v1/responses" for r in self.requests(run)))
        self.assert_merged(run, answer_check=nonempty_string)

    def test_line_numbers_as_ids_and_output_field(self):
        emulator = self.start_emulator()
        prompt = json.loads(json.dumps(CHAT_PROMPT))
        del prompt["custom_id"]
        prompt["output_field"] = "label"
        run = self.new_run(count=self.COUNT, prompt=prompt)
        self.run_make(run, emulator)
        ids = [r["custom_id"] for r in self.requests(run)]
        self.assertEqual(ids, [str(n) for n in range(1, self.COUNT + 1)])
        self.assertEqual(json.loads((run / "status.json").read_text())["output_field"], "label")
        self.assert_merged(run, field="label", answer_check=nonempty_string)
        for line in read_lines(run / "items_classified.jsonl"):
            self.assertNotIn("llm", json.loads(line))

    def test_whole_item_and_array_index(self):
        emulator = self.start_emulator()
        make_sample(self.tmp / "sample.jsonl", self.COUNT)
        compact = [line for line in read_lines(self.tmp / "sample.jsonl")
                   if json.loads(line)["tags"]]
        # The items as written with insignificant whitespace: {{.}} compacts them.
        spaced = [json.dumps(json.loads(line), ensure_ascii=False).encode() for line in compact]
        self.assertNotEqual(spaced[0], compact[0])
        run = self.new_run(items=b"\n".join(spaced) + b"\n", prompt={
            "url": "/v1/chat/completions",
            "custom_id": "{{ uuid }}",
            "body": {"model": "gpt-4o-mini", "max_tokens": 20, "messages": [
                {"role": "user", "content": "First tag: {{tags.0}}. Item: {{.}}"}]},
        })
        self.tool("batch-prepare", run, env=self.env())
        requests = self.requests(run)
        self.assertEqual(len(requests), len(compact))
        for request, line in zip(requests, compact):
            item = json.loads(line)
            self.assertEqual(request["custom_id"], item["uuid"])
            self.assertEqual(request["body"]["messages"][0]["content"],
                             "First tag: %s. Item: %s" % (item["tags"][0], line.decode()))
        self.run_make(run, emulator)
        self.assert_merged(run, answer_check=nonempty_string)


    def test_crlf_lines_and_no_final_newline(self):
        emulator = self.start_emulator()
        make_sample(self.tmp / "sample.jsonl", 50)
        lines = read_lines(self.tmp / "sample.jsonl")
        run = self.new_run(items=b"\r\n".join(lines), prompt=CHAT_PROMPT)
        self.run_make(run, emulator)
        merged = (run / "items_classified.jsonl").read_bytes()
        self.assertNotIn(b"\r", merged.replace(b"\\r", b""))
        self.assertTrue(merged.endswith(b"\n"))
        self.assert_merged(run, answer_check=nonempty_string, items_path=self.tmp / "sample.jsonl")

    def test_placeholder_rendering(self):
        item = (b'{"id": "p1", "n": 1.50, "e": 1E3, "z": null, "s": "say \\"hi\\"\\tnow", '
                b'"o": {"k": [1, 2]}, "texts": ["a", "b"]}\n')
        run = self.new_run(items=item, prompt={
            "url": "/v1/chat/completions",
            "custom_id": "{{ id }}-{{n}}",
            "body": {"model": "gpt-4o-mini", "max_tokens": 5, "messages": [
                {"role": "user", "content": "n={{n}} e={{e}} z={{z}} s={{s}} o={{o}}"}]},
        })
        self.tool("batch-prepare", run, env=self.env(key=None))
        request = json.loads(read_lines(run / "in" / "batch_001.jsonl")[0])
        self.assertEqual(request["custom_id"], "p1-1.50")
        self.assertEqual(request["body"]["messages"][0]["content"],
                         'n=1.50 e=1E3 z= s=say "hi"\tnow o={"k":[1,2]}')
        # A string that is exactly one placeholder takes the value with its type.
        (run / "prompt.json").write_text(json.dumps({
            "url": "/v1/embeddings", "custom_id": "{{id}}",
            "body": {"model": "text-embedding-3-small", "input": "{{texts}}"}}))
        self.tool("batch-prepare", run, env=self.env(key=None))
        line = read_lines(run / "in" / "batch_001.jsonl")[0]
        self.assertIn(b'"input":["a","b"]', line)
        self.assertEqual(json.loads(line)["body"]["input"], ["a", "b"])


if __name__ == "__main__":
    sys.exit(support.main(sys.modules[__name__]))
