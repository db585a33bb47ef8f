#!/usr/bin/env python3
"""Prices that never guess: a model the table does not list has no price;
prepare names it with the nearest known names and estimates the rest,
MAX_COST refuses the run, merge reports its tokens apart, and a model the
server does not know gets the same hint.

usage: python3 Tests/e2e/test_prices.py BIN_DIR [unittest options]
"""

import json
import sys

import support
from support import CHAT_PROMPT, COUNTER_RE, E2ETest


def prompt_for(model):
    prompt = json.loads(json.dumps(CHAT_PROMPT))
    prompt["body"]["model"] = model
    return prompt


class TestPrices(E2ETest):
    HINT = "no price for 'gpt-4o-mnii' (did you mean gpt-4o-mini?); add it to prices.json"

    def test_prepare_names_the_unpriced_model_and_max_cost_refuses(self):
        run = self.new_run(count=20, prompt=prompt_for("gpt-4o-mnii"))
        _, err = self.tool("batch-prepare", run, env=self.env(key=None))
        self.assertIn("batch-prepare: " + self.HINT + "\n", err)
        self.assertIn("no cost estimate: no price for gpt-4o-mnii", err)
        run = self.new_run(name="limited", count=20, prompt=prompt_for("gpt-4o-mnii"))
        _, err = self.tool("batch-prepare", "--max-cost", "100", run, env=self.env(key=None), expect=78)
        self.assert_one_line(err, "batch-prepare")
        self.assertIn(self.HINT, err)
        # A listed model is priced; a snapshot priced apart from its model is not guessed.
        for model, priced in [("gpt-4o-mini", True), ("gpt-4o-2024-05-13", False), ("o1-pro", False)]:
            run = self.new_run(name=model, count=5, prompt=prompt_for(model))
            _, err = self.tool("batch-prepare", run, env=self.env(key=None), expect=None)
            self.assertEqual("no price for '%s'" % model in err, not priced, err)
            self.assertEqual("estimated cost" in err, priced, err)

    def test_merge_reports_the_tokens_it_cannot_price(self):
        emulator = self.start_emulator()
        run = self.new_run(count=30, prompt=prompt_for("o1-pro"))
        out, err = self.make("merged", "BATCH=%s" % run, "POLL=1", env=self.env(emulator))
        counter = COUNTER_RE.findall(out)
        self.assertEqual(len(counter), 1, out)
        self.assertEqual(counter[0][0], "0.00")
        # The server reports a dated snapshot of what was asked: no price either.
        self.assertRegex(err, r"no price for 'o1-pro-\d{4}-\d\d-\d\d'.*; its [\d,]+ input and [\d,]+ output tokens "
                              r"are not in the price")

    def test_a_snapshot_of_the_requested_model_has_its_price(self):
        emulator = self.start_emulator()
        run = self.new_run(count=30, prompt=prompt_for("gpt-4.1-mini"))
        out, err = self.make("merged", "BATCH=%s" % run, "POLL=1", env=self.env(emulator))
        price = float(COUNTER_RE.findall(out)[0][0])
        self.assertNotIn("no price", err)
        self.assertGreaterEqual(price, 0.0)

    def test_model_not_found_gets_the_hint(self):
        emulator = self.start_emulator("--unsupported-models", "gpt-4o-mnii")
        run = self.new_run(count=10, prompt=prompt_for("gpt-4o-mnii"))
        out, err = self.make("merged", "BATCH=%s" % run, "POLL=1", env=self.env(emulator))
        for line in support.read_lines(run / "items_classified.jsonl"):
            self.assertEqual(json.loads(line)["llm_error"]["code"], "model_not_found")
        self.assertIn("batch-merge: model_not_found 10: the server does not know the model", err)
        self.assertIn("batch-merge: " + self.HINT, err)


if __name__ == "__main__":
    sys.exit(support.main(sys.modules[__name__]))
