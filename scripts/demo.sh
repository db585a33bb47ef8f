#!/bin/sh
# make demo: the bundled sample, through the whole pipeline, against the
# bundled emulator of the OpenAI API. No key and no network are needed.
# The run lives in .build/demo, so the real run directory (batch/) is left
# as it was; the emulator's files (its request log among them) are in
# .build/demo-emulator.
set -eu

dir=.build/demo
rm -rf "$dir" .build/demo-emulator
mkdir -p "$dir"
cp batch/items.jsonl batch/prompt.json "$dir/"

# emulator_process.py starts the emulator, runs the command with
# OPENAI_BASE_URL pointed at it, and stops the emulator afterwards.
python3 scripts/emulator_process.py .build/demo-emulator --speed 0.05 -- sh -c '
  echo "demo: emulator on $OPENAI_BASE_URL; running make merged cleaned BATCH=$1"
  BATCHLINE_PROVIDER=openai OPENAI_API_KEY=sk-demo make --no-print-directory merged cleaned BATCH="$1" POLL=1' demo "$dir"

echo
echo "demo: the result is $dir/items_classified.jsonl ($(wc -l < "$dir/items_classified.jsonl") items); its first line:"
head -n 1 "$dir/items_classified.jsonl"
echo "demo: the run's ledger is $dir/status.json; make status BATCH=$dir shows it"
