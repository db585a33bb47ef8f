# batchline: push a JSONL dataset through the OpenAI Batch API, one stale
# step at a time. `make help` lists the targets.
#
# Every step's target is a real file: a data file, or an empty stamp in
# $(BATCH)/.stamps touched after the tool succeeded. The paid or slow steps
# depend on their tool order-only (after the |), so rebuilding a tool never
# starts a new paid call; the tools themselves skip what status.json
# records as done, so rerunning a step is always safe.

BATCH   ?= batch
POLL    ?= 60
SWIFT   ?= swift
CONFIG  ?= release
PREFIX  ?= /usr/local
BIN     := .build/$(CONFIG)
STAMPS  := $(BATCH)/.stamps
TOOLS   := batch-prepare batch-upload batch-create batch-wait batch-download batch-sort batch-merge batch-cleanup
SOURCES := Package.swift $(shell find Sources -name '*.swift' 2>/dev/null)

export POLL MAX_COST TOKEN_LIMIT

.DEFAULT_GOAL := merged
.DELETE_ON_ERROR:
.SUFFIXES:
.PHONY: merged prepared uploaded created completed downloaded sorted cleaned retry status \
	demo test bench install clean help tools

## merged      run every stale step up to BATCH/items_classified.jsonl (the default target)
merged: $(BATCH)/items_classified.jsonl
## prepared    items + prompt.json -> in/batch_NNN.jsonl and a new status.json
prepared: $(STAMPS)/prepared
## uploaded    upload each request file
uploaded: $(STAMPS)/uploaded
## created     create one batch per uploaded file, within the enqueued-token limit
created: $(STAMPS)/created
## completed   wait until every batch has finished (POLL=seconds caps the polling)
completed: $(STAMPS)/completed
## downloaded  download the output and error files into out/
downloaded: $(STAMPS)/downloaded
## sorted      put each result file back in input order
sorted: $(STAMPS)/sorted
## cleaned     delete the run's remote files once their results are on disk
cleaned: $(STAMPS)/cleaned

# The tools. One swift build brings all eight up to date; SwiftPM relinks
# (and so re-dates) only the tools whose code changed.
tools: $(BIN)/.built
$(addprefix $(BIN)/,$(TOOLS)): $(BIN)/.built ;
$(BIN)/.built: $(SOURCES)
	$(SWIFT) build -c $(CONFIG)
	touch $@

# Local, cheap steps depend on their tool: a changed tool runs them again.
# prepare keeps the run when the request files come out the same.
$(STAMPS)/prepared: $(BATCH)/items.jsonl $(BATCH)/prompt.json $(BIN)/batch-prepare | $(STAMPS)
	$(BIN)/batch-prepare $(BATCH)
	touch $@

$(STAMPS)/uploaded: $(STAMPS)/prepared | $(BIN)/batch-upload
	$(BIN)/batch-upload $(BATCH)
	touch $@

$(STAMPS)/created: $(STAMPS)/uploaded | $(BIN)/batch-create
	$(BIN)/batch-create $(BATCH)
	touch $@

# batch-wait exits 75 only on network trouble: run make again.
$(STAMPS)/completed: $(STAMPS)/created | $(BIN)/batch-wait
	$(BIN)/batch-wait $(BATCH)
	touch $@

$(STAMPS)/downloaded: $(STAMPS)/completed | $(BIN)/batch-download
	$(BIN)/batch-download $(BATCH)
	touch $@

$(STAMPS)/sorted: $(STAMPS)/downloaded $(BIN)/batch-sort
	$(BIN)/batch-sort $(BATCH)
	touch $@

# batch-merge writes the file whole or not at all, and exits 0 when some
# items failed for good (it lists them, and make retry resubmits them).
$(BATCH)/items_classified.jsonl: $(STAMPS)/sorted $(BATCH)/items.jsonl $(BIN)/batch-merge
	$(BIN)/batch-merge $(BATCH)

$(STAMPS)/cleaned: $(STAMPS)/downloaded | $(BIN)/batch-cleanup
	$(BIN)/batch-cleanup $(BATCH)
	touch $@

$(STAMPS):
	mkdir -p $@

## retry       resubmit the retryable failures as a new round, then make merged
retry: $(STAMPS)/sorted | $(BIN)/batch-prepare
	$(BIN)/batch-prepare --retry $(BATCH)
	touch $(STAMPS)/prepared
	$(MAKE) --no-print-directory merged BATCH='$(BATCH)'

## status      one screen on the run: each batch's status, counts, ids, errors, cost
status: | $(BIN)/batch-wait
	$(BIN)/batch-wait --status $(BATCH)

## demo        run the sample through the bundled emulator (no key, no network)
demo: $(BIN)/.built
	sh scripts/demo.sh

## test        every test: the library, the emulator, and the tools end to end
# The library's tests get a TMPDIR of their own, removed afterwards: a
# download that fails in-process leaves FoundationNetworking's temporary
# file behind (the tools stage theirs in out/.incoming and sweep it).
test: $(BIN)/.built
	tmp=$$(mktemp -d) && TMPDIR=$$tmp $(SWIFT) test; status=$$?; rm -rf "$$tmp"; exit $$status
	python3 scripts/test_emulator.py
	python3 Tests/emulator/test_emulator_day.py
	python3 Tests/e2e/run.py $(BIN)
	python3 Tests/e2e/crash.py $(BIN)
	python3 Tests/e2e/providers.py $(BIN)
	python3 Tests/e2e/reliability.py $(BIN)

## bench       batchline against the article's Python steps (N=1000000 by default)
bench: $(BIN)/.built
	python3 scripts/bench.py

## install     put the eight tools in PREFIX/bin (PREFIX=/usr/local)
install: $(BIN)/.built
	mkdir -p '$(DESTDIR)$(PREFIX)/bin'
	for tool in $(TOOLS); do install -m 755 $(BIN)/$$tool '$(DESTDIR)$(PREFIX)/bin/'$$tool || exit 1; done

## clean       forget the run in BATCH (refused while batches are in flight)
clean: | $(BIN)/batch-cleanup
	$(BIN)/batch-cleanup --forget $(BATCH)

## help        this list; variables: BATCH=dir (batch), POLL=seconds (60), MAX_COST=usd, TOKEN_LIMIT=n
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)
