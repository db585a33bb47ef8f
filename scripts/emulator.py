#!/usr/bin/env python3
"""Emulator of the OpenAI Files and Batches HTTP API, for batchline's demo and tests.

Python 3.11 standard library only. It listens on a loopback address only,
keeps its state in memory and the file bodies on disk, answers every batch
request with a deterministic synthetic response, and can inject the faults a
batch client must survive.

Usage:
    python3 scripts/emulator.py [--port 0] [--port-file PATH] [--log PATH] [options]

    Tests start it on port 0 with --port-file and wait for the file to appear
    (it is written atomically once the socket listens), then use
    http://127.0.0.1:PORT/v1 as OPENAI_BASE_URL with any key (e.g. sk-test).
    SIGTERM or SIGINT stops it cleanly with exit status 0.

Main options:
    --host 127.0.0.1        loopback only; anything else is refused
    --port N                0 picks a free port
    --port-file PATH        the port actually used, written once listening
    --log PATH              request log, JSONL, one line per request
    --data-dir DIR          file bodies (default: a temp dir removed at exit)
    --provider P            openai (base /v1), azure (/openai?api-version=...
                            and /openai/v1, `api-key` header), groq (/openai/v1)
    --api-key K             accept only this key
    --refuse-key K          refuse this key (repeatable); by default any
                            non-empty key is accepted except sk-refused*
    --missing-file-400      unknown input file: 400 at create (2024) instead of
                            a batch that fails validation (2025)
    --verbose               one line per request on stderr
    Every setting below is also an option: --http-429-rate 0.2,
    --request-error-codes 500,429, --enqueued-token-limit gpt-4o-mini=2000000 ...

Settings (GET /_emulator/config returns them; POST /_emulator/config with a
JSON object merges into them at run time; unknown keys or bad values are 400):
    speed                   multiplies every phase duration (0 = instant)
    validating_seconds, in_progress_seconds, per_request_seconds,
    finalizing_seconds, cancelling_seconds      phase durations before `speed`
    seed                    seeds the fault RNG (setting it reseeds)
    http_429_rate/_count, retry_after           429 + Retry-After + x-ratelimit-*
    http_5xx_rate/_count, http_5xx_codes        500/502/503 server_error
    drop_rate/_count                            close the connection, no action
    drop_after_action_rate/_count               act (upload, create, delete,
                                                cancel), then close unanswered
    truncate_download_rate/_count               full Content-Length, half body
    fault_paths, fault_methods, fault_actions   restrict the five faults above
    request_error_rate/_count, request_error_codes   per-request failures in the
                            error file (ints = HTTP status, "request_timeout")
    expire_rate/_count, expire_after_fraction   batch expires part-way
    fail_batch_rate/_count, fail_batch_error    batch fails validation anyway
    cancel_writes_error_lines                   batch_cancelled error lines
    enqueued_token_limit    null, an int (every model) or {"model": int}
    token_limit_at_create   null, 400 or 429: reject at create, not at validation
    file_visibility_delay   seconds before an upload can be seen
    missing_file_400, unsupported_models, max_requests_per_batch,
    max_batch_file_bytes, api_key, refuse_keys, output_style ("spaced"|"compact")
    A _rate is a probability per eligible event; a _count fails the next N
    eligible events first (and counts down).

A day on the real service (all off by default):
    Long batches: raise in_progress_seconds (e.g. --in-progress-seconds 300
        --speed 1); request_counts.completed creeps up linearly through it, then
        finalizing, then completed.
    held_share, held_seconds    another job of the organisation holds
        held_share of each model's enqueued_token_limit and
        enqueued_request_limit for held_seconds wall seconds (not scaled by
        speed), counted from startup, /_emulator/reset, or a config POST that
        sets either key. A batch over the remaining capacity fails validation
        with errors.data[0].code token_limit_exceeded ("... Limit: 2,000,000
        enqueued tokens ..."), or with token_limit_at_create is refused at
        POST /v1/batches with that error; once the hold ends it fits again.
    held_visible                that job's batch shows in GET /v1/batches
        (listed last, metadata {"job": "nightly-report", "owner": "another
        team"}, in_progress while it holds, then completed) and GET
        /v1/batches/{id}; cancelling it ends the hold and sets
        held_batch_cancelled in /_emulator/stats (a client must never cancel
        what is not its own).
    enqueued_request_limit      like enqueued_token_limit, counting requests
        (lines) per model: "Enqueued request limit reached for M in
        organization org-emulator. Limit: 1,000,000 enqueued requests."; its
        code is request_limit_code (default request_limit_exceeded: the real
        code is not published).
    Cancel: POST /v1/batches/{id}/cancel gives cancelling, then cancelled after
        cancelling_seconds * speed; the output file holds what finished before
        the cancel, request_counts match it (cancel_writes_error_lines adds
        batch_cancelled lines for the rest).
    file_processing_seconds     an upload reports status "uploaded" (Azure:
        "pending") for this many wall seconds, then "processed"; a batch created
        on it before then is refused: 400, code file_not_processed.
    file_error_rate/_count, file_error_details   the upload ends in status
        "error" with status_details; a batch on it: 400, code invalid_file.
    track_answers               count the successful answers of finished
        batches per custom_id ("answered" in /_emulator/stats): a request
        answered in two batches was paid twice.
    expires_after on uploads and output_expires_after on batches are
        validated (OpenAI: 3600..2592000 s; Azure: 1209600..2592000 s) and
        echoed as the files' expires_at. Azure also takes the upload fields
        as its REST samples write them, expires_after.anchor and .seconds.

Answers with HTTP 200 and nothing usable, and richer answers (all off by
default; which requests are hit is fixed by a hash of the custom_id, so the
same ids get the same answers in every batch and every retry):
    answer_refusal_rate         chat: message.content null, message.refusal text,
        finish_reason stop; responses: a "refusal" content part; completions:
        empty text, finish_reason content_filter
    answer_content_filter_rate  chat: content null, finish_reason
        content_filter (Azure: a filtered content_filter_results); responses:
        status incomplete, incomplete_details.reason content_filter, no message;
        completions: empty text, finish_reason content_filter
    answer_empty_length_rate    the whole budget went to reasoning: chat content
        "", finish_reason length, reasoning_tokens = max_completion_tokens (or
        4096); responses: incomplete, reason max_output_tokens, no message;
        completions: empty text, finish_reason length
    answer_cut_rate             a non-empty text cut short: finish_reason length
        (responses: incomplete, max_output_tokens, with its partial text)
        These four rates are cumulative shares of one draw (their sum <= 1).
    n > 1 is always honoured: n choices (up to 128), index order, distinct texts.
    answer_tool_calls_rate      of requests with function tools: chat
        message.tool_calls [{id call_..., type function, function {name,
        arguments}}], content null, finish_reason tool_calls; responses: a
        function_call output item. Arguments are built from the tool's
        parameters schema.
    structured_outputs          response_format (chat) or text.format
        (responses) json_schema: the text is a JSON object built to match the
        schema (every property; strings, numbers, integers, booleans, arrays,
        enums, anyOf, $ref); json_object: {"answer": label}
    schema_mismatch_rate, invalid_json_rate   of those structured answers: one
        with a required property missing (else a wrong type), one cut in the
        middle (not JSON)
    invalid_lines, invalid_lines_error   these line numbers fail validation in
        every input file: errors.data[] gets one entry per line with "line",
        and the code and message of invalid_lines_error
    Embeddings always honour encoding_format base64 (little-endian float32)
        and input arrays (one embedding per input, in index order).

A hostile server (all off by default; the first three are HTTP faults with a
_rate and a _count, restricted by fault_paths / fault_methods / fault_actions):
    huge_body_rate/_count, huge_body_bytes (1 GiB), huge_body_status (200)
        answer, instead of acting, with a JSON body of huge_body_bytes streamed
        a MiB at a time (exact Content-Length): status 200 gives
        {"object": "batch", "padding": "xxx..."}, an error status gives the
        error envelope with a message of x's. Memory stays flat.
        huge_body_chunked: sent with Transfer-Encoding: chunked, no length.
    drip_rate/_count, drip_interval (0.5 s)   act, then send the headers at
        once and the JSON body one byte per drip_interval
    redirect_rate/_count, redirect_status (307), redirect_to (null)   answer,
        instead of acting, with a redirect to redirect_to + the same path and
        query; by default to a trap listener on 127.0.0.1 (started on the first
        redirect) that records every request it gets with all its headers:
        GET /_emulator/trap  {"base": "http://127.0.0.1:PORT" or null,
        "requests": [{"t", "method", "path", "headers": [[name, value], ...]}]}
    hostile_text   a list of places that get a payload of escape sequences
        (ESC ]0;title BEL, ESC [2J, ESC [1;31m, C1 CSI, NUL, BS, CR, DEL), the
        request's own key echoed and a fake sk-proj- key:
        errors      errors.data[] of failed batches: code wrapped in ESC ]0; BEL,
                    payload appended to the message
        status      the status of every batch object (so it never reads as
                    terminal while this is on)
        model       the model of every batch object
        error_body  every API error answer: message + payload, code ESC [2J...
        custom_id   the output file of a completed batch gets one more line,
                    last, for a request nobody sent, its custom_id the payload
                    (with the key of the create call)
    result_trailing_rate   share of output lines (by custom_id) followed on the
        same line by ' {"custom_id": "trailing"}' after the JSON object
    overlong_line_bytes    the first output line is padded (a "padding"
        string) to at least this many bytes, written a MiB at a time

Admin endpoints (no auth, never faulted):
    GET  /_emulator/config, POST /_emulator/config
    GET  /_emulator/state   {"files": [{id, filename, purpose, bytes, deleted, expires_at,
                             created_at, sha256}], "batches": [{id, status,
                             endpoint, input_file_id, output_file_id,
                             error_file_id, metadata, request_counts,
                             completion_window}]}
    POST /_emulator/reset   forget all files and batches, restore the startup
                            settings and reseed; body {"keep_config": true}
                            keeps the current settings
    GET  /_emulator/health  {"status": "ok", ...}
    GET  /_emulator/trap    what the redirect trap received (see below)
    GET  /_emulator/stats   {"actions": {action: n}, "batch_reads": {batch_id: n},
                             "batch_reads_total": n, "batch_read_times":
                             {batch_id: [first, last]} (unix seconds),
                             "answered": {"requests", "custom_ids", "twice",
                             "twice_examples"}}: every routed API request,
                             faulted ones included; "answered" counts the
                             successful answers of finished batches per
                             custom_id, only with track_answers; reset clears it

Request log (--log): one JSON object per line, flushed per line, also for
dropped connections:
    {"t": unix float, "method", "path" (no query), "status": int or null,
     "dropped": bool, "action": "file.upload" | "file.list" | "file.get" |
     "file.delete" | "file.content" | "batch.create" | "batch.list" |
     "batch.get" | "batch.cancel" | null, "acted": bool, "fault": name or null,
     and where relevant "file_id", "batch_id", "filename", "purpose", "bytes",
     "sha256", "input_file_id", "metadata", "truncated"}
    "acted" is true when the action took effect on the server (an upload
    stored, a batch created, ...), even if the response was then dropped.

Lifecycle, computed lazily from the wall clock on each request:
    validating  validating_seconds * speed                       (default 1 s)
    in_progress (in_progress_seconds + n * per_request_seconds) * speed
                                                        (default 2 s + 1 ms/req)
    finalizing  finalizing_seconds * speed                       (default 1 s)
    cancelling  cancelling_seconds * speed                       (default 1 s)
    request_counts rise linearly during in_progress. POST /v1/batches returns
    at once (status validating); one background thread validates the file and
    computes every answer (about 3-4 s for 50,000 requests), and the batch
    stays validating at least until that is done. A poll made after the
    planned end of validating waits (up to 5 s) for it, so with --speed 0 a
    batch is finished on the first poll after its create.
"""

from __future__ import annotations

import argparse
import array
import base64
import copy
import hashlib
import ipaddress
import json
import math
import os
import queue
import random
import re
import secrets
import shutil
import signal
import socket
import struct
import sys
import tempfile
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

# --------------------------------------------------------------------------
# Constants from the API (see shared/reference/api-facts.md)

DAY = 86400
FILE_PURPOSES = ["assistants", "batch", "fine-tune", "vision", "user_data", "evals"]
BATCH_ENDPOINTS = [
    "/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions",
    "/v1/moderations", "/v1/images/generations", "/v1/images/edits", "/v1/videos",
]
ENDPOINT_TITLES = {
    "/v1/responses": "Responses", "/v1/chat/completions": "Chat Completions",
    "/v1/embeddings": "Embeddings", "/v1/completions": "Completions",
    "/v1/moderations": "Moderations", "/v1/images/generations": "Images",
    "/v1/images/edits": "Images", "/v1/videos": "Videos",
}
# The parameter each endpoint cannot do without, checked during validation.
ENDPOINT_REQUIRED = {
    "/v1/chat/completions": "messages", "/v1/embeddings": "input",
    "/v1/completions": "prompt", "/v1/moderations": "input",
    "/v1/images/generations": "prompt", "/v1/images/edits": "prompt",
    "/v1/videos": "prompt",
}
CREATE_BATCH_FIELDS = ["input_file_id", "endpoint", "completion_window", "metadata",
                       "output_expires_after"]
MAX_EMBEDDING_INPUTS = 50_000
GENERAL_FILE_LIMIT = 512 * 1024 * 1024
ORG = "org-emulator"
PROJECT = "proj_emulator"
MUTATING_ACTIONS = {"file.upload", "file.delete", "batch.create", "batch.cancel"}
TERMINAL = {"completed", "failed", "expired", "cancelled"}
KEY_HINT = "You can find your API key at https://platform.openai.com/account/api-keys."
NO_KEY_MESSAGE = (
    "You didn't provide an API key. You need to provide your API key in an "
    "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), "
    "or as the password field (with blank username) if you're accessing the API "
    "from your browser and are prompted for a username and password. You can "
    "obtain an API key from https://platform.openai.com/account/api-keys.")
SERVER_ERROR_MESSAGES = {
    500: "The server had an error while processing your request. Sorry about that!",
    502: "Bad gateway.",
    503: "The server is overloaded or not ready yet.",
    504: "Gateway timeout.",
}

# --------------------------------------------------------------------------
# Settings: one table drives the defaults, the command line and the admin API.

SETTINGS = {
    # name: (kind, default, help)
    "speed": ("nonneg", 1.0, "multiplies every phase duration; 0 = instant"),
    "validating_seconds": ("nonneg", 1.0, "validating phase before speed"),
    "in_progress_seconds": ("nonneg", 2.0, "fixed part of in_progress before speed"),
    "per_request_seconds": ("nonneg", 0.001, "in_progress time per request before speed"),
    "finalizing_seconds": ("nonneg", 1.0, "finalizing phase before speed"),
    "cancelling_seconds": ("nonneg", 1.0, "cancelling phase before speed"),
    "seed": ("int", 20240718, "seed of the fault RNG"),
    "http_429_rate": ("prob", 0.0, "probability of a 429 on an API request"),
    "http_429_count": ("count", 0, "answer the next N API requests with 429"),
    "retry_after": ("nonneg", 1.0, "Retry-After seconds sent with a 429"),
    "http_5xx_rate": ("prob", 0.0, "probability of a 5xx on an API request"),
    "http_5xx_count": ("count", 0, "answer the next N API requests with a 5xx"),
    "http_5xx_codes": ("status5xx", [500, 502, 503], "5xx statuses to draw from"),
    "drop_rate": ("prob", 0.0, "probability of closing the connection before acting"),
    "drop_count": ("count", 0, "drop the next N API requests before acting"),
    "drop_after_action_rate": ("prob", 0.0, "probability of acting, then closing unanswered"),
    "drop_after_action_count": ("count", 0, "act, then drop, for the next N mutating requests"),
    "truncate_download_rate": ("prob", 0.0, "probability of cutting a file download short"),
    "truncate_download_count": ("count", 0, "cut the next N downloads short"),
    "fault_paths": ("strs", [], "path prefixes the HTTP faults apply to (empty: all)"),
    "fault_methods": ("strs", [], "methods the HTTP faults apply to (empty: all)"),
    "fault_actions": ("strs", [], "actions the HTTP faults apply to (empty: all)"),
    "request_error_rate": ("prob", 0.0, "probability that one batch request fails"),
    "request_error_count": ("count", 0, "fail the next N batch requests"),
    "request_error_codes": ("codes", [500, 429, 400], "per-request failures to draw from"),
    "expire_rate": ("prob", 0.0, "probability that a batch expires part-way"),
    "expire_count": ("count", 0, "expire the next N batches"),
    "expire_after_fraction": ("prob", 0.5, "share of in_progress done when a batch expires"),
    "fail_batch_rate": ("prob", 0.0, "probability that a valid batch fails validation"),
    "fail_batch_count": ("count", 0, "fail the next N valid batches"),
    "fail_batch_error": ("error", {"code": "server_error", "message":
                         "The batch could not be validated because of a server error. "
                         "Please try again."},
                         "the errors.data entry of such a failure (JSON object)"),
    "cancel_writes_error_lines": ("bool", False, "write batch_cancelled lines on cancel"),
    "enqueued_token_limit": ("token_limit", None,
                             "enqueued input tokens per model: N or model=N,model=N"),
    "token_limit_at_create": ("create_status", None,
                              "400 or 429: reject at create instead of failing the batch"),
    "file_visibility_delay": ("nonneg", 0.0, "seconds before an upload is visible"),
    "missing_file_400": ("bool", False, "unknown input file: 400 at create (2024 behaviour)"),
    "unsupported_models": ("strs", [], "models that fail validation with model_not_found"),
    "max_requests_per_batch": ("opt_int", None, "requests per file (default 50,000; Azure 100,000)"),
    "max_batch_file_bytes": ("count", 200_000_000, "largest purpose=batch upload"),
    "api_key": ("opt_str", None, "accept only this key"),
    "refuse_keys": ("strs", [], "keys refused with invalid_api_key"),
    "output_style": ("style", "spaced", "output line JSON: spaced (', ') or compact"),
    # A day on the real service (issue 10); all off by default.
    "held_share": ("prob", 0.0, "share of every enqueued limit (tokens and requests) held by "
                   "another job of the organisation"),
    "held_seconds": ("nonneg", 60.0, "wall seconds (not scaled by speed) the other job holds "
                     "it, from startup, reset, or the config POST that sets held_*"),
    "held_visible": ("bool", False, "list the other job's batch (its own metadata) while it "
                     "holds the limit; cancelling it frees the limit and is counted"),
    "enqueued_request_limit": ("token_limit", None,
                               "enqueued requests (lines) per model: N or model=N,model=N"),
    "request_limit_code": ("str", "request_limit_exceeded",
                           "errors.data code of an enqueued-request refusal"),
    "file_processing_seconds": ("nonneg", 0.0, "wall seconds (not scaled by speed) an upload "
                                "stays uploaded (Azure: pending) before processed"),
    "file_error_rate": ("prob", 0.0, "probability that an upload ends in status error"),
    "file_error_count": ("count", 0, "end the next N uploads in status error"),
    "track_answers": ("bool", False, "count, per custom_id, the answers of finished batches "
                      "(GET /_emulator/stats): shows a request paid twice"),
    "file_error_details": ("str", "Invalid file format: the file could not be parsed as JSONL.",
                           "status_details of an upload that ends in error"),
    # Answers with HTTP 200 and nothing usable, and richer answers (issue 11); a
    # request's fate is drawn from a hash of its custom_id, so it is the same on
    # every run and every retry.
    "answer_refusal_rate": ("prob", 0.0, "share of answers that are refusals"),
    "answer_content_filter_rate": ("prob", 0.0, "share of answers stopped by the content "
                                   "filter, with no text"),
    "answer_empty_length_rate": ("prob", 0.0, "share of answers whose token budget went to "
                                 "reasoning: empty text, finish_reason length"),
    "answer_cut_rate": ("prob", 0.0, "share of answers cut short by length, text non-empty"),
    "answer_tool_calls_rate": ("prob", 0.0, "share of requests with tools answered by tool "
                               "calls"),
    "structured_outputs": ("bool", False, "answer json_schema / json_object formats with JSON"),
    "schema_mismatch_rate": ("prob", 0.0, "share of structured answers that miss a required "
                             "property or have a wrong type"),
    "invalid_json_rate": ("prob", 0.0, "share of structured answers that are not valid JSON"),
    "invalid_lines": ("lines", [], "line numbers that fail validation in every input file"),
    "invalid_lines_error": ("error", {"code": "invalid_request", "message":
                            "The request on this line is not valid for the batch endpoint."},
                            "the errors.data code and message of those lines (JSON object)"),
}
SETTINGS.update({
    # A hostile server (issue 12); all off by default. The three HTTP ones obey
    # fault_paths / fault_methods / fault_actions like the faults above.
    "huge_body_rate": ("prob", 0.0, "probability of answering with a huge body, no action"),
    "huge_body_count": ("count", 0, "answer the next N API requests with a huge body"),
    "huge_body_bytes": ("count", 1 << 30, "size of a huge body, streamed, never in memory"),
    "huge_body_chunked": ("bool", False, "send a huge body chunked, without Content-Length"),
    "huge_body_status": ("http_status", 200, "status of a huge body: 200 (a JSON object "
                         "padded by a long string) or an error status (a long message)"),
    "drip_rate": ("prob", 0.0, "probability of sending the answer's body one byte at a time"),
    "drip_count": ("count", 0, "drip the answers to the next N API requests"),
    "drip_interval": ("nonneg", 0.5, "seconds between two bytes of a dripped body"),
    "redirect_rate": ("prob", 0.0, "probability of answering with a redirect, no action"),
    "redirect_count": ("count", 0, "redirect the next N API requests"),
    "redirect_status": ("http_status", 307, "status of a redirect (301, 302, 303, 307, 308)"),
    "redirect_to": ("opt_str", None, "base URL a redirect points to (default: the trap "
                    "listener on 127.0.0.1, see /_emulator/trap)"),
    "hostile_text": ("places", [], "where escape sequences and secrets go: errors, status, "
                     "model, custom_id, error_body"),
    "result_trailing_rate": ("prob", 0.0, "share of output lines (by custom_id) with bytes "
                             "after the JSON object"),
    "overlong_line_bytes": ("count", 0, "pad the first output line to at least N bytes"),
})
HOSTILE_PLACES = ("errors", "status", "model", "custom_id", "error_body")
TRAILING_BYTES = b' {"custom_id": "trailing"}'
ANSWER_SETTINGS = ("answer_refusal_rate", "answer_content_filter_rate",
                   "answer_empty_length_rate", "answer_cut_rate", "answer_tool_calls_rate",
                   "structured_outputs", "schema_mismatch_rate", "invalid_json_rate")
METAVARS = {"nonneg": "X", "prob": "P", "count": "N", "int": "N", "opt_int": "N",
            "opt_str": "KEY", "strs": "A,B", "status5xx": "CODES", "codes": "CODES",
            "token_limit": "LIMIT", "create_status": "STATUS", "style": "STYLE",
            "error": "JSON", "str": "TEXT", "lines": "N,N", "http_status": "STATUS",
            "places": "A,B"}


class SettingError(ValueError):
    pass


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def coerce_setting(name, value):
    """Check and normalise one setting value coming from JSON."""
    if name not in SETTINGS:
        raise SettingError(f"unknown setting '{name}'")
    kind = SETTINGS[name][0]

    def fail(what):
        raise SettingError(f"'{name}' must be {what}")

    if kind in ("nonneg", "prob"):
        if not (_is_int(value) or isinstance(value, float)) or math.isnan(value):
            fail("a number")
        if value < 0 or (kind == "prob" and value > 1):
            fail("between 0 and 1" if kind == "prob" else "a number >= 0")
        return float(value)
    if kind in ("count", "int"):
        if not _is_int(value) or (kind == "count" and value < 0):
            fail("an integer >= 0" if kind == "count" else "an integer")
        return value
    if kind == "opt_int":
        if value is None:
            return None
        if not _is_int(value) or value < 1:
            fail("null or an integer >= 1")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            fail("true or false")
        return value
    if kind == "opt_str":
        if value is not None and (not isinstance(value, str) or not value):
            fail("null or a non-empty string")
        return value
    if kind == "str":
        if not isinstance(value, str) or not value:
            fail("a non-empty string")
        return value
    if kind == "lines":
        if not isinstance(value, list) or not all(_is_int(v) and v >= 1 for v in value):
            fail("a list of line numbers >= 1")
        return sorted(set(value))
    if kind == "http_status":
        if not _is_int(value) or not 200 <= value <= 599:
            fail("an HTTP status")
        return value
    if kind == "places":
        if isinstance(value, str):
            value = [v for v in value.split(",") if v]
        if not isinstance(value, list) or not all(v in HOSTILE_PLACES for v in value):
            fail("a list of " + ", ".join(HOSTILE_PLACES))
        return list(value)
    if kind == "strs":
        if isinstance(value, str):
            value = [v for v in value.split(",") if v]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            fail("a list of strings")
        return list(value)
    if kind == "status5xx":
        if not isinstance(value, list) or not value or not all(
                _is_int(v) and 500 <= v <= 599 for v in value):
            fail("a non-empty list of 5xx statuses")
        return list(value)
    if kind == "codes":
        if not isinstance(value, list) or not value or not all(
                (_is_int(v) and 400 <= v <= 599) or v == "request_timeout" for v in value):
            fail('a non-empty list of 4xx/5xx statuses or "request_timeout"')
        return list(value)
    if kind == "token_limit":
        if value is None or (_is_int(value) and value >= 0):
            return value
        if isinstance(value, dict) and all(isinstance(k, str) and _is_int(v) and v >= 0
                                           for k, v in value.items()):
            return dict(value)
        fail("null, an integer, or an object mapping models to integers")
    if kind == "create_status":
        if value is None or value is False:
            return None
        if value is True:
            return 400
        if value in (400, 429):
            return value
        fail("null, 400 or 429")
    if kind == "style":
        if value not in ("spaced", "compact"):
            fail('"spaced" or "compact"')
        return value
    if kind == "error":
        if not (isinstance(value, dict) and isinstance(value.get("code"), str)
                and isinstance(value.get("message"), str)):
            fail('an object with string "code" and "message"')
        return {"code": value["code"], "message": value["message"]}
    raise AssertionError(kind)


def parse_cli_value(name, text):
    """Turn a command-line string into the JSON value coerce_setting expects."""
    kind = SETTINGS[name][0]
    try:
        if kind in ("nonneg", "prob"):
            return float(text)
        if kind in ("count", "int", "http_status"):
            return int(text)
        if kind == "opt_int":
            return None if text.lower() in ("", "none", "null") else int(text)
        if kind == "opt_str":
            return text or None
        if kind == "lines":
            return [int(v) for v in text.split(",") if v]
        if kind == "strs":
            return [v for v in text.split(",") if v]
        if kind in ("status5xx", "codes"):
            return [v if v == "request_timeout" else int(v) for v in text.split(",") if v]
        if kind == "token_limit":
            if text.lower() in ("", "none", "null"):
                return None
            if "=" not in text:
                return int(text.replace("_", ""))
            limits = {}
            for pair in text.split(","):
                model, _, number = pair.partition("=")
                limits[model.strip()] = int(number.replace("_", ""))
            return limits
        if kind == "create_status":
            low = text.lower()
            if low in ("", "none", "null", "off", "false", "0"):
                return None
            return 400 if low == "true" else int(text)
        if kind == "error":
            return json.loads(text)
    except ValueError as exc:
        raise SettingError(f"bad value for --{name.replace('_', '-')}: {text!r}") from exc
    return text


# --------------------------------------------------------------------------
# Errors and small helpers

class ApiError(Exception):
    """An HTTP error answered with the OpenAI error envelope."""

    def __init__(self, status, message, type_="invalid_request_error", param=None,
                 code=None, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self):
        return {"error": {"message": self.message, "type": self.type,
                          "param": self.param, "code": self.code}}


class Dropped(Exception):
    """The connection was closed on purpose without an answer."""


BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def random_chars(alphabet, n):
    return "".join(secrets.choice(alphabet) for _ in range(n))


def hashed_id(seed_bytes, n):
    """n letters and digits derived from a hash: ids that are stable per request."""
    digest = hashlib.sha512(seed_bytes).digest()
    return base64.b64encode(digest, altchars=b"01").decode("ascii")[:n]


def json_type_name(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, float):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    return "an object"


def mask_key(key):
    # Never echo a whole key back: short keys show almost nothing.
    if len(key) >= 12:
        return f"{key[:6]}***{key[-4:]}"
    if len(key) >= 6:
        return f"{key[:3]}***"
    return "***"


def strict_json_loads(data):
    """json.loads that rejects NaN and Infinity, which are not JSON."""
    def bad_constant(name):
        raise ValueError(f"invalid constant {name}")
    return json.loads(data, parse_constant=bad_constant)


def missing_param(name):
    return ApiError(400, f"Missing required parameter: '{name}'.", param=name,
                    code="missing_required_parameter")


def invalid_type(param, expected, value):
    return ApiError(400, f"Invalid type for '{param}': expected {expected}, but got "
                    f"{json_type_name(value)} instead.", param=param, code="invalid_type")


def supported_list(values):
    quoted = [f"'{v}'" for v in values]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def invalid_value(param, value, allowed):
    return ApiError(400, f"Invalid value: '{value}'. Supported values are: "
                    f"{supported_list(allowed)}.", param=param, code="invalid_value")


# --------------------------------------------------------------------------
# Providers: where the API lives and how it differs from OpenAI's

class Provider:
    name = "openai"
    bases = ("/v1",)
    max_requests = 50_000
    expires_on_time = True
    always_error_file = False
    content_filter = False
    endpoints = BATCH_ENDPOINTS
    line_codes = {"url": "invalid_url", "model": "mismatched_model"}
    pending_file_status = "uploaded"
    expires_range = (3600, 2592000)     # expires_after and output_expires_after seconds
    dotted_expiry_fields = ()           # upload form fields also taken as expires_after[...]

    def split_path(self, path, query):
        """The API path after the base ('/files/...'), or None if it is not ours."""
        for base in self.bases:
            if path.startswith(base + "/"):
                return path[len(base):]
        return None

    def auth_key(self, headers):
        auth = headers.get("Authorization") or ""
        m = re.match(r"\s*Bearer\s+(\S+)\s*$", auth, re.IGNORECASE)
        return m.group(1) if m else None

    def canonical_endpoint(self, endpoint):
        return endpoint

    def window_seconds(self, window):
        return DAY if window == "24h" else None

    window_values = ["24h"]

    def report_model(self, model):
        # Real batches report a dated snapshot; embedding and moderation models have none.
        if re.search(r"-\d{4}-\d{2}-\d{2}$", model) or model.startswith(
                ("text-embedding", "omni-moderation", "text-moderation", "dall-e",
                 "gpt-image", "sora", "ft:")):
            return model
        return model + "-2024-07-18"

    def new_file_id(self):
        return "file-" + random_chars(BASE62, 22)

    def new_batch_id(self):
        return "batch_" + secrets.token_hex(16)


class AzureProvider(Provider):
    name = "azure"
    bases = ("/openai/v1", "/openai")
    max_requests = 100_000
    expires_on_time = False      # "Jobs taking longer than 24 hours will continue to execute"
    always_error_file = True     # a 0-byte error file even when nothing failed
    content_filter = True
    endpoints = BATCH_ENDPOINTS + [e[3:] for e in BATCH_ENDPOINTS]
    line_codes = {"url": "url_mismatch", "model": "model_mismatch"}
    pending_file_status = "pending"
    expires_range = (1209600, 2592000)  # 14 to 30 days
    dotted_expiry_fields = ("expires_after.anchor", "expires_after.seconds")

    def split_path(self, path, query):
        if path.startswith("/openai/v1/"):
            return path[len("/openai/v1"):]
        if path.startswith("/openai/"):
            if not query.get("api-version"):
                raise ApiError(400, "Missing required query parameter: 'api-version'.",
                               param="api-version", code="missing_required_parameter")
            return path[len("/openai"):]
        return None

    def auth_key(self, headers):
        return (headers.get("api-key") or "").strip() or super().auth_key(headers)

    def canonical_endpoint(self, endpoint):
        return endpoint if endpoint.startswith("/v1/") else "/v1" + endpoint

    def report_model(self, model):
        return model  # a deployment name, reported as given

    def new_file_id(self):
        return "file-" + secrets.token_hex(16)

    def new_batch_id(self):
        return "batch_" + str(uuid.uuid4())


class GroqProvider(Provider):
    name = "groq"
    bases = ("/openai/v1",)
    endpoints = ["/v1/chat/completions"]
    window_values = ["24h", "7d"]

    def window_seconds(self, window):
        m = re.fullmatch(r"(\d+)([hd])", window or "")
        if not m:
            return None
        seconds = int(m.group(1)) * (3600 if m.group(2) == "h" else DAY)
        return seconds if DAY <= seconds <= 7 * DAY else None

    def new_file_id(self):
        return "file_" + random_chars(CROCKFORD, 26)

    def new_batch_id(self):
        return "batch_" + random_chars(CROCKFORD, 26)


PROVIDERS = {"openai": Provider, "azure": AzureProvider, "groq": GroqProvider}

# --------------------------------------------------------------------------
# Request bodies: Content-Length or chunked, read from the socket in pieces

class BodyReader:
    """The request body, never read past its end; de-chunks Transfer-Encoding: chunked."""

    def __init__(self, rfile, headers):
        self.rfile = rfile
        te = (headers.get("Transfer-Encoding") or "").lower()
        self.chunked = "chunked" in te
        self.chunk_left = 0
        self.done = False
        if self.chunked:
            self.remaining = None  # chunked wins over Content-Length (RFC 9112)
        else:
            cl = headers.get("Content-Length")
            try:
                self.remaining = int(cl) if cl is not None else 0
                if self.remaining < 0:
                    raise ValueError
            except ValueError:
                self.remaining = 0
                self.done = True
                raise ApiError(400, "Invalid Content-Length header.")
            self.done = self.remaining == 0

    @property
    def exhausted(self):
        return self.done

    def _next_chunk(self):
        line = self.rfile.readline(1024)
        if not line.endswith(b"\n"):
            raise ApiError(400, "Malformed chunked request body.")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise ApiError(400, "Malformed chunked request body.") from None
        if size == 0:
            while True:  # trailers, up to the empty line
                trailer = self.rfile.readline(8192)
                if trailer in (b"\r\n", b"\n", b""):
                    break
            self.done = True
        self.chunk_left = size

    def read(self, n):
        if self.done or n <= 0:
            return b""
        if not self.chunked:
            data = self.rfile.read(min(n, self.remaining))
            if not data:
                self.done = True
                raise ApiError(400, "The request body ended early.")
            self.remaining -= len(data)
            self.done = self.remaining == 0
            return data
        if self.chunk_left == 0:
            self._next_chunk()
            if self.done:
                return b""
        data = self.rfile.read(min(n, self.chunk_left))
        if not data:
            self.done = True
            raise ApiError(400, "The request body ended early.")
        self.chunk_left -= len(data)
        if self.chunk_left == 0:
            self.rfile.readline(16)  # the CRLF after each chunk
        return data

    def read_all(self, limit):
        parts, size = [], 0
        while not self.done:
            data = self.read(1 << 16)
            size += len(data)
            if size > limit:
                raise ApiError(413, "The request body is too large.")
            parts.append(data)
        return b"".join(parts)

    def drain(self, limit):
        """Read and discard the rest (so the connection can be kept); False if too long."""
        try:
            read = 0
            while not self.done:
                if read > limit:
                    return False
                read += len(self.read(1 << 20))
            return True
        except (ApiError, OSError):
            self.done = True
            return False


# --------------------------------------------------------------------------
# multipart/form-data, streamed: file parts go to disk as they arrive

class MultipartError(Exception):
    pass


class TooLarge(Exception):
    pass


class MultipartParser:
    CHUNK = 1 << 20
    MAX_HEADER = 16 * 1024
    MAX_PARTS = 64

    def __init__(self, reader, boundary):
        self.reader = reader
        self.delimiter = b"\r\n--" + boundary
        # A leading CRLF lets the first delimiter match like every later one.
        self.buf = bytearray(b"\r\n")

    def _fill(self):
        data = self.reader.read(self.CHUNK)
        if not data:
            raise MultipartError("the multipart body ended early")
        self.buf += data

    def _pass_until(self, marker, sink):
        """Feed bytes to sink up to marker, consume marker. The buffer stays small."""
        keep = len(marker) - 1
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                if i:
                    sink(bytes(self.buf[:i]))
                del self.buf[:i + len(marker)]
                return
            if len(self.buf) > keep:
                n = len(self.buf) - keep
                sink(bytes(self.buf[:n]))
                del self.buf[:n]
            self._fill()

    def parse(self, open_part):
        """Call open_part(name, filename, headers) for each part; it returns a sink."""
        self._pass_until(self.delimiter, lambda _: None)  # preamble
        for _ in range(self.MAX_PARTS):
            while len(self.buf) < 2:
                self._fill()
            if self.buf[:2] == b"--":
                return  # closing delimiter; the epilogue is drained by the caller
            head = bytearray()

            def collect(b):
                head.extend(b)
                if len(head) > self.MAX_HEADER:
                    raise MultipartError("multipart part headers are too long")
            # Headers end at a blank line; the CRLF after the delimiter comes first.
            if self.buf[:4] == b"\r\n\r\n":
                del self.buf[:4]
            else:
                self._pass_until(b"\r\n\r\n", collect)
            headers = {}
            for raw in bytes(head).split(b"\r\n"):
                if not raw.strip():
                    continue
                name, sep, value = raw.partition(b":")
                if not sep:
                    raise MultipartError("malformed multipart part header")
                headers[name.strip().lower().decode("latin-1")] = decode_header(value.strip())
            disposition = headers.get("content-disposition", "")
            if not disposition.lower().startswith("form-data"):
                raise MultipartError("a multipart part has no form-data Content-Disposition")
            params = disposition_params(disposition)
            if "name" not in params:
                raise MultipartError("a multipart part has no name")
            sink = open_part(params["name"], params.get("filename"), headers)
            self._pass_until(self.delimiter, sink)
        raise MultipartError("too many multipart parts")


def decode_header(value):
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def disposition_params(value):
    params = {}
    for m in re.finditer(r';\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))', value):
        key = m.group(1).lower()
        if m.group(2) is not None:
            params[key] = re.sub(r"\\(.)", r"\1", m.group(2))
        else:
            params[key] = m.group(3).strip()
    if "filename*" in params:  # RFC 5987: utf-8''name%20with%20escapes
        charset, _, rest = params["filename*"].partition("'")
        _, _, encoded = rest.partition("'")
        params["filename"] = unquote(encoded, encoding=charset or "utf-8", errors="replace")
    return params


class FileSink:
    """Writes an uploaded file part to disk, hashing and counting as it goes."""

    def __init__(self, path, limit):
        self.file = open(path, "wb")
        self.sha = hashlib.sha256()
        self.size = 0
        self.limit = limit
        self.head = bytearray()  # the first bytes, to check the first line cheaply

    def write(self, data):
        self.size += len(data)
        if self.size > self.limit:
            raise TooLarge()
        self.sha.update(data)
        self.file.write(data)
        if len(self.head) < 65536:
            self.head += data[:65536 - len(self.head)]

    def close(self):
        self.file.close()


# --------------------------------------------------------------------------
# The synthetic model: deterministic answers, token counts, embeddings

FOOD_CLASSES = ["fruit", "vegetable", "grain", "dairy", "meat", "seafood", "legume",
                "nut", "beverage", "dessert", "snack", "condiment", "bakery", "spice",
                "soup"]
REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")
MODERATION_CATEGORIES = [
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit",
    "illicit/violent", "self-harm", "self-harm/intent", "self-harm/instructions",
    "sexual", "sexual/minors", "violence", "violence/graphic"]
TINY_PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAA"
            "AABJRU5ErkJggg==")
SAFE_FILTER = {k: {"filtered": False, "severity": "safe"}
               for k in ("hate", "self_harm", "sexual", "violence")}
FILTERED = dict(SAFE_FILTER, violence={"filtered": True, "severity": "high"})
REFUSAL_TEXT = "I'm sorry, but I can't help with that request."
EMPTY_REASONING_TOKENS = 4096  # what an answer without a token limit spends on reasoning


def function_tools(tools, responses_style):
    """(name, parameters schema) of each function tool of a request."""
    found = []
    for t in tools if isinstance(tools, list) else []:
        if not isinstance(t, dict) or t.get("type") != "function":
            continue
        spec = t if responses_style else t.get("function")
        if isinstance(spec, dict) and isinstance(spec.get("name"), str):
            params = spec.get("parameters")
            found.append((spec["name"], params if isinstance(params, dict) else {}))
    return found


def schema_value(schema, root, word, depth=0):
    """A small value that conforms to a JSON schema (the subset strict mode takes):
    every property of an object, one item per array, the first choice of a union,
    an enum value picked by `word`."""
    if not isinstance(schema, dict) or depth > 32:
        return word
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        target = root
        for part in ref[1:].strip("/").split("/") if ref != "#" else []:
            target = target.get(part) if isinstance(target, dict) else None
        return schema_value(target, root, word, depth + 1)
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        options = [v for v in enum if v is not None] or enum
        return options[sum(word.encode("utf-8")) % len(options)]
    for key in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(key) or [] if isinstance(o, dict)
                   and o.get("type") != "null"]
        if options:
            return schema_value(options[0], root, word, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = ("object" if "properties" in schema else
                "array" if "items" in schema else "string")
    if kind == "object":
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        return {k: schema_value(v, root, word, depth + 1) for k, v in props.items()}
    if kind == "array":
        count = schema.get("minItems") if _is_int(schema.get("minItems")) else 1
        return [schema_value(schema.get("items"), root, word, depth + 1)
                for _ in range(max(1, min(count, 16)))]
    return {"string": word, "number": 0.5, "integer": 1, "boolean": True,
            "null": None}.get(kind, word)


def break_schema(value, schema):
    """The value made not to match: a required property missing, else a wrong type."""
    required = schema.get("required") if isinstance(schema, dict) else None
    if isinstance(value, dict):
        gone = [k for k in required or [] if k in value]
        if gone:
            return {k: v for k, v in value.items() if k != gone[0]}
        if value:
            first = next(iter(value))
            return dict(value, **{first: 12345 if isinstance(value[first], str)
                                  else "not the declared type"})
    return 12345 if isinstance(value, str) else "not the declared type"


def cut_answer(answer, label):
    """A non-empty answer stopped by the token limit part-way."""
    text = answer if len(answer) > 12 else (f"This item is best classified as {label}, "
                                            "judging by its name")
    return text[:max(1, len(text) // 2)].rstrip() or text[:1]


class RequestFailure(Exception):
    """A request of a batch that fails: an HTTP error, or a non-HTTP one (status None)."""

    def __init__(self, status, message, type_="invalid_request_error", param=None, code=None):
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = (
            status, message, type_, param, code)


def ntokens(text):
    """About 4 bytes per token, the usual rule of thumb."""
    return (len(text.encode("utf-8")) + 3) // 4 if text else 0


def content_text(content):
    """The text of a message content (a string or a list of parts) and extra tokens."""
    if isinstance(content, str):
        return content, 0
    texts, extra = [], 0
    if isinstance(content, list):
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict):
                if isinstance(part.get("text"), str):
                    texts.append(part["text"])
                elif part.get("type") in ("image_url", "input_image", "image"):
                    extra += 85
                elif part.get("type") in ("input_audio", "input_file", "file"):
                    extra += 100
    return "\n".join(texts), extra


def messages_tokens(messages):
    """Prompt tokens for a chat-style message list, after the OpenAI cookbook's formula."""
    total, last_user, last_any = 3, None, ""
    for m in messages if isinstance(messages, list) else []:
        if not isinstance(m, dict):
            continue
        text, extra = content_text(m.get("content"))
        total += 3 + ntokens(text) + extra + (1 if m.get("name") else 0)
        last_any = text
        if m.get("role") == "user":
            last_user = text
    return total, (last_user if last_user is not None else last_any)


def chat_prompt(body):
    """(prompt tokens, text of the last user message) of a chat request."""
    tokens, text = messages_tokens(body.get("messages"))
    for key in ("tools", "functions", "response_format"):
        if body.get(key) is not None:
            tokens += ntokens(json.dumps(body[key]))
    return tokens, text


def estimate_input_tokens(endpoint, body):
    """Input tokens of one request: what the enqueued-token limit counts and usage reports."""
    if endpoint == "/v1/chat/completions":
        return chat_prompt(body)[0]
    if endpoint == "/v1/responses":
        return responses_prompt(body)[0]
    if endpoint == "/v1/completions":
        return sum(t for t, _ in prompt_items(body.get("prompt")))
    if endpoint in ("/v1/embeddings", "/v1/moderations"):
        return sum(t for t, _ in embedding_items(body.get("input")))
    return ntokens(body.get("prompt") if isinstance(body.get("prompt"), str) else "")


def responses_prompt(body):
    tokens = 3 + ntokens(body.get("instructions") if isinstance(body.get("instructions"), str)
                         else "")
    inp = body.get("input")
    if isinstance(inp, str):
        return tokens + 3 + ntokens(inp), inp
    items = [i for i in inp if isinstance(i, dict)] if isinstance(inp, list) else []
    t, last = messages_tokens(items)
    return tokens + t, last


def prompt_items(prompt):
    """(tokens, text) per prompt of /v1/completions: a string, strings, or token arrays."""
    if isinstance(prompt, str):
        return [(ntokens(prompt), prompt)]
    if isinstance(prompt, list):
        if prompt and all(_is_int(x) for x in prompt):
            return [(len(prompt), json.dumps(prompt))]
        out = []
        for p in prompt:
            if isinstance(p, str):
                out.append((ntokens(p), p))
            elif isinstance(p, list):
                out.append((len(p), json.dumps(p)))
        return out
    return []


embedding_items = prompt_items  # same shapes: a string, strings, token arrays


def answer_text(text, model, salt=0):
    """The model's answer: a food class picked by hash, now and then in a sentence."""
    h = hashlib.sha256(f"{salt}\x00{model}\x00{text}".encode("utf-8")).digest()
    label = FOOD_CLASSES[h[0] % len(FOOD_CLASSES)]
    if h[1] % 8 == 0:
        return f"This item is best classified as {label}, judging by its name and description.", h
    return label, h


def limit_answer(answer, limit):
    """Honour max_tokens loosely: cut at a word once the estimate passes the limit."""
    if limit is None or ntokens(answer) <= limit:
        return answer, "stop"
    words, out = answer.split(" "), ""
    for w in words:
        candidate = (out + " " + w) if out else w
        if ntokens(candidate) > limit:
            break
        out = candidate
    return out or answer[:max(1, limit * 4)], "length"


def token_limit_param(body, keys, minimum):
    for key in keys:
        if key in body and body[key] is not None:
            v = body[key]
            if not _is_int(v):
                raise RequestFailure(400, f"Invalid type for '{key}': expected an integer, but "
                                     f"got {json_type_name(v)} instead.", param=key,
                                     code="invalid_type")
            if v < minimum:
                raise RequestFailure(400, f"Invalid '{key}': integer below minimum value. "
                                     f"Expected a value >= {minimum}, but got {v} instead.",
                                     param=key, code="integer_below_min_value")
            return v
    return None


def usage_split(prompt_tokens, model, h):
    """Cached and reasoning tokens, deterministic, only where the real API has them."""
    cached = (prompt_tokens // 128) * 128 if prompt_tokens >= 1024 and h[3] % 2 == 0 else 0
    reasoning = 64 * (1 + h[2] % 4) if model.startswith(REASONING_PREFIXES) else 0
    return cached, reasoning


class Synthesizer:
    """Builds the response body of one batch request."""

    def __init__(self, provider, reported_model, seed_bytes, answers=None):
        self.provider = provider
        self.reported_model = reported_model
        self.seed = seed_bytes
        self.answers = answers or {}
        self.cid = ""
        self.fingerprint = "fp_" + hashlib.sha256(b"fp" + reported_model.encode()).hexdigest()[:10]

    def respond(self, endpoint, body, now, custom_id=""):
        """Return (body, (input_tokens, cached, output_tokens, reasoning))."""
        model = body.get("model") if isinstance(body.get("model"), str) else ""
        self.cid = custom_id
        handler = {
            "/v1/chat/completions": self.chat, "/v1/completions": self.completion,
            "/v1/embeddings": self.embeddings, "/v1/responses": self.response,
            "/v1/moderations": self.moderation, "/v1/images/generations": self.image,
            "/v1/images/edits": self.image, "/v1/videos": self.video,
        }[endpoint]
        return handler(body, model, int(now))

    def _id(self, prefix, n=29):
        return prefix + hashed_id(self.seed + prefix.encode(), n)

    def _draw(self, salt):
        """A number in [0, 1) fixed by the custom_id: the same on every run and retry."""
        return custom_id_draw(self.cid, salt)

    def kind(self):
        """None (a plain answer), refusal, content_filter, empty_length or cut."""
        u, edge = self._draw("answer"), 0.0
        for kind in ("refusal", "content_filter", "empty_length", "cut"):
            edge += self.answers.get(f"answer_{kind}_rate", 0.0)
            if u < edge:
                return kind
        return None

    def calls_tools(self, tools):
        return bool(tools) and self._draw("tools") < self.answers.get("answer_tool_calls_rate",
                                                                      0.0)

    def structured_text(self, fmt, label, salt):
        """The JSON text answering a json_schema / json_object format, or None."""
        if not self.answers.get("structured_outputs") or not isinstance(fmt, dict):
            return None
        if fmt.get("type") == "json_object":
            value = {"answer": label}
        elif fmt.get("type") == "json_schema":
            spec = fmt.get("json_schema") if isinstance(fmt.get("json_schema"), dict) else fmt
            schema = spec.get("schema") if isinstance(spec.get("schema"), dict) else {}
            value = schema_value(schema, schema, label)
        else:
            return None
        u = self._draw(f"structure\x00{salt}")
        invalid = self.answers.get("invalid_json_rate", 0.0)
        if u < invalid:
            text = json.dumps(value, ensure_ascii=False)
            return text[:max(1, len(text) // 2)]  # cut in the middle: not JSON
        if u < invalid + self.answers.get("schema_mismatch_rate", 0.0):
            value = break_schema(value, schema if fmt.get("type") == "json_schema" else {})
        return json.dumps(value, ensure_ascii=False)

    def text_answer(self, answer, fmt, label, salt, kind, limit, reasoning):
        """(text, finish_reason) of an answer with text: structured if asked, cut
        when its draw says so, else within the token limit."""
        structured = self.structured_text(fmt, label, salt)
        if structured is not None:
            answer = structured
        if kind == "cut":
            return cut_answer(answer, label), "length"
        return limit_answer(answer, None if limit is None else limit - reasoning)

    def tool_call(self, tools, label, i, responses_style):
        """A call of one of the request's function tools, arguments from its schema."""
        k = int(self._draw(f"tool\x00{i}") * len(tools))
        name, params = tools[k]
        args = json.dumps(schema_value(params, params, label), ensure_ascii=False)
        call_id = "call_" + hashed_id(f"{self.cid}\x00{i}".encode("utf-8"), 24)
        if responses_style:
            return {"id": self._id("fc_", 40), "type": "function_call", "status": "completed",
                    "call_id": call_id, "name": name, "arguments": args}
        return {"id": call_id, "type": "function", "function": {"name": name,
                                                                "arguments": args}}

    def chat(self, body, model, created):
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise RequestFailure(400, "Invalid 'messages': empty array. Expected an array with "
                                 "minimum length 1, but got an empty array instead.",
                                 param="messages", code="empty_array")
        limit = token_limit_param(body, ("max_completion_tokens", "max_tokens"), 1)
        n = body.get("n") if _is_int(body.get("n")) and body.get("n") >= 1 else 1
        prompt, text = chat_prompt(body)
        kind = self.kind()
        tools = function_tools(body.get("tools"), responses_style=False)
        call_tools = self.calls_tools(tools)
        choices, completion, reasoning_total, cached = [], 0, 0, 0
        given = set()
        for i in range(min(n, 128)):
            answer, h = answer_text(text, model, i)
            if answer in given:
                answer = f"{answer} (choice {i + 1})"  # n choices, n different texts
            given.add(answer)
            label = FOOD_CLASSES[h[0] % len(FOOD_CLASSES)]
            cached, reasoning = usage_split(prompt, model, h)
            if limit is not None:
                reasoning = min(reasoning, max(0, limit - 1))
            message = {"role": "assistant", "content": None, "refusal": None,
                       "annotations": []}
            if kind == "refusal":
                message["refusal"], finish = REFUSAL_TEXT, "stop"
                spent = ntokens(REFUSAL_TEXT)
            elif kind == "content_filter":
                finish, spent = "content_filter", ntokens(answer)
            elif kind == "empty_length":
                message["content"], finish = "", "length"
                reasoning = limit if limit is not None else EMPTY_REASONING_TOKENS
                spent = 0
            elif call_tools:
                message["tool_calls"] = [self.tool_call(tools, label, i, False)]
                finish = "tool_calls"
                spent = ntokens(json.dumps(message["tool_calls"]))
            else:
                content, finish = self.text_answer(answer, body.get("response_format"),
                                                   label, i, kind, limit, reasoning)
                message["content"], spent = content, ntokens(content)
            completion += spent + reasoning
            reasoning_total += reasoning
            choice = {"index": i, "message": message, "logprobs": None, "finish_reason": finish}
            if self.provider.content_filter:
                choice["content_filter_results"] = (FILTERED if kind == "content_filter"
                                                    else SAFE_FILTER)
            choices.append(choice)
        out = {
            "id": self._id("chatcmpl-"), "object": "chat.completion", "created": created,
            "model": self.reported_model, "choices": choices,
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                      "total_tokens": prompt + completion,
                      "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
                      "completion_tokens_details": {
                          "reasoning_tokens": reasoning_total, "audio_tokens": 0,
                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
            "service_tier": "default", "system_fingerprint": self.fingerprint,
        }
        if self.provider.content_filter:
            out["prompt_filter_results"] = [{"prompt_index": 0,
                                             "content_filter_results": SAFE_FILTER}]
        return out, (prompt, cached, completion, reasoning_total)

    def completion(self, body, model, created):
        limit = token_limit_param(body, ("max_tokens",), 0)
        items = prompt_items(body.get("prompt")) or [(0, "")]
        kind = self.kind()
        choices, prompt, completion = [], 0, 0
        for i, (tokens, text) in enumerate(items):
            prompt += tokens
            answer, h = answer_text(text, model)
            if kind in ("refusal", "content_filter"):
                content, finish = "", "content_filter"
            elif kind == "empty_length":
                content, finish = "", "length"
            elif kind == "cut":
                content = " " + cut_answer(answer, FOOD_CLASSES[h[0] % len(FOOD_CLASSES)])
                finish = "length"
            else:
                content, finish = limit_answer(" " + answer, limit)
            completion += ntokens(content)
            choices.append({"text": content, "index": i, "logprobs": None,
                            "finish_reason": finish})
        return ({"id": self._id("cmpl-"), "object": "text_completion", "created": created,
                 "model": self.reported_model, "choices": choices,
                 "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                           "total_tokens": prompt + completion},
                 "system_fingerprint": self.fingerprint},
                (prompt, 0, completion, 0))

    def embeddings(self, body, model, created):
        default_dims = 3072 if "large" in model else 1536
        dims = body.get("dimensions", default_dims)
        if dims is None:
            dims = default_dims
        if not _is_int(dims) or dims < 1 or dims > default_dims:
            raise RequestFailure(400, f"Invalid 'dimensions': expected an integer between 1 and "
                                 f"{default_dims}.", param="dimensions", code="invalid_value")
        fmt = body.get("encoding_format", "float") or "float"
        if fmt not in ("float", "base64"):
            raise RequestFailure(400, f"Invalid value: '{fmt}'. Supported values are: 'float' "
                                 "and 'base64'.", param="encoding_format", code="invalid_value")
        items = embedding_items(body.get("input"))
        if not items or any(t == 0 for t, _ in items):
            raise RequestFailure(400, "'$.input' is invalid. Please check the API reference: "
                                 "https://platform.openai.com/docs/api-reference.",
                                 param=None, code=None)
        data, prompt = [], 0
        for i, (tokens, text) in enumerate(items):
            prompt += tokens
            vector = embedding_vector(text, dims)
            if fmt == "base64":
                packed = struct.pack(f"<{dims}f", *vector)
                value = base64.b64encode(packed).decode("ascii")
            else:
                value = list(vector)
            data.append({"object": "embedding", "index": i, "embedding": value})
        return ({"object": "list", "data": data, "model": self.reported_model,
                 "usage": {"prompt_tokens": prompt, "total_tokens": prompt}},
                (prompt, 0, 0, 0))

    def response(self, body, model, created):
        limit = token_limit_param(body, ("max_output_tokens",), 16)
        prompt, text = responses_prompt(body)
        answer, h = answer_text(text, model)
        label = FOOD_CLASSES[h[0] % len(FOOD_CLASSES)]
        cached, reasoning = usage_split(prompt, model, h)
        if limit is not None:
            reasoning = min(reasoning, limit // 2)
        kind = self.kind()
        tools = function_tools(body.get("tools"), responses_style=True)
        fmt = body.get("text").get("format") if isinstance(body.get("text"), dict) else None
        incomplete = None
        parts, calls = [], []
        if kind == "refusal":
            parts = [{"type": "refusal", "refusal": REFUSAL_TEXT}]
            spent = ntokens(REFUSAL_TEXT)
        elif kind == "content_filter":
            incomplete, spent = "content_filter", ntokens(answer)
        elif kind == "empty_length":
            incomplete, spent = "max_output_tokens", 0
            reasoning = limit if limit is not None else EMPTY_REASONING_TOKENS
        elif self.calls_tools(tools):
            calls = [self.tool_call(tools, label, 0, True)]
            spent = ntokens(json.dumps(calls))
        else:
            content, finish = self.text_answer(answer, fmt, label, 0, kind, limit, reasoning)
            if finish == "length":
                incomplete = "max_output_tokens"
            parts = [{"type": "output_text", "text": content, "annotations": [],
                      "logprobs": []}]
            spent = ntokens(content)
        output_tokens = spent + reasoning
        output = []
        if reasoning:
            output.append({"id": self._id("rs_", 40), "type": "reasoning", "summary": []})
        if parts:
            output.append({"id": self._id("msg_", 40), "type": "message",
                           "status": "incomplete" if incomplete and kind else "completed",
                           "role": "assistant", "content": parts})
        output += calls
        out = {
            "id": self._id("resp_", 40), "object": "response", "created_at": created,
            "status": "incomplete" if incomplete else "completed",
            "completed_at": None if incomplete else created,
            "error": None,
            "incomplete_details": {"reason": incomplete} if incomplete else None,
            "instructions": body.get("instructions"), "max_output_tokens": limit,
            "model": self.reported_model, "output": output, "parallel_tool_calls": True,
            "previous_response_id": None,
            "reasoning": {"effort": None, "summary": None}, "service_tier": "default",
            "store": True, "temperature": body.get("temperature", 1.0),
            "text": {"format": {"type": "text"}}, "tool_choice": "auto", "tools": [],
            "top_p": body.get("top_p", 1.0), "truncation": "disabled",
            "usage": {"input_tokens": prompt,
                      "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
                      "output_tokens": output_tokens,
                      "output_tokens_details": {"reasoning_tokens": reasoning},
                      "total_tokens": prompt + output_tokens},
            "user": None, "metadata": body.get("metadata") or {},
        }
        return out, (prompt, cached, output_tokens, reasoning)

    def moderation(self, body, model, created):
        items = embedding_items(body.get("input")) or [(0, "")]
        results = []
        for _, text in items:
            h = hashlib.sha256(b"mod" + text.encode("utf-8")).digest()
            results.append({
                "flagged": False,
                "categories": {c: False for c in MODERATION_CATEGORIES},
                "category_scores": {c: round((h[i] + 1) / 1e6, 8)
                                    for i, c in enumerate(MODERATION_CATEGORIES)},
                "category_applied_input_types": {c: ["text"] for c in MODERATION_CATEGORIES},
            })
        return ({"id": self._id("modr-"), "model": model or "omni-moderation-latest",
                 "results": results}, (0, 0, 0, 0))

    def image(self, body, model, created):
        prompt = ntokens(body.get("prompt") if isinstance(body.get("prompt"), str) else "")
        return ({"created": created, "data": [{"b64_json": TINY_PNG, "revised_prompt": None}],
                 "usage": {"input_tokens": prompt, "output_tokens": 272,
                           "total_tokens": prompt + 272,
                           "input_tokens_details": {"text_tokens": prompt, "image_tokens": 0}}},
                (prompt, 0, 272, 0))

    def video(self, body, model, created):
        return ({"id": self._id("video_", 32), "object": "video", "model": model,
                 "status": "completed", "progress": 100, "created_at": created,
                 "completed_at": created, "expires_at": created + DAY, "seconds": "4",
                 "size": "720x1280", "error": None, "remixed_from_video_id": None},
                (0, 0, 0, 0))


_VECTOR_CACHE: dict = {}
_VECTOR_LOCK = threading.Lock()


def embedding_vector(text, dims):
    """A unit vector derived from the text, rounded like float32 values print."""
    key = (text, dims)
    with _VECTOR_LOCK:
        cached = _VECTOR_CACHE.get(key)
    if cached is not None:
        return cached
    raw = hashlib.shake_256(b"emb\x00" + text.encode("utf-8")).digest(4 * dims)
    ints = struct.unpack(f"<{dims}i", raw)
    norm = math.sqrt(sum(float(v) * v for v in ints)) or 1.0
    vector = tuple(round(v / norm, 8) for v in ints)
    with _VECTOR_LOCK:
        if len(_VECTOR_CACHE) > 4096:
            _VECTOR_CACHE.clear()
        _VECTOR_CACHE[key] = vector
    return vector


def failure_for_code(code, model):
    """The failure a per-request fault injects."""
    if code == "request_timeout":
        return RequestFailure(None, "The request timed out.", code="request_timeout")
    if code == 429:
        return RequestFailure(429, f"Rate limit reached for {model} in organization {ORG} on "
                              "tokens per min (TPM): Limit 200000, Used 200000, Requested 120. "
                              "Please try again in 36ms.", type_="tokens",
                              code="rate_limit_exceeded")
    if code == 400:
        return RequestFailure(400, "This model's maximum context length is 128000 tokens. "
                              "However, your messages resulted in 130412 tokens. Please reduce "
                              "the length of the messages.", param="messages",
                              code="context_length_exceeded")
    if code >= 500:
        return RequestFailure(code, SERVER_ERROR_MESSAGES.get(code, "Internal server error."),
                              type_="server_error")
    return RequestFailure(code, f"The request failed with HTTP status {code}.")


# --------------------------------------------------------------------------
# Validation and processing of a batch input file

def dump_line(obj, style):
    """One JSONL line, spaced like the API's own files (or compact, as an option)."""
    separators = (", ", ": ") if style == "spaced" else (",", ":")
    return json.dumps(obj, ensure_ascii=False, separators=separators).encode("utf-8") + b"\n"


def line_error(code, message, param, line):
    return {"code": code, "message": message, "param": param, "line": line}


class Prepared:
    """What validation and processing made of an input file, in processing order."""

    def __init__(self):
        self.style = "spaced"
        self.errors = []
        self.model = None
        self.total = 0
        self.tokens = 0
        self.claimed_errors = 0
        self.ok_path = self.err_path = None
        self.ok_ends = array.array("q")
        self.err_ends = array.array("q")
        self.outcomes = bytearray()  # 1 = success, 0 = failed, per processed request
        self.custom_ids = []
        # per-request usage, to sum what was done when a batch stops early
        self.usage = [array.array("q") for _ in range(4)]

    def discard(self):
        for p in (self.ok_path, self.err_path):
            if p:
                try:
                    os.unlink(p)
                except OSError:
                    pass
        self.ok_path = self.err_path = None


class FileValidator:
    """Checks every line of an input file the way the real server does (api-facts §6)."""

    def __init__(self, provider, endpoint, max_requests, unsupported_models,
                 invalid_lines=(), invalid_lines_error=None):
        self.invalid_lines = set(invalid_lines)
        self.invalid_lines_error = invalid_lines_error
        self.provider = provider
        self.endpoint = provider.canonical_endpoint(endpoint)
        self.max_requests = max_requests
        self.unsupported = set(unsupported_models)
        self.title = ENDPOINT_TITLES.get(self.endpoint, "Batch")

    def check_line(self, raw, lineno, state):
        """Return an error dict, or (custom_id, model, n_inputs) for a good line."""
        bad_json = line_error("invalid_json_line", "This line is not parseable as valid JSON.",
                              None, lineno)
        try:
            obj = strict_json_loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return bad_json
        if not isinstance(obj, dict):
            return bad_json
        for key in ("custom_id", "method", "url", "body"):
            if obj.get(key) is None:
                return line_error("missing_required_parameter",
                                  f"Missing required parameter: '{key}'.", key, lineno)
        cid, method, url, body = obj["custom_id"], obj["method"], obj["url"], obj["body"]
        for key, value, want in (("custom_id", cid, str), ("method", method, str),
                                 ("url", url, str), ("body", body, dict)):
            if not isinstance(value, want):
                expected = "an object" if want is dict else "a string"
                return line_error("invalid_type", f"Invalid type for '{key}': expected "
                                  f"{expected}, but got {json_type_name(value)} instead.",
                                  key, lineno)
        if method != "POST":
            return line_error("invalid_method", f"Invalid method '{method}'. The only "
                              "supported method is 'POST'.", "method", lineno)
        if self.provider.canonical_endpoint(url) != self.endpoint:
            return line_error(self.provider.line_codes["url"], "The URL provided for this "
                              "request does not match the batch endpoint.", "url", lineno)
        if body.get("stream") is True:
            return line_error("streaming_unsupported", f"{self.title}: Streaming is not "
                              "supported in the Batch API.", "body.stream", lineno)
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return line_error("invalid_request", "Model parameter is required.", "body.model",
                              lineno)
        required = ENDPOINT_REQUIRED.get(self.endpoint)
        if required and body.get(required) is None:
            return line_error("invalid_request", f"{required.capitalize()} parameter is "
                              "required.", f"body.{required}", lineno)
        if model in self.unsupported:
            return line_error("model_not_found", f"The provided model '{model}' is not "
                              "supported by the Batch API.", "body.model", lineno)
        if cid in state["seen"]:
            return line_error("duplicate_custom_id", f"The custom_id '{cid}' for this request "
                              "is a duplicate of another request. The custom_id parameter must "
                              "be unique for each request in a batch.", "custom_id", lineno)
        if state["model"] is None:
            state["model"] = model
        elif model != state["model"]:
            return line_error(self.provider.line_codes["model"], f"The model '{model}' for "
                              "this request does not match the rest of the batch. Each batch "
                              "must contain requests for a single model.", "body.model", lineno)
        inputs = 0
        if self.endpoint == "/v1/embeddings":
            inputs = len(embedding_items(body.get("input")))
        return cid, model, inputs

    def validate(self, fd):
        """First pass: all errors, plus the byte span of each good line."""
        errors, starts, ends = [], array.array("q"), array.array("q")
        state = {"seen": set(), "model": None}
        count = inputs = offset = 0
        pending_blank = []
        too_many = False
        with os.fdopen(os.dup(fd), "rb") as f:
            f.seek(0)
            for lineno, raw in enumerate(f, 1):
                start, offset = offset, offset + len(raw)
                line = raw[:-1] if raw.endswith(b"\n") else raw
                if line.endswith(b"\r"):
                    line = line[:-1]
                if not line.strip():
                    pending_blank.append(lineno)  # an error only if a request follows
                    continue
                if not too_many:
                    for blank in pending_blank:
                        errors.append(line_error("invalid_json_line", "This line is not "
                                                 "parseable as valid JSON.", None, blank))
                pending_blank = []
                count += 1
                if count > self.max_requests:
                    too_many = True
                    continue
                result = self.check_line(line, lineno, state)
                if lineno in self.invalid_lines and not isinstance(result, dict):
                    result = line_error(self.invalid_lines_error["code"],
                                        self.invalid_lines_error["message"], None, lineno)
                if isinstance(result, dict):
                    errors.append(result)
                    continue
                cid, _, n_inputs = result
                state["seen"].add(cid)
                inputs += n_inputs
                starts.append(start)
                ends.append(start + len(line))
        if too_many:
            errors = [line_error("too_many_tasks", "The number of requests in the input file "
                                 f"exceeds the maximum allowed value of {self.max_requests:,}.",
                                 None, None)]
        elif count == 0:
            errors = [line_error("empty_file", "The input file is empty. Please ensure that the "
                                 "batch contains at least one request.", None, None)]
        elif inputs > MAX_EMBEDDING_INPUTS:
            errors.append(line_error("too_many_tasks", "The number of embedding inputs in the "
                                     f"batch ({inputs:,}) exceeds the maximum of "
                                     f"{MAX_EMBEDDING_INPUTS:,}.", None, None))
        return errors, state["model"], starts, ends


def prepare_batch(fd, *, provider, endpoint, seed, work_dir, max_requests, unsupported_models,
                  error_rate, error_count, error_codes, style, answers=None, invalid_lines=(),
                  invalid_lines_error=None, trailing_rate=0.0, overlong=0, hostile_id=None):
    """Validate the input file and, if it is good, compute every answer up front.

    The answers go to two files in processing order (a deterministic shuffle):
    successes and failures, with the byte offset after each line, so that a
    batch stopped after k requests keeps exactly its first k answers by
    truncating both files.
    """
    prep = Prepared()
    prep.style = style
    validator = FileValidator(provider, endpoint, max_requests, unsupported_models,
                              invalid_lines, invalid_lines_error)
    errors, model, starts, ends = validator.validate(fd)
    prep.errors, prep.model = errors, model
    if errors:
        return prep
    canonical = provider.canonical_endpoint(endpoint)
    n = len(starts)
    order = list(range(n))
    random.Random(seed).shuffle(order)
    fault_rng = random.Random(seed ^ 0x5EED)
    synth = Synthesizer(provider, provider.report_model(model), b"", answers)
    prep.claimed_errors = min(error_count, n)  # "fail the next N" counts these down
    prep.ok_path = os.path.join(work_dir, "output.jsonl")
    prep.err_path = os.path.join(work_dir, "error.jsonl")
    ok_size = err_size = 0
    with open(prep.ok_path, "wb") as ok, open(prep.err_path, "wb") as err:
        for j, idx in enumerate(order):
            request = json.loads(os.pread(fd, ends[idx] - starts[idx], starts[idx]))
            body, cid = request["body"], request["custom_id"]
            ids = hashlib.sha256(b"%d:%d" % (seed, j)).hexdigest()
            synth.seed = ids.encode()
            prep.custom_ids.append(cid)
            inject = j < error_count
            if error_rate > 0 and fault_rng.random() < error_rate:
                inject = True
            try:
                if inject:
                    raise failure_for_code(error_codes[fault_rng.randrange(len(error_codes))],
                                           model)
                out_body, usage = synth.respond(canonical, body, time.time(), cid)
                prep.tokens += usage[0]
                line = {"id": "batch_req_" + ids[:32], "custom_id": cid,
                        "response": {"status_code": 200, "request_id": "req_" + ids[32:],
                                     "body": out_body},
                        "error": None}
                data = dump_line(line, style)
                if trailing_rate and custom_id_draw(cid, "trailing") < trailing_rate:
                    data = data[:-1] + TRAILING_BYTES + b"\n"
                if overlong and j == 0:
                    ok_size += write_padded(ok, line, style, overlong)
                else:
                    ok.write(data)
                    ok_size += len(data)
                prep.ok_ends.append(ok_size)
                prep.outcomes.append(1)
            except RequestFailure as failure:
                usage = (0, 0, 0, 0)
                prep.tokens += estimate_input_tokens(canonical, body)
                line = {"id": "batch_req_" + ids[:32], "custom_id": cid}
                error = {"message": failure.message, "type": failure.type,
                         "param": failure.param, "code": failure.code}
                if failure.status is None:
                    line.update(response=None, error={"code": failure.code,
                                                      "message": failure.message})
                else:
                    line.update(response={"status_code": failure.status,
                                          "request_id": "req_" + ids[32:],
                                          "body": {"error": error}}, error=None)
                data = dump_line(line, style)
                err.write(data)
                err_size += len(data)
                prep.err_ends.append(err_size)
                prep.outcomes.append(0)
            for column, value in zip(prep.usage, usage):
                column.append(value)
    if hostile_id is not None and prep.ok_ends:
        # A line for a request nobody sent, after the last real one; truncating at
        # the last real line's end (a cancel) keeps it out.
        with open(prep.ok_path, "ab") as ok:
            ok.write(dump_line({"id": "batch_req_" + "0" * 32, "custom_id": hostile_id,
                                "response": {"status_code": 200, "request_id": "req_0",
                                             "body": {}}, "error": None}, style))
    prep.total = n
    return prep


def custom_id_draw(cid, salt):
    """A number in [0, 1) fixed by a custom_id and a salt."""
    h = hashlib.sha256(f"{salt}\x00{cid}".encode("utf-8")).digest()
    return int.from_bytes(h[:8], "big") / 2.0 ** 64


def write_padded(out, line, style, size):
    """Write `line` as one JSON line of at least `size` bytes before its newline
    (a long "padding" string in it), a MiB at a time; return the bytes written."""
    head, sep, tail = dump_line(dict(line, padding=""), style).partition(b'"padding": ""'
                                                                         if style == "spaced"
                                                                         else b'"padding":""')
    key = sep[:-2]
    fill = max(0, size + 1 - len(head) - len(sep) - len(tail))  # size before the newline
    out.write(head + key + b'"')
    left, chunk = fill, b"x" * (1 << 20)
    while left > 0:
        out.write(chunk[:min(left, len(chunk))])
        left -= min(left, len(chunk))
    out.write(b'"' + tail)
    return len(head) + len(key) + 2 + fill + len(tail)


# --------------------------------------------------------------------------
# Stored objects

class StoredFile:
    def __init__(self, *, id, filename, purpose, size, created, expires_at, path, sha256, seq,
                 visible_at):
        self.id, self.filename, self.purpose, self.bytes = id, filename, purpose, size
        self.created, self.expires_at, self.path, self.sha256 = created, expires_at, path, sha256
        self.seq, self.visible_at = seq, visible_at
        self.deleted = False
        self.processed_at = created      # before it: uploaded (Azure: pending)
        self.error_details = None        # set: the file ends in status error
        self.pending_status = "uploaded"

    def status_at(self, now):
        if now < self.processed_at:
            return self.pending_status
        return "error" if self.error_details else "processed"

    def visible(self, now):
        return not self.deleted and now >= self.visible_at

    def to_json(self, now):
        status = self.status_at(now)
        return {"id": self.id, "object": "file", "bytes": self.bytes,
                "created_at": int(self.created), "expires_at": self.expires_at,
                "filename": self.filename, "purpose": self.purpose, "status": status,
                "status_details": self.error_details if status == "error" else None}


class Batch:
    """A batch and its plan: every status change is a function of the wall clock.

    The batch is `validating` until the background processor has read its
    input file; Store._attach then fixes the plan (the absolute time of each
    phase), and status_at(t) reads the status off it.
    """

    def __init__(self, *, id, seq, endpoint, completion_window, metadata, input_file_id,
                 created, window, phases, seed, output_expires_seconds):
        self.id, self.seq, self.endpoint = id, seq, endpoint
        self.completion_window, self.metadata = completion_window, metadata
        self.input_file_id = input_file_id
        self.created, self.expires_at = created, created + window
        self.phases = phases            # phase durations at create, speed applied
        self.t_v = created + phases["validating"]  # moved later if processing is slower
        self.P = 0.0                     # in_progress duration, known once processed
        self.F, self.C = phases["finalizing"], phases["cancelling"]
        self.seed, self.output_expires_seconds = seed, output_expires_seconds
        self.model = self.reported_model = None
        self.total = self.tokens = 0
        self.errors = []
        self.prep = None
        self.work_dir = None
        self.style = "spaced"
        self.t_exp, self.exp_done = None, 0
        self.attached = False
        self.token_pending = False       # the enqueued-token check is still to be made
        self.processed = threading.Event()
        self.cancel_at = None
        self.key = ""                    # the key of the create call (hostile echoes)
        self.final = None                # set once terminal and its files are written

    @property
    def t_fin(self):
        return self.t_v + self.P

    @property
    def t_done(self):
        return self.t_fin + self.F

    def done_at(self, t):
        """How many requests (in processing order) are done at time t."""
        if t >= self.t_fin or self.P <= 0:
            return self.total
        if t <= self.t_v:
            return 0
        return min(self.total, int(self.total * (t - self.t_v) / self.P))

    def ran_before(self, t):
        """Whether the batch passed validation before time t."""
        return self.attached and not self.errors and self.t_v <= t

    def status_at(self, t):
        """(status, requests done) at time t."""
        if self.cancel_at is not None and t >= self.cancel_at:
            done = self.done_at(self.cancel_at) if self.ran_before(self.cancel_at) else 0
            return ("cancelled" if t >= self.cancel_at + self.C else "cancelling"), done
        if not self.attached or t < self.t_v or self.token_pending:
            return "validating", 0
        if self.errors:
            return "failed", 0
        if self.t_exp is not None and t >= self.t_exp:
            return "expired", self.exp_done
        if t < self.t_fin:
            return "in_progress", self.done_at(t)
        if t < self.t_done:
            return "finalizing", self.total
        return "completed", self.total

    def terminal_time(self, status):
        return {"completed": self.t_done, "failed": self.t_v, "expired": self.t_exp,
                "cancelled": (self.cancel_at or 0) + self.C}[status]

    def to_json(self, now, initial=False):
        status, done = ("validating", 0) if initial else self.status_at(now)
        stop = min(x for x in (now, self.cancel_at, self.t_exp) if x is not None)
        validated = not initial and self.attached and self.t_v <= stop and not (
            status == "validating")
        ran = validated and not self.errors

        def at(t, condition=True):
            return int(t) if condition and t is not None else None

        if self.final is not None:
            counts, usage = self.final["counts"], self.final["usage"]
            output_id, error_id = self.final["output_file_id"], self.final["error_file_id"]
        else:
            completed = self.prep.outcomes.count(1, 0, done) if ran and self.prep else 0
            counts = {"total": self.total if ran else 0, "completed": completed,
                      "failed": done - completed if ran else 0}
            usage = usage_json((0, 0, 0, 0))
            output_id = error_id = None
        return {
            "id": self.id, "object": "batch", "endpoint": self.endpoint,
            "model": self.reported_model if validated else None,
            "errors": ({"object": "list", "data": self.errors}
                       if status == "failed" else None),
            "input_file_id": self.input_file_id, "completion_window": self.completion_window,
            "status": status, "output_file_id": output_id, "error_file_id": error_id,
            "created_at": int(self.created),
            "in_progress_at": at(self.t_v, ran),
            "expires_at": int(self.expires_at),
            "finalizing_at": at(self.t_fin, ran and stop >= self.t_fin),
            "completed_at": at(self.t_done, status == "completed"),
            "failed_at": at(self.t_v, status == "failed"),
            "expired_at": at(self.t_exp, status == "expired"),
            "cancelling_at": at(self.cancel_at, status in ("cancelling", "cancelled")),
            "cancelled_at": at((self.cancel_at or 0) + self.C, status == "cancelled"),
            "request_counts": counts, "usage": usage, "metadata": self.metadata,
        }


class HeldBatch:
    """The batch of another job of the organisation that holds part of the
    enqueued limit: in_progress while it holds it, then completed (or cancelled,
    if someone cancelled it). Its id is fixed by the start of the hold."""

    TOTAL = 10_000

    def __init__(self, since, end, cancelled_at, model):
        self.id = "batch_" + hashlib.sha256(repr(since).encode()).hexdigest()[:32]
        self.since, self.end, self.cancelled_at, self.model = since, end, cancelled_at, model

    def to_json(self, now):
        span = max(1e-9, self.end - self.since)
        done = min(self.TOTAL, int(self.TOTAL * max(0.0, now - self.since) / span))
        over = now >= self.end
        status = ("cancelled" if self.cancelled_at else "completed") if over else "in_progress"
        start = int(self.since) - 600  # created well before the run
        stamp = int(self.end)
        return {
            "id": self.id, "object": "batch", "endpoint": "/v1/chat/completions",
            "model": self.model, "errors": None,
            "input_file_id": "file-" + self.id[6:28], "completion_window": "24h",
            "status": status, "output_file_id": None, "error_file_id": None,
            "created_at": start, "in_progress_at": start + 5, "expires_at": start + DAY,
            "finalizing_at": stamp if status == "completed" else None,
            "completed_at": stamp if status == "completed" else None,
            "failed_at": None, "expired_at": None,
            "cancelling_at": int(self.cancelled_at) if self.cancelled_at else None,
            "cancelled_at": stamp if status == "cancelled" else None,
            "request_counts": {"total": self.TOTAL, "completed": done, "failed": 0},
            "usage": usage_json((0, 0, 0, 0)),
            "metadata": {"job": "nightly-report", "owner": "another team"},
        }


def usage_json(u):
    inp, cached, out, reasoning = u
    return {"input_tokens": inp, "input_tokens_details": {"cached_tokens": cached},
            "output_tokens": out, "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": inp + out}


class Processor:
    """One background thread that validates and answers input files, in creation order.

    Creating a batch returns at once, as the real API does, and one big file
    does not hold up other requests; the single thread keeps the order of the
    fault draws (and so a run) reproducible.
    """

    def __init__(self, store):
        self.store = store
        self.jobs = queue.Queue()
        threading.Thread(target=self._run, name="batch-processor", daemon=True).start()

    def submit(self, batch, fd):
        self.jobs.put((batch, fd))

    def _run(self):
        while True:
            batch, fd = self.jobs.get()
            try:
                self.store.process(batch, fd)
            except Exception:
                traceback.print_exc()


# --------------------------------------------------------------------------
# The store: files, batches, settings, faults; every method takes the lock

class Store:
    # A poll waits at most this long for a batch whose validating phase is
    # over but whose file is still being processed (so that speed 0 means
    # "finished on the next poll" for any reasonable file).
    PROCESSING_WAIT = 5.0

    def __init__(self, provider, data_dir, settings):
        self.provider = provider
        self.data_dir = data_dir
        self.files_dir = os.path.join(data_dir, "files")
        self.work_dir = os.path.join(data_dir, "work")
        self.startup_settings = copy.deepcopy(settings)
        self.settings = copy.deepcopy(settings)
        self.lock = threading.RLock()
        self.rng = random.Random(settings["seed"])
        self.files: dict[str, StoredFile] = {}
        self.batches: dict[str, Batch] = {}
        self.seq = 0
        self.hold_since = time.time()
        self.hold_cancelled_at = None
        self.stats = {"actions": {}, "batch_reads": {}, "read_times": {}}
        self.answered = {}
        self._make_dirs()
        self.processor = Processor(self)

    def _make_dirs(self):
        os.makedirs(self.files_dir, exist_ok=True)
        os.makedirs(self.work_dir, exist_ok=True)

    # ---- settings and faults

    def get_settings(self):
        with self.lock:
            return copy.deepcopy(self.settings)

    def update_settings(self, changes):
        if not isinstance(changes, dict):
            raise SettingError("the body must be a JSON object")
        checked = {k: coerce_setting(k, v) for k, v in changes.items()}
        with self.lock:
            self.settings.update(checked)
            if "held_share" in checked or "held_seconds" in checked:
                self.hold_since, self.hold_cancelled_at = time.time(), None
            if "seed" in checked:
                self.rng = random.Random(checked["seed"])
            return copy.deepcopy(self.settings)

    def draw(self, fault):
        """Whether `fault` fires now: its count first, then its rate."""
        with self.lock:
            count_key = fault + "_count"
            if self.settings.get(count_key, 0) > 0:
                self.settings[count_key] -= 1
                return True
            rate = self.settings.get(fault + "_rate", 0.0)
            return rate > 0 and self.rng.random() < rate

    def pick(self, options):
        with self.lock:
            return options[self.rng.randrange(len(options))]

    def phases(self):
        s, k = self.settings, self.settings["speed"]
        return {"validating": s["validating_seconds"] * k,
                "in_progress": s["in_progress_seconds"] * k,
                "per_request": s["per_request_seconds"] * k,
                "finalizing": s["finalizing_seconds"] * k,
                "cancelling": s["cancelling_seconds"] * k}

    def key_accepted(self, key):
        with self.lock:
            s = self.settings
            if key in s["refuse_keys"]:
                return False
            if s["api_key"] is not None:
                return key == s["api_key"]
            return not key.startswith("sk-refused")

    # ---- lifecycle

    def advance(self, now):
        """Apply every status change due by `now` (token decisions, final files)."""
        with self.lock:
            pending = sorted((b for b in self.batches.values()
                              if b.token_pending and now >= b.t_v),
                             key=lambda b: (b.t_v, b.seq))
            for b in pending:
                self._decide_token_limit(b)
            for b in list(self.batches.values()):
                if b.final is None:
                    status, done = b.status_at(now)
                    if status in TERMINAL:
                        self._finish(b, status, done)

    def _await_processing(self):
        """Let a poll see the outcome of files whose validating phase is over."""
        now = time.time()
        with self.lock:
            due = [b for b in self.batches.values()
                   if not b.attached and now >= b.created + b.phases["validating"]]
        deadline = now + self.PROCESSING_WAIT
        for b in due:
            b.processed.wait(max(0.0, deadline - time.time()))
        return time.time()

    def _limit_for(self, setting, model):
        limit = self.settings[setting]
        if isinstance(limit, dict):
            return limit.get(model)
        return limit

    def held(self, limit, t):
        """What another job of the organisation holds of `limit` at time t."""
        if self.settings["held_share"] > 0 and t < self.hold_end():
            return int(limit * self.settings["held_share"])
        return 0

    def hold_end(self):
        end = self.hold_since + self.settings["held_seconds"]
        return min(end, self.hold_cancelled_at) if self.hold_cancelled_at else end

    def held_batch(self):
        """The other job's batch, when it is to be seen."""
        s = self.settings
        if not (s["held_visible"] and s["held_share"] > 0):
            return None
        limits = s["enqueued_token_limit"]
        model = next(iter(limits)) if isinstance(limits, dict) and limits else "gpt-4o-mini"
        return HeldBatch(self.hold_since, self.hold_end(), self.hold_cancelled_at,
                         self.provider.report_model(model))

    def count_request(self, action, batch_id):
        with self.lock:
            actions = self.stats["actions"]
            actions[action] = actions.get(action, 0) + 1
            if action == "batch.get":
                reads = self.stats["batch_reads"]
                reads[batch_id] = reads.get(batch_id, 0) + 1
                now = round(time.time(), 3)
                self.stats["read_times"].setdefault(batch_id, [now, now])[1] = now

    def get_stats(self):
        with self.lock:
            reads = self.stats["batch_reads"]
            twice = sorted(cid for cid, n in self.answered.items() if n > 1)
            return {"actions": dict(self.stats["actions"]), "batch_reads": dict(reads),
                    "batch_reads_total": sum(reads.values()),
                    "batch_read_times": copy.deepcopy(self.stats["read_times"]),
                    "held_batch_cancelled": self.stats.get("held_batch_cancelled", False),
                    "answered": {"requests": sum(self.answered.values()),
                                 "custom_ids": len(self.answered),
                                 "twice": len(twice), "twice_examples": twice[:10]}}

    def _capacity_refusal(self, b, t, holds):
        """(code, message) when b does not fit in its model's enqueued limits at time t
        next to the batches for which holds(o) is true, else None."""
        others = [o for o in self.batches.values()
                  if o is not b and o.model == b.model and holds(o)]
        limit = self._limit_for("enqueued_token_limit", b.model)
        if limit is not None and (b.tokens + sum(o.tokens for o in others)
                                  + self.held(limit, t)) > limit:
            return "token_limit_exceeded", token_limit_message(b.model, limit)
        limit = self._limit_for("enqueued_request_limit", b.model)
        if limit is not None and (b.total + sum(o.total for o in others)
                                  + self.held(limit, t)) > limit:
            return self.settings["request_limit_code"], request_limit_message(b.model, limit)
        return None

    def _decide_token_limit(self, b):
        b.token_pending = False
        if self.settings["token_limit_at_create"] or b.errors or (
                b.cancel_at is not None and b.cancel_at < b.t_v):
            return
        t = b.t_v
        refusal = self._capacity_refusal(
            b, t, lambda o: not o.token_pending and o.status_at(t)[0] in (
                "in_progress", "finalizing", "cancelling"))
        if refusal:
            b.errors = [line_error(refusal[0], refusal[1], None, None)]
            self._drop_work(b)

    def _drop_work(self, b):
        if b.prep is not None:
            b.prep.discard()
            b.prep = None
        if b.work_dir:
            shutil.rmtree(b.work_dir, ignore_errors=True)
            b.work_dir = None

    def _finish(self, b, status, done):
        """Write the final output and error files of a batch that reached `status`."""
        t_end = b.terminal_time(status)
        prep = b.prep
        output_id = error_id = None
        counts = {"total": 0, "completed": 0, "failed": 0}
        usage = (0, 0, 0, 0)
        ran = status != "failed" and b.ran_before(b.cancel_at if status == "cancelled"
                                                  else t_end)
        if prep is not None and prep.ok_path and ran:
            ok_count = prep.outcomes.count(1, 0, done)
            failed = done - ok_count
            if done < prep.total:  # a finished batch keeps all, an unsent request's line too
                os.truncate(prep.ok_path, prep.ok_ends[ok_count - 1] if ok_count else 0)
                os.truncate(prep.err_path, prep.err_ends[failed - 1] if failed else 0)
            tail = None
            if status == "expired":
                tail = ("batch_expired", "This request could not be executed before the "
                        "completion window expired.")
            elif status == "cancelled" and self.settings["cancel_writes_error_lines"]:
                tail = ("batch_cancelled", "This request could not be executed before the "
                        "batch was cancelled.")
            if tail and done < prep.total:
                with open(prep.err_path, "ab") as err:
                    for j in range(done, prep.total):
                        ids = hashlib.sha256(b"%d:%d" % (b.seed, j)).hexdigest()
                        err.write(dump_line({"id": "batch_req_" + ids[:32],
                                             "custom_id": prep.custom_ids[j], "response": None,
                                             "error": {"code": tail[0], "message": tail[1]}},
                                            b.style))
            counts = {"total": prep.total, "completed": ok_count, "failed": failed}
            if self.settings["track_answers"]:
                for j in range(done):
                    if prep.outcomes[j]:
                        cid = prep.custom_ids[j]
                        self.answered[cid] = self.answered.get(cid, 0) + 1
            usage = tuple(sum(col[:done]) for col in prep.usage)
            output_id = self._adopt_output(b, prep.ok_path, "output", t_end, keep_empty=False)
            error_id = self._adopt_output(b, prep.err_path, "error", t_end,
                                          keep_empty=self.provider.always_error_file)
        self._drop_work(b)
        b.final = {"counts": counts, "usage": usage_json(usage),
                   "output_file_id": output_id, "error_file_id": error_id}

    def _adopt_output(self, b, path, kind, t_end, keep_empty):
        size = os.path.getsize(path)
        if size == 0 and not keep_empty:
            return None
        fid = self._new_file_id()
        dest = os.path.join(self.files_dir, fid)
        os.replace(path, dest)
        sha = hashlib.sha256()
        with open(dest, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                sha.update(chunk)
        self.seq += 1
        self.files[fid] = StoredFile(
            id=fid, filename=f"{b.id}_{kind}.jsonl", purpose="batch_output", size=size,
            created=t_end, expires_at=int(t_end) + b.output_expires_seconds, path=dest,
            sha256=sha.hexdigest(), seq=self.seq, visible_at=t_end)
        return fid

    def _new_file_id(self):
        while True:
            fid = self.provider.new_file_id()
            if fid not in self.files:
                return fid

    # ---- files

    def add_upload(self, tmp_path, filename, purpose, size, sha256, expires_seconds, now):
        with self.lock:
            fid = self._new_file_id()
            path = os.path.join(self.files_dir, fid)
            os.replace(tmp_path, path)
            self.seq += 1
            if expires_seconds is None and purpose == "batch":
                expires_seconds = 30 * DAY
            f = StoredFile(id=fid, filename=filename, purpose=purpose, size=size, created=now,
                           expires_at=int(now) + expires_seconds if expires_seconds else None,
                           path=path, sha256=sha256, seq=self.seq,
                           visible_at=now + self.settings["file_visibility_delay"])
            f.pending_status = self.provider.pending_file_status
            f.processed_at = now + self.settings["file_processing_seconds"]
            if self.draw("file_error"):
                f.error_details = self.settings["file_error_details"]
            self.files[fid] = f
            return f

    def visible_file(self, fid, now):
        with self.lock:
            f = self.files.get(fid)
            if f is None or not f.visible(now):
                raise ApiError(404, f"No such File object: {fid}", param="id")
            return f

    def delete_file(self, fid, now):
        with self.lock:
            f = self.visible_file(fid, now)
            f.deleted = True
            try:
                os.unlink(f.path)  # a download in progress keeps its descriptor
            except OSError:
                pass
            return f

    def list_files(self, now, purpose, limit, order, after):
        with self.lock:
            items = sorted(self.files.values(), key=lambda f: f.seq, reverse=order == "desc")
            return page(items, after, limit,
                        lambda f: f.visible(now) and (purpose is None or f.purpose == purpose))

    # ---- batches

    def create_batch(self, req, log, key=""):
        """Register a batch and queue its file; the create call itself does no heavy work."""
        with self.lock:
            now = time.time()
            self.advance(now)
            s = self.settings
            fid = req["input_file_id"]
            f = self.files.get(fid)
            found = f is not None and f.visible(now)
            invisible = f is not None and not f.deleted and not found
            if invisible or (not found and s["missing_file_400"]):
                raise ApiError(400, f"Cannot find file {fid}, or project {PROJECT} does not "
                               "have access to it.", param="file_id")
            if found and f.purpose != "batch":
                raise ApiError(400, f"The file {fid} has purpose '{f.purpose}', but the Batch "
                               "API requires files uploaded with purpose 'batch'.",
                               param="input_file_id")
            if found and f.status_at(now) != "processed":
                raise file_not_ready(f, now)
            bid = self.provider.new_batch_id()
            while bid in self.batches:
                bid = self.provider.new_batch_id()
            out_exp = req.get("output_expires_after")
            self.seq += 1
            b = Batch(id=bid, seq=self.seq, endpoint=req["endpoint"],
                      completion_window=req["completion_window"],
                      metadata=req.get("metadata"), input_file_id=fid, created=now,
                      window=self.provider.window_seconds(req["completion_window"]) or DAY,
                      phases=self.phases(), seed=self.rng.getrandbits(62),
                      output_expires_seconds=out_exp["seconds"] if out_exp else 30 * DAY)
            b.key = key
            self.batches[bid] = b
            log.update(batch_id=bid, acted=True)
            if found:
                b.work_dir = tempfile.mkdtemp(prefix="batch-", dir=self.work_dir)
                self.processor.submit(b, os.open(f.path, os.O_RDONLY))
            else:
                prep = Prepared()
                prep.errors = [line_error("invalid_request", f"Cannot find file {fid}, or "
                                          f"organization {ORG} does not have access to it.",
                                          "file_id", None)]
                self._attach(b, prep, now)
            reply = b.to_json(now, initial=True)
            at_create = s["token_limit_at_create"]
        if at_create and found:
            self._check_token_limit_at_create(b, at_create, log)
        return reply

    def _check_token_limit_at_create(self, b, status, log):
        b.processed.wait(600)
        with self.lock:
            if not b.model or b.errors:
                return
            now = time.time()
            refusal = self._capacity_refusal(
                b, now, lambda o: o.attached and not o.errors
                and o.status_at(now)[0] not in TERMINAL)
            if refusal:
                del self.batches[b.id]
                self._drop_work(b)
                log.update(acted=False)
                raise ApiError(status, refusal[1],
                               type_="tokens" if status == 429 else "invalid_request_error",
                               code=refusal[0])

    def process(self, b, fd):
        """Run on the processor thread: validate and answer the input file of b."""
        try:
            with self.lock:
                if self.batches.get(b.id) is not b:
                    return  # reset, or rejected at create
                s = self.settings
                options = dict(
                    provider=self.provider, endpoint=b.endpoint, seed=b.seed,
                    work_dir=b.work_dir,
                    max_requests=s["max_requests_per_batch"] or self.provider.max_requests,
                    unsupported_models=list(s["unsupported_models"]),
                    error_rate=s["request_error_rate"], error_count=s["request_error_count"],
                    error_codes=list(s["request_error_codes"]), style=s["output_style"],
                    answers={k: s[k] for k in ANSWER_SETTINGS},
                    invalid_lines=list(s["invalid_lines"]),
                    invalid_lines_error=dict(s["invalid_lines_error"]),
                    trailing_rate=s["result_trailing_rate"], overlong=s["overlong_line_bytes"],
                    hostile_id=(hostile_payload(b.key) if "custom_id" in s["hostile_text"]
                                else None))
            try:
                prep = prepare_batch(fd, **options)
            except Exception:
                with self.lock:
                    if self.batches.get(b.id) is not b:
                        return
                traceback.print_exc()
                prep = Prepared()
                prep.errors = [line_error("server_error", "The input file could not be "
                                          "processed.", None, None)]
            with self.lock:
                s = self.settings
                s["request_error_count"] = max(0, s["request_error_count"] - prep.claimed_errors)
                self._attach(b, prep, time.time())
        finally:
            os.close(fd)
            b.processed.set()

    def _attach(self, b, prep, now):
        """Fix the plan of a processed batch."""
        if self.batches.get(b.id) is not b or b.final is not None:
            prep.discard()
            self._drop_work(b)
            return
        errors = list(prep.errors)
        if not errors and self.draw("fail_batch"):
            errors = [dict(self.settings["fail_batch_error"], param=None, line=None)]
        b.model, b.tokens = prep.model, prep.tokens
        b.reported_model = self.provider.report_model(prep.model) if prep.model else None
        b.t_v = max(b.t_v, now)
        if errors:
            b.errors = errors
            prep.discard()
            self._drop_work(b)
        else:
            b.prep, b.total, b.style = prep, prep.total, prep.style
            b.P = b.phases["in_progress"] + prep.total * b.phases["per_request"]
            if self.draw("expire"):
                fraction = self.settings["expire_after_fraction"]
                b.t_exp, b.exp_done = b.t_v + b.P * fraction, int(b.total * fraction)
            elif self.provider.expires_on_time and b.t_fin > b.expires_at:
                b.t_exp = b.expires_at
                b.exp_done = b.done_at(b.expires_at)
            b.token_pending = True
        b.attached = True

    def _get_batch(self, bid):
        b = self.batches.get(bid)
        if b is None:
            raise ApiError(404, f"No batch found with id '{bid}'.", param="batch_id",
                           code="not_found")
        return b

    def batch_json(self, bid):
        now = self._await_processing()
        with self.lock:
            self.advance(now)
            held = self.held_batch()
            if held and bid == held.id:
                return held.to_json(now)
            return self._get_batch(bid).to_json(now)

    def cancel_batch(self, bid):
        now = self._await_processing()
        with self.lock:
            self.advance(now)
            held = self.held_batch()
            if held and bid == held.id:
                if held.to_json(now)["status"] == "completed":
                    raise ApiError(409, "Cannot cancel a batch with status 'completed'.")
                if self.hold_cancelled_at is None:
                    self.hold_cancelled_at = now
                    self.stats["held_batch_cancelled"] = True
                return self.held_batch().to_json(now)
            b = self._get_batch(bid)
            status, _ = b.status_at(now)
            if status in ("completed", "failed", "expired"):
                raise ApiError(409, f"Cannot cancel a batch with status '{status}'.")
            if status not in ("cancelling", "cancelled"):
                b.cancel_at = now
                b.token_pending = b.token_pending and now >= b.t_v
                self.advance(now)
            return b.to_json(now)

    def list_batches(self, limit, after):
        now = self._await_processing()
        with self.lock:
            self.advance(now)
            items = sorted(self.batches.values(), key=lambda b: b.seq, reverse=True)
            held = self.held_batch()
            if held:
                items.append(held)  # the oldest: it was there before the run
            data, has_more = page(items, after, limit, lambda b: True)
            return [b.to_json(now) for b in data], has_more

    # ---- admin

    def state(self):
        now = self._await_processing()
        with self.lock:
            self.advance(now)
            batches = []
            for b in sorted(self.batches.values(), key=lambda b: b.seq):
                j = b.to_json(now)
                batches.append({k: j[k] for k in (
                    "id", "status", "endpoint", "input_file_id", "output_file_id",
                    "error_file_id", "metadata", "request_counts", "completion_window")})
            return {
                "now": now,
                "files": [{"id": f.id, "filename": f.filename, "purpose": f.purpose,
                           "bytes": f.bytes, "deleted": f.deleted,
                           "created_at": int(f.created), "expires_at": f.expires_at,
                           "sha256": f.sha256}
                          for f in sorted(self.files.values(), key=lambda f: f.seq)],
                "batches": batches,
            }

    def reset(self, keep_config):
        with self.lock:
            self.files.clear()
            self.batches.clear()
            for d in (self.files_dir, self.work_dir):
                shutil.rmtree(d, ignore_errors=True)
            self._make_dirs()
            if not keep_config:
                self.settings = copy.deepcopy(self.startup_settings)
            self.hold_since, self.hold_cancelled_at = time.time(), None
            self.stats = {"actions": {}, "batch_reads": {}, "read_times": {}}
            self.answered = {}
            self.rng = random.Random(self.settings["seed"])


def file_not_ready(f, now):
    """Azure refuses a batch on a file it has not processed (the exact text is not
    published; this one names the file, its status and what to do)."""
    status = f.status_at(now)
    if status == "error":
        return ApiError(400, f"The input file {f.id} could not be processed: "
                        f"{f.error_details}", param="input_file_id", code="invalid_file")
    return ApiError(400, f"The input file {f.id} is not ready (status '{status}'). Wait until "
                    "its status is 'processed', then create the batch.",
                    param="input_file_id", code="file_not_processed")


def hostile_batches(obj, places, payload):
    """A copy of a batch (or a list of batches) with the payload in `places`."""
    obj = copy.deepcopy(obj)
    for b in obj["data"] if obj.get("object") == "list" else [obj]:
        if "status" in places:
            b["status"] = b["status"] + payload
        if "model" in places:
            b["model"] = (b.get("model") or "gpt-4o-mini") + payload
        if "errors" in places and b.get("errors"):
            for e in b["errors"]["data"]:
                e["code"] = "\x1b]0;" + str(e.get("code")) + "\x07"
                e["message"] = str(e.get("message")) + " " + payload
    return obj


def hostile_payload(key):
    """Text a hostile server slips into what a client may print or store: a
    terminal title, a screen clear, colours, C0 and C1 controls, the caller's own
    key echoed back, and another secret-looking key."""
    return (f"\x1b]0;owned by the server\x07\x1b[2J\x1b[1;31m\x9b2J\x00\x08\r\x7f "
            f"key={key} leaked=sk-proj-EmulatorLeak0123456789abcdefABCDEF")


def request_limit_message(model, limit):
    return (f"Enqueued request limit reached for {model} in organization {ORG}. Limit: "
            f"{limit:,} enqueued requests.")


def token_limit_message(model, limit):
    return (f"Enqueued token limit reached for {model} in organization {ORG}. Limit: "
            f"{limit:,} enqueued tokens. Please try again once some in_progress batches have "
            "been completed.")


def page(items, after, limit, keep):
    """Cursor pagination: the objects after `after` (which may be hidden or deleted)."""
    start = 0
    if after:
        ids = [x.id for x in items]
        if after not in ids:
            return [], False
        start = ids.index(after) + 1
    selected = []
    for x in items[start:]:
        if keep(x):
            if len(selected) == limit:
                return selected, True
            selected.append(x)
    return selected, False


def list_json(data):
    return {"object": "list", "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None}


# --------------------------------------------------------------------------
# The request log

class RequestLog:
    def __init__(self, path):
        self.file = open(path, "a", encoding="utf-8") if path else None
        self.lock = threading.Lock()

    def write(self, entry):
        if self.file is None:
            return
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        with self.lock:
            self.file.write(line + "\n")
            self.file.flush()

    def close(self):
        if self.file:
            self.file.close()


# --------------------------------------------------------------------------
# HTTP

ROUTES = [
    # (method, pattern over the path after the base, action)
    ("POST", r"/files", "file.upload"),
    ("GET", r"/files", "file.list"),
    ("GET", r"/files/([^/]+)", "file.get"),
    ("DELETE", r"/files/([^/]+)", "file.delete"),
    ("GET", r"/files/([^/]+)/content", "file.content"),
    ("POST", r"/batches", "batch.create"),
    ("GET", r"/batches", "batch.list"),
    ("GET", r"/batches/([^/]+)", "batch.get"),
    ("POST", r"/batches/([^/]+)/cancel", "batch.cancel"),
]
DRAIN_LIMIT = 600 * 1024 * 1024
JSON_BODY_LIMIT = 4 * 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "batchline-emulator/1.0"
    sys_version = ""
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    timeout = 120  # an idle keep-alive connection does not hold a thread forever

    def do_GET(self):
        self.dispatch()

    do_POST = do_DELETE = do_PUT = do_PATCH = do_GET

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):
        if self.server.verbose:
            sys.stderr.write("emulator: %s %s\n" % (self.address_string(), format % args))

    # ---- responses

    def send_json(self, status, obj, headers=None):
        data = (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        self.send_bytes(status, data, "application/json", headers)

    def send_bytes(self, status, data, content_type, headers=None):
        keep = self.body.exhausted or self.body.drain(DRAIN_LIMIT)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", "req_" + secrets.token_hex(16))
        self.send_header("openai-processing-ms", "1")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if not keep:
            self.send_header("Connection", "close")
        self.end_headers()
        self.started = True
        self.entry["status"] = status
        if self.drip:
            try:
                for i in range(len(data)):
                    self.wfile.write(data[i:i + 1])
                    time.sleep(self.drip)
            except OSError:  # the client gave up: what a drip is for
                self.close_connection = True
        else:
            self.wfile.write(data)

    def send_huge(self, status, size, chunked):
        """A JSON body of `size` bytes, streamed a MiB at a time: a 200 object with a
        long string in it, or an error envelope with a long message; with its
        length announced, or chunked so that a client learns it only by reading."""
        if status < 300:
            head, tail = b'{"object": "batch", "padding": "', b'"}\n'
        else:
            head = b'{"error": {"message": "'
            tail = b'", "type": "server_error", "param": null, "code": null}}\n'
        fill = max(0, size - len(head) - len(tail))
        keep = self.body.exhausted or self.body.drain(DRAIN_LIMIT)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(head) + fill + len(tail)))
        if not keep:
            self.send_header("Connection", "close")
        self.end_headers()
        self.started = True
        self.entry.update(status=status, fault="huge_body")

        def write(data):
            if chunked:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            else:
                self.wfile.write(data)
        write(head)
        chunk = b"x" * (1 << 20)
        while fill > 0:
            write(chunk[:min(fill, len(chunk))])
            fill -= min(fill, len(chunk))
        write(tail)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def send_api_error(self, err):
        body = err.body()
        if "error_body" in self.hostile:
            payload = hostile_payload(self.key)
            body["error"]["message"] += " " + payload
            body["error"]["code"] = "\x1b[2J" + str(body["error"]["code"] or "error")
        self.send_json(err.status, body, err.headers)

    def drop(self, fault):
        self.entry.update(dropped=True, status=None, fault=fault)
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raise Dropped()

    # ---- dispatch

    def dispatch(self):
        app = self.server.app
        split = urlsplit(self.path)
        self.started = False
        self.drip, self.hostile, self.key = 0.0, [], ""
        self.entry = {"t": round(time.time(), 6), "method": self.command, "path": split.path,
                      "status": None, "dropped": False, "action": None, "acted": False,
                      "fault": None}
        try:
            self.body = BodyReader(self.rfile, self.headers)
        except ApiError as err:
            self.body = BodyReader(self.rfile, {})
            self.close_connection = True
            self.send_api_error(err)
            app.log.write(self.entry)
            return
        try:
            query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
            if split.path.startswith("/_emulator/"):
                self.admin(app, split.path)
            else:
                self.api(app, split.path, query)
        except ApiError as err:
            if not self.started:
                self.send_api_error(err)
        except Dropped:
            pass
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True
            if not self.started:
                self.entry["dropped"] = True
        except Exception:
            traceback.print_exc()
            if not self.started:
                try:
                    self.send_api_error(ApiError(500, SERVER_ERROR_MESSAGES[500],
                                                 type_="server_error"))
                except OSError:
                    self.close_connection = True
            else:
                self.close_connection = True
        finally:
            app.log.write(self.entry)

    def admin(self, app, path):
        store = app.store
        if path == "/_emulator/config" and self.command == "GET":
            return self.send_json(200, store.get_settings())
        if path == "/_emulator/config" and self.command == "POST":
            try:
                return self.send_json(200, store.update_settings(self.json_body()))
            except SettingError as exc:
                raise ApiError(400, str(exc)) from None
        if path == "/_emulator/state" and self.command == "GET":
            return self.send_json(200, store.state())
        if path == "/_emulator/stats" and self.command == "GET":
            return self.send_json(200, store.get_stats())
        if path == "/_emulator/trap" and self.command == "GET":
            return self.send_json(200, app.trap.state())
        if path == "/_emulator/reset" and self.command == "POST":
            raw = self.body.read_all(JSON_BODY_LIMIT)
            try:
                options = json.loads(raw) if raw.strip() else {}
            except ValueError:
                raise ApiError(400, "The reset body must be empty or a JSON object.") from None
            store.reset(bool(isinstance(options, dict) and options.get("keep_config")))
            app.trap.clear()
            return self.send_json(200, {"reset": True})
        if path == "/_emulator/health" and self.command == "GET":
            return self.send_json(200, {"status": "ok", "provider": app.provider.name,
                                        "pid": os.getpid()})
        raise ApiError(404, f"Invalid URL ({self.command} {path})")

    def api(self, app, path, query):
        rest = app.provider.split_path(path, query)
        route = None
        if rest is not None:
            for method, pattern, action in ROUTES:
                m = re.fullmatch(pattern, rest)
                if m and method == self.command:
                    route = (action, [unquote(g) for g in m.groups()])
                    break
        if route is None:
            raise ApiError(404, f"Invalid URL ({self.command} {path})")
        action, args = route
        self.entry["action"] = action
        app.store.count_request(action, args[0] if args else None)
        canonical = "/v1" + rest
        store = app.store

        def applies(fault):
            """Whether an HTTP fault fires for this request (filters, then count or rate)."""
            s = store.get_settings()
            if s["fault_methods"] and self.command not in s["fault_methods"]:
                return False
            if s["fault_actions"] and action not in s["fault_actions"]:
                return False
            if s["fault_paths"] and not any(path.startswith(p) or canonical.startswith(p)
                                            for p in s["fault_paths"]):
                return False
            if fault == "drop_after_action" and action not in MUTATING_ACTIONS:
                return False
            if fault == "truncate_download" and action != "file.content":
                return False
            return store.draw(fault)

        self.fault_applies = applies
        self.key = app.provider.auth_key(self.headers) or ""
        self.hostile = store.get_settings()["hostile_text"]
        if applies("drop"):
            self.drop("drop")
        self.authenticate(app)
        if applies("http_429"):
            self.entry["fault"] = "http_429"
            s = store.get_settings()
            wait = s["retry_after"]
            raise ApiError(429, "Rate limit reached for requests. Please try again in "
                           f"{wait:g}s.", type_="requests", code="rate_limit_exceeded",
                           headers={"Retry-After": str(math.ceil(wait)),
                                    "retry-after-ms": str(int(wait * 1000)),
                                    "x-ratelimit-limit-requests": "5000",
                                    "x-ratelimit-remaining-requests": "0",
                                    "x-ratelimit-reset-requests": f"{wait:g}s",
                                    "x-ratelimit-limit-tokens": "2000000",
                                    "x-ratelimit-remaining-tokens": "0",
                                    "x-ratelimit-reset-tokens": f"{wait:g}s"})
        if applies("http_5xx"):
            self.entry["fault"] = "http_5xx"
            code = store.pick(store.get_settings()["http_5xx_codes"])
            raise ApiError(code, SERVER_ERROR_MESSAGES.get(code, "Internal server error."),
                           type_="server_error")
        s = store.get_settings()
        if applies("redirect"):
            base = (s["redirect_to"] or app.trap.base()).rstrip("/")
            self.entry["fault"] = "redirect"
            location = base + self.path
            self.send_bytes(s["redirect_status"], json.dumps({"location": location}).encode(),
                            "application/json", {"Location": location})
            return
        if applies("huge_body"):
            self.send_huge(s["huge_body_status"], s["huge_body_bytes"], s["huge_body_chunked"])
            return
        if applies("drip"):
            self.entry["fault"] = "drip"
            self.drip = s["drip_interval"]
        # Status changes due by now happen before the action, so that, e.g.,
        # a file list shows the output files of a batch nobody has polled.
        store.advance(time.time())
        handler = getattr(self, "do_" + action.replace(".", "_"))
        result = handler(app, query, *args)
        if applies("drop_after_action"):
            self.drop("drop_after_action")
        if result is not None:
            status, obj = result
            if self.hostile and action.startswith("batch."):
                obj = hostile_batches(obj, self.hostile, hostile_payload(self.key))
            self.send_json(status, obj)

    def authenticate(self, app):
        key = app.provider.auth_key(self.headers)
        if not key:
            raise ApiError(401, NO_KEY_MESSAGE)
        if not app.store.key_accepted(key):
            raise ApiError(401, f"Incorrect API key provided: {mask_key(key)}. {KEY_HINT}",
                           code="invalid_api_key")

    def json_body(self):
        raw = self.body.read_all(JSON_BODY_LIMIT)
        try:
            value = strict_json_loads(raw.decode("utf-8")) if raw.strip() else None
        except (UnicodeDecodeError, ValueError):
            value = None
        if not isinstance(value, dict):
            raise ApiError(400, "We could not parse the JSON body of your request. (HINT: This "
                           "likely means you aren't using your HTTP library correctly. The "
                           "OpenAI API expects a JSON payload, but what was sent was not valid "
                           "JSON.)")
        return value

    # ---- files

    def do_file_upload(self, app, query):
        ctype = self.headers.get("Content-Type") or ""
        m = re.search(r'boundary=(?:"([^"]+)"|([^;\s]+))', ctype, re.IGNORECASE)
        if not ctype.lower().startswith("multipart/form-data") or not m:
            raise ApiError(400, f"Invalid Content-Type header ({ctype or 'none'}), expected "
                           "multipart/form-data.")
        boundary = (m.group(1) or m.group(2)).encode("latin-1")
        store = app.store
        tmp_fd, tmp_path = tempfile.mkstemp(prefix="upload-", dir=store.work_dir)
        os.close(tmp_fd)
        fields, sinks = {}, []
        try:
            def open_part(name, filename, headers):
                if name == "file" and filename is not None:
                    if sinks:
                        raise MultipartError("more than one 'file' part")
                    is_batch = bytes(fields.get("purpose", b"")).strip() == b"batch"
                    limit = (store.get_settings()["max_batch_file_bytes"] if is_batch
                             else GENERAL_FILE_LIMIT)
                    sink = FileSink(tmp_path, limit)
                    sink.filename = filename
                    sinks.append(sink)
                    return sink.write
                buf = fields.setdefault(name, bytearray())

                def collect(b):
                    buf.extend(b)
                    if len(buf) > 65536:
                        raise MultipartError(f"the form field '{name}' is too long")
                return collect

            try:
                MultipartParser(self.body, boundary).parse(open_part)
            except TooLarge:
                raise ApiError(400, "File is too large.") from None
            except MultipartError as exc:
                raise ApiError(400, f"Invalid multipart/form-data body: {exc}.") from None
            finally:
                for sink in sinks:
                    sink.close()
            self.body.drain(1 << 20)  # the epilogue, if any
            upload = self.check_upload(app, fields, sinks)
            f = store.add_upload(tmp_path, *upload, time.time())
            tmp_path = None
        finally:
            if tmp_path:
                try:
                    os.unlink(tmp_path)
                except OSError:
                    pass
        self.entry.update(acted=True, file_id=f.id, filename=f.filename, purpose=f.purpose,
                          bytes=f.bytes, sha256=f.sha256)
        return 200, f.to_json(time.time())

    def check_upload(self, app, fields, sinks):
        """The upload-time checks; returns (filename, purpose, size, sha256, expires)."""
        text = {}
        for name, value in fields.items():
            try:
                text[name] = bytes(value).decode("utf-8").strip()
            except UnicodeDecodeError:
                raise ApiError(400, f"The form field '{name}' is not UTF-8.") from None
        # Azure's REST samples write expires_after.anchor; its SDKs, like OpenAI's, the brackets.
        for dotted in app.provider.dotted_expiry_fields:
            if dotted in text:
                text["expires_after[%s]" % dotted.split(".", 1)[1]] = text.pop(dotted)
        allowed = {"purpose", "file", "expires_after[anchor]", "expires_after[seconds]"}
        for name in text:
            if name not in allowed:
                raise ApiError(400, f"Unrecognized request argument supplied: {name}")
        if "purpose" not in text:
            raise missing_param("purpose")
        purpose = text["purpose"]
        if purpose not in FILE_PURPOSES:
            raise invalid_value("purpose", purpose, FILE_PURPOSES)
        if "file" in text:
            raise ApiError(400, "The 'file' part must be a file with a filename.", param="file")
        if not sinks:
            raise missing_param("file")
        sink = sinks[0]
        self.entry.update(filename=sink.filename, bytes=sink.size, sha256=sink.sha.hexdigest(),
                          purpose=purpose)
        expires = None
        if "expires_after[anchor]" in text or "expires_after[seconds]" in text:
            if text.get("expires_after[anchor]") != "created_at":
                raise invalid_value("expires_after.anchor", text.get("expires_after[anchor]"),
                                    ["created_at"])
            try:
                expires = int(text.get("expires_after[seconds]", ""))
            except ValueError:
                raise ApiError(400, "Invalid 'expires_after.seconds': expected an integer.",
                               param="expires_after.seconds", code="invalid_type") from None
            low, high = app.provider.expires_range
            if not low <= expires <= high:
                raise ApiError(400, f"Invalid 'expires_after.seconds': must be between {low} "
                               f"and {high}.", param="expires_after.seconds",
                               code="invalid_value")
        if purpose == "batch":
            bad_format = ApiError(400, "Invalid file format for Batch API. Must be .jsonl")
            if not sink.filename.lower().endswith(".jsonl"):
                raise bad_format
            if sink.size > app.store.get_settings()["max_batch_file_bytes"]:
                raise ApiError(400, "File is too large.")
            first = bytes(sink.head).split(b"\n", 1)[0].rstrip(b"\r")
            if first.startswith(b"\xef\xbb\xbf"):
                first = first[3:]  # a BOM passes here and fails line 1 at validation
            if len(sink.head) >= 65536 and b"\n" not in sink.head:
                first = b"{}"  # a first line this long is taken on trust until validation
            try:
                if not first.strip() or not isinstance(strict_json_loads(first.decode("utf-8")),
                                                       dict):
                    raise ValueError
            except (UnicodeDecodeError, ValueError):
                raise bad_format from None
        return sink.filename, purpose, sink.size, sink.sha.hexdigest(), expires

    def do_file_list(self, app, query):
        purpose = query.get("purpose") or None
        limit = parse_limit(query, 10000, 10000)
        order = query.get("order", "desc") or "desc"
        if order not in ("asc", "desc"):
            raise invalid_value("order", order, ["asc", "desc"])
        data, has_more = app.store.list_files(time.time(), purpose, limit, order,
                                              query.get("after"))
        self.entry["acted"] = True
        return 200, dict(list_json([f.to_json(time.time()) for f in data]), has_more=has_more)

    def do_file_get(self, app, query, fid):
        self.entry["file_id"] = fid
        f = app.store.visible_file(fid, time.time())
        self.entry["acted"] = True
        return 200, f.to_json(time.time())

    def do_file_delete(self, app, query, fid):
        self.entry["file_id"] = fid
        f = app.store.delete_file(fid, time.time())
        self.entry["acted"] = True
        return 200, {"id": f.id, "object": "file", "deleted": True}

    def do_file_content(self, app, query, fid):
        self.entry["file_id"] = fid
        store = app.store
        with store.lock:
            f = store.visible_file(fid, time.time())
            handle = open(f.path, "rb")  # opened under the lock: a delete cannot race it
        with handle:
            size = os.fstat(handle.fileno()).st_size
            truncate = size > 0 and self.fault_applies("truncate_download")
            self.body.drain(DRAIN_LIMIT)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size))
            safe_name = re.sub(r'[^A-Za-z0-9._-]', "_", f.filename)
            self.send_header("Content-Disposition", f'attachment; filename="{safe_name}"')
            self.send_header("x-request-id", "req_" + secrets.token_hex(16))
            self.end_headers()
            self.started = True
            self.entry.update(status=200, acted=True)
            to_send = size // 2 if truncate else size
            if to_send:
                self.connection.sendfile(handle, 0, to_send)
            if truncate:
                self.entry.update(fault="truncate_download", truncated=True)
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        return None

    # ---- batches

    def do_batch_create(self, app, query):
        body = self.json_body()
        if isinstance(body.get("metadata"), dict):
            self.entry["metadata"] = body["metadata"]
        if isinstance(body.get("input_file_id"), str):
            self.entry["input_file_id"] = body["input_file_id"]
        req = check_create_request(body, app.provider)
        obj = app.store.create_batch(req, self.entry, self.key)
        return 200, obj

    def do_batch_list(self, app, query):
        limit = parse_limit(query, 20, 100)
        data, has_more = app.store.list_batches(limit, query.get("after"))
        self.entry["acted"] = True
        return 200, dict(list_json(data), has_more=has_more)

    def do_batch_get(self, app, query, bid):
        self.entry["batch_id"] = bid
        obj = app.store.batch_json(bid)
        self.entry["acted"] = True
        return 200, obj

    def do_batch_cancel(self, app, query, bid):
        self.entry["batch_id"] = bid
        self.body.drain(DRAIN_LIMIT)
        obj = app.store.cancel_batch(bid)
        self.entry["acted"] = True
        return 200, obj


def parse_limit(query, default, maximum):
    raw = query.get("limit")
    if raw is None or raw == "":
        return default
    try:
        limit = int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid 'limit': expected an integer, but got '{raw}'.",
                       param="limit", code="invalid_type") from None
    if not 1 <= limit <= maximum:
        raise ApiError(400, f"Invalid 'limit': must be between 1 and {maximum}, but got {limit}.",
                       param="limit", code="invalid_value")
    return limit


def check_create_request(body, provider):
    """The synchronous checks of POST /v1/batches, in the real server's order."""
    for key in body:
        if key not in CREATE_BATCH_FIELDS:
            raise ApiError(400, f"Unrecognized request argument supplied: {key}")
    for key in ("input_file_id", "endpoint", "completion_window"):
        if body.get(key) is None:
            raise missing_param(key)
        if not isinstance(body[key], str):
            raise invalid_type(key, "a string", body[key])
    if body["endpoint"] not in provider.endpoints:
        raise invalid_value("endpoint", body["endpoint"], provider.endpoints)
    if provider.window_seconds(body["completion_window"]) is None:
        if provider.name == "groq":
            raise ApiError(400, f"Invalid value: '{body['completion_window']}'. The completion "
                           "window must be between '24h' and '7d'.", param="completion_window",
                           code="invalid_value")
        raise invalid_value("completion_window", body["completion_window"],
                            provider.window_values)
    metadata = body.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise invalid_type("metadata", "an object", metadata)
        if len(metadata) > 16:
            raise ApiError(400, "Invalid 'metadata': too many properties. Expected an object "
                           f"with at most 16 properties, but got an object with {len(metadata)} "
                           "properties instead.", param="metadata", code="invalid_value")
        for k, v in metadata.items():
            if len(k) > 64:
                raise ApiError(400, "Invalid 'metadata': string too long. Expected a key with "
                               f"maximum length 64, but got a key with length {len(k)} instead.",
                               param="metadata", code="invalid_value")
            if not isinstance(v, str):
                raise invalid_type(f"metadata.{k}", "a string", v)
            if len(v) > 512:
                raise ApiError(400, f"Invalid 'metadata.{k}': string too long. Expected a string "
                               f"with maximum length 512, but got a string with length {len(v)} "
                               "instead.", param=f"metadata.{k}", code="invalid_value")
    oea = body.get("output_expires_after")
    if oea is not None:
        if not isinstance(oea, dict):
            raise invalid_type("output_expires_after", "an object", oea)
        for key in oea:
            if key not in ("anchor", "seconds"):
                raise ApiError(400, f"Unrecognized request argument supplied: "
                               f"output_expires_after.{key}")
        if oea.get("anchor") != "created_at":
            raise invalid_value("output_expires_after.anchor", oea.get("anchor"), ["created_at"])
        seconds = oea.get("seconds")
        low, high = provider.expires_range
        if not _is_int(seconds) or not low <= seconds <= high:
            raise ApiError(400, "Invalid 'output_expires_after.seconds': expected an integer "
                           f"between {low} and {high}.", param="output_expires_after.seconds",
                           code="invalid_value")
    return body


# --------------------------------------------------------------------------
# Server and command line

class App:
    def __init__(self, provider, store, log):
        self.provider, self.store, self.log = provider, store, log
        self.trap = Trap()


class Trap:
    """A second listener on 127.0.0.1, started on the first redirect, that
    records what arrives (method, path, every header) so that a test can see
    whether a client followed a redirect, and with which credentials."""

    MAX_KEPT = 1000

    def __init__(self):
        self.server = None
        self.requests = []
        self.lock = threading.Lock()

    def base(self):
        with self.lock:
            if self.server is None:
                trap = self

                class TrapHandler(BaseHTTPRequestHandler):
                    protocol_version = "HTTP/1.1"
                    timeout = 30

                    def do_GET(self):
                        trap.record(self)

                    do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = do_GET

                    def log_message(self, format, *args):
                        pass

                self.server = ThreadingHTTPServer(("127.0.0.1", 0), TrapHandler)
                self.server.daemon_threads = True
                threading.Thread(target=self.server.serve_forever, name="trap",
                                 daemon=True).start()
            return f"http://127.0.0.1:{self.server.server_address[1]}"

    def record(self, handler):
        try:
            BodyReader(handler.rfile, handler.headers).drain(1 << 20)
        except ApiError:
            pass
        entry = {"t": time.time(), "method": handler.command, "path": handler.path,
                 "headers": [[k, v] for k, v in handler.headers.items()]}
        with self.lock:
            if len(self.requests) < self.MAX_KEPT:
                self.requests.append(entry)
        data = b'{"error": {"message": "Not found.", "type": "invalid_request_error", ' \
               b'"param": null, "code": null}}\n'
        handler.send_response(404)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.close_connection = True
        if handler.command != "HEAD":
            handler.wfile.write(data)

    def state(self):
        with self.lock:
            port = self.server.server_address[1] if self.server else None
            return {"base": f"http://127.0.0.1:{port}" if port else None,
                    "requests": list(self.requests)}

    def clear(self):
        with self.lock:
            self.requests = []

    def close(self):
        with self.lock:
            if self.server is not None:
                self.server.shutdown()
                self.server.server_close()


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, app, verbose, family):
        self.address_family = family
        self.app = app
        self.verbose = verbose
        super().__init__(address, Handler)


def build_parser():
    p = argparse.ArgumentParser(
        prog="emulator.py", description="Emulator of the OpenAI Files and Batches API "
        "(loopback only). See the module docstring for the admin endpoints and the log format.")
    p.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    p.add_argument("--port", type=int, default=0, help="port (0: pick a free one)")
    p.add_argument("--port-file", help="write the port here (atomically) once listening")
    p.add_argument("--log", help="request log, JSONL")
    p.add_argument("--data-dir", help="where file bodies live (default: temp dir, removed)")
    p.add_argument("--provider", choices=sorted(PROVIDERS), default="openai")
    p.add_argument("--refuse-key", action="append", default=[], metavar="KEY",
                   help="refuse this key with invalid_api_key (repeatable)")
    p.add_argument("--verbose", action="store_true", help="one line per request on stderr")
    for name, (kind, default, help_text) in SETTINGS.items():
        flag = "--" + name.replace("_", "-")
        if name == "refuse_keys":
            continue
        if kind == "bool":
            p.add_argument(flag, dest=name, action="store_true", default=None, help=help_text)
        else:
            p.add_argument(flag, dest=name, default=None, metavar=METAVARS[kind],
                           help=f"{help_text} (default: {json.dumps(default)})")
    return p


def settings_from_args(args):
    settings = {name: spec[1] for name, spec in SETTINGS.items()}
    settings = json.loads(json.dumps(settings))  # fresh copies of list defaults
    for name in SETTINGS:
        value = getattr(args, name, None)
        if value is None:
            continue
        if not isinstance(value, bool):
            value = parse_cli_value(name, value)
        settings[name] = coerce_setting(name, value)
    settings["refuse_keys"] = list(args.refuse_key)
    return settings


def write_port_file(path, port):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".port-", dir=directory)
    with os.fdopen(fd, "w") as f:
        f.write(f"{port}\n")
    os.replace(tmp, path)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
    except SettingError as exc:
        parser.error(str(exc))
    host = "127.0.0.1" if args.host == "localhost" else args.host
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        parser.error(f"--host must be a loopback address, not {args.host!r}")
    if not address.is_loopback:
        parser.error(f"--host must be a loopback address, not {args.host!r}")
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET

    own_data_dir = args.data_dir is None
    data_dir = tempfile.mkdtemp(prefix="batchline-emulator-") if own_data_dir else args.data_dir
    os.makedirs(data_dir, exist_ok=True)
    provider = PROVIDERS[args.provider]()
    store = Store(provider, data_dir, settings)
    log = RequestLog(args.log)
    try:
        server = EmulatorServer((host, args.port), App(provider, store, log), args.verbose,
                                family)
    except OSError as exc:
        sys.stderr.write(f"emulator: cannot listen on {host}:{args.port}: {exc.strerror}\n")
        if own_data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
        return 1
    port = server.server_address[1]

    def stop(signum, frame):
        # shutdown() waits for serve_forever, so it cannot run on this (the serving) thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.port_file:
        write_port_file(args.port_file, port)
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    sys.stderr.write(f"emulator: {provider.name} API on http://{shown}:{port} "
                     f"(pid {os.getpid()})\n")
    sys.stderr.flush()
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
        server.app.trap.close()
        log.close()
        if own_data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
        if args.port_file:
            try:
                with open(args.port_file) as f:
                    if f.read().strip() == str(port):
                        os.unlink(args.port_file)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
