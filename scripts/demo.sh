#!/bin/sh
# make demo: the bundled sample, through the whole pipeline, against the
# bundled emulator of the OpenAI API. No key and no network are needed.
# The run lives in .build/demo, so the real run directory (batch/) is left
# as it was; the emulator's files (its request log among them) are in
# .build/demo-emulator.
#
# The sample is the tracked one even when batch/ holds the user's own
# data: make_sample.py writes the same 1,000 items byte for byte, and the
# template comes from the last commit (batch/prompt.json outside a clone).
set -eu
# The demo's made-up answers stay out of a store of answers the user shares.
unset BATCHLINE_CACHE

dir=.build/demo
rm -rf "$dir" .build/demo-emulator
mkdir -p "$dir"
python3 scripts/make_sample.py --out "$dir/items.jsonl" > /dev/null
git show HEAD:batch/prompt.json > "$dir/prompt.json" 2> /dev/null || cp batch/prompt.json "$dir/prompt.json"

# emulator_process.py starts the emulator, runs the command with
# OPENAI_BASE_URL pointed at it, and stops the emulator afterwards.
python3 scripts/emulator_process.py .build/demo-emulator --speed 0.05 -- sh -c '
  echo "demo: emulator on $OPENAI_BASE_URL; running make merged cleaned BATCH=$1"
  BATCHLINE_PROVIDER=openai OPENAI_API_KEY=sk-demo make --no-print-directory merged cleaned BATCH="$1" POLL=1' demo "$dir"

echo
echo "demo: the answers are made up by the emulator (no model was asked); a real run needs OPENAI_API_KEY"
echo "demo: the result is $dir/items_classified.jsonl ($(wc -l < "$dir/items_classified.jsonl") items); its first line:"
head -n 1 "$dir/items_classified.jsonl"
echo "demo: the run's ledger is $dir/status.json; make status BATCH=$dir shows it"
