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
# BIN=dir runs the tools in dir (installed ones, say) instead of building them.
BIN     := .build/$(CONFIG)
# install and dist: the portable build, the tree they copy, where the archive goes.
PORTABLE := .build/portable
STAGE    := $(PORTABLE)/stage
DISTDIR  ?= .
STAMPS  := $(BATCH)/.stamps
TOOLS   := batch-prepare batch-upload batch-create batch-wait batch-download batch-sort batch-merge batch-cleanup
SOURCES := Package.swift $(shell find Sources -name '*.swift' 2>/dev/null)

export POLL MAX_COST TOKEN_LIMIT COMPLETION_WINDOW

.DEFAULT_GOAL := merged
.DELETE_ON_ERROR:
.SUFFIXES:
.PHONY: merged prepared uploaded created completed downloaded sorted cleaned retry status \
	demo test test-library $(EMULATOR_TESTS) bench install uninstall dist clean help tools cancelled

## merged      run every stale step up to BATCH/items_classified.jsonl (the default target)
merged: $(BATCH)/items_classified.jsonl
## prepared    items + prompt.json -> in/batch_NNN.jsonl and a new status.json
prepared: $(STAMPS)/prepared
## uploaded    upload each request file
uploaded: $(STAMPS)/uploaded
## created     create one batch per uploaded file, within the enqueued-token limit
created: $(STAMPS)/created
## completed   wait until every batch has finished (POLL=seconds between reads of a batch)
completed: $(STAMPS)/completed
## downloaded  download the output and error files into out/
downloaded: $(STAMPS)/downloaded
## sorted      put each result file back in input order
sorted: $(STAMPS)/sorted
## cleaned     delete the run's remote files once their results are on disk (starts nothing)
cleaned: | $(BIN)/batch-cleanup
	$(BIN)/batch-cleanup $(BATCH)

# The tools. One swift build brings all eight up to date; SwiftPM relinks
# (and so re-dates) only the tools whose code changed.
tools: $(BIN)/.built
ifeq ($(BIN),.build/$(CONFIG))
$(addprefix $(BIN)/,$(TOOLS)): $(BIN)/.built ;
endif
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

$(STAMPS):
	mkdir -p $@

## retry       resubmit the retryable failures as a new round, then make merged
retry: $(STAMPS)/sorted | $(BIN)/batch-prepare
	$(BIN)/batch-prepare --retry $(BATCH)
	touch $(STAMPS)/prepared
	$(MAKE) --no-print-directory merged BATCH='$(BATCH)'

## cancelled   cancel every batch not ended, wait for them, download what they finished
# No run lock: it works while make merged waits on the run in another
# terminal, which then ends by itself and merges what finished.
cancelled: | $(BIN)/batch-wait
	$(BIN)/batch-wait --cancel $(BATCH)

## status      one screen on the run: each batch's status, counts, ids, errors, cost
status: | $(BIN)/batch-wait
	$(BIN)/batch-wait --status $(BATCH)

## demo        run the sample through the bundled emulator (no key, no network)
demo: $(BIN)/.built
	sh scripts/demo.sh

## test        every test: the library, the emulator, and the tools end to end
# First the two builds the tools' tests need, side by side: the tools, and
# the portable build (for test_install.py only). Then the tools end to end,
# in worker processes side by side (Tests/e2e/runner.py), while the
# library's tests (their debug build needs .build, which SwiftPM lets one
# build hold at a time: it is free now) and the emulator's two test files
# run in the background; their output, each job's whole, follows the end to
# end summary. Most of the tests' time is spent waiting on the emulator's
# clock and the tools' pauses, not on the CPU. A background shell ignores
# ^C: the trap stops that make, by its process id, which stops its jobs.
# That line names make through BACKGROUND_MAKE: a line that says $(MAKE)
# runs even under make -n, and this one runs the tests.
EMULATOR_TESTS := test-emulator test-emulator-day
BACKGROUND_MAKE = $(MAKE)
test:
	$(MAKE) --no-print-directory -j2 -Otarget $(BIN)/.built $(STAGE)/.staged
	@echo 'the tools end to end; the library and the emulator meanwhile, their output after'
	@log=$$(mktemp) lane=; trap 'rm -f "$$log"' EXIT; trap '[ -z "$$lane" ] || kill $$lane; exit 130' INT TERM; \
	$(BACKGROUND_MAKE) --no-print-directory -j3 -Otarget test-library $(EMULATOR_TESTS) >"$$log" 2>&1 & lane=$$!; \
	python3 Tests/e2e/all.py $(BIN); e2e=$$?; \
	wait $$lane; others=$$?; lane=; cat "$$log"; \
	echo "make test: the tools end to end $$([ $$e2e = 0 ] && echo passed || echo FAILED)," \
		"the library and the emulator $$([ $$others = 0 ] && echo passed || echo FAILED)"; \
	[ $$e2e = 0 ] && [ $$others = 0 ]

# The library's tests get a TMPDIR of their own, removed afterwards, so
# that no scratch file a failing test leaves behind outlives the run.
# Their build leaves the eight debug tools out: nothing runs them.
test-library:
	$(SWIFT) build --product batchlinePackageTests
	tmp=$$(mktemp -d) && TMPDIR=$$tmp $(SWIFT) test --skip-build; status=$$?; rm -rf "$$tmp"; exit $$status

$(EMULATOR_TESTS): test-%:
	python3 Tests/emulator/test_$(subst -,_,$*).py

## bench       batchline against the article's Python steps (N=1000000 by default)
bench: $(BIN)/.built
	python3 scripts/bench.py

# Installed tools need no Swift toolchain. A build of their own links them,
# stripped, to look for the Swift runtime in $ORIGIN/../lib/batchline only
# (not in the toolchain, not beside themselves); it has its own scratch
# path because the flags reach the compiler, and switching .build/release
# between two sets would recompile it each time. scripts/stage.sh puts the
# toolchain's libraries they load beside them, and their manual pages;
# install and dist copy that one staged tree.
$(PORTABLE)/release/.built: $(SOURCES)
	$(SWIFT) build -c release --scratch-path $(PORTABLE) --disable-local-rpath \
		-Xswiftc -no-toolchain-stdlib-rpath -Xlinker -rpath -Xlinker '$$ORIGIN/../lib/batchline' -Xlinker --strip-all
	touch $@
$(STAGE)/.staged: $(PORTABLE)/release/.built scripts/stage.sh scripts/manpage.py man/batchline.7.in Makefile
	SWIFT='$(SWIFT)' sh scripts/stage.sh $(PORTABLE)/release $(STAGE) $(TOOLS)
	touch $@

## install     the tools, their libraries and manual pages under PREFIX (/usr/local), DESTDIR too
install: $(STAGE)/.staged
	install -d '$(DESTDIR)$(PREFIX)/bin' '$(DESTDIR)$(PREFIX)/lib/batchline' \
		'$(DESTDIR)$(PREFIX)/share/man/man1' '$(DESTDIR)$(PREFIX)/share/man/man7'
	install -m 755 $(STAGE)/bin/* '$(DESTDIR)$(PREFIX)/bin/'
	install -m 644 $(STAGE)/lib/batchline/* '$(DESTDIR)$(PREFIX)/lib/batchline/'
	install -m 644 $(STAGE)/share/man/man1/* '$(DESTDIR)$(PREFIX)/share/man/man1/'
	install -m 644 $(STAGE)/share/man/man7/* '$(DESTDIR)$(PREFIX)/share/man/man7/'

## uninstall   remove what make install put under PREFIX
uninstall:
	for tool in $(TOOLS); do rm -f '$(DESTDIR)$(PREFIX)/bin/'$$tool '$(DESTDIR)$(PREFIX)/share/man/man1/'$$tool.1; done
	rm -rf '$(DESTDIR)$(PREFIX)/lib/batchline'
	rm -f '$(DESTDIR)$(PREFIX)/share/man/man7/batchline.7'

## dist        DISTDIR/batchline-VERSION-linux-ARCH.tar.gz: what install installs, README, LICENSE
# The version is the one the tools print.
dist: $(STAGE)/.staged README.md LICENSE
	sh scripts/dist.sh $(STAGE) '$(DISTDIR)'

## clean       forget the run in BATCH, deleting its remote files first when the key is set (refused while batches are in flight)
clean: | $(BIN)/batch-cleanup
	$(BIN)/batch-cleanup --forget $(BATCH)

## help        this list; variables: BATCH=dir (batch), POLL=seconds (60), MAX_COST=usd, TOKEN_LIMIT=n, COMPLETION_WINDOW=24h, BIN=dir
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)
