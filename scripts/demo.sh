#!/bin/sh
# make demo: the bundled sample, through the whole pipeline, against the
# bundled emulator of the OpenAI API. No key and no network are needed.
# The run lives in .build/demo, so the real run directory (batch/) is left
# as it was.
set -eu

bin=${BIN:-.build/release}
dir=.build/demo
port_file=.build/demo.port
rm -rf "$dir" "$port_file"
mkdir -p "$dir"
cp batch/items.jsonl batch/prompt.json "$dir/"

python3 scripts/emulator.py --port 0 --port-file "$port_file" --speed 0.05 --log .build/demo.log &
emulator=$!
trap 'kill "$emulator" 2>/dev/null || true; wait "$emulator" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM

tries=0
while [ ! -s "$port_file" ]; do
  tries=$((tries + 1))
  if [ "$tries" -gt 100 ]; then
    echo "demo: the emulator did not start" >&2
    exit 1
  fi
  sleep 0.1
done
port=$(cat "$port_file")

echo "demo: emulator on http://127.0.0.1:$port/v1; running make merged cleaned BATCH=$dir"
OPENAI_BASE_URL="http://127.0.0.1:$port/v1" OPENAI_API_KEY=sk-demo \
  make --no-print-directory merged cleaned BATCH="$dir" POLL=1

echo
echo "demo: the result is $dir/items_classified.jsonl ($(wc -l < "$dir/items_classified.jsonl") items); its first line:"
head -n 1 "$dir/items_classified.jsonl"
echo "demo: the run's ledger is $dir/status.json; make status BATCH=$dir shows it"
