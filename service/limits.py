"""Bounds on the work one request may cause: named settings, read from the environment.

Each setting is an environment variable with a default; a value that is not a positive
whole number is ignored with a warning (the default holds), so a typo never lifts a limit.
See docs/security.md, "Input limits".
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

MAX_ORDER_LINES_ENV = "PACKBENCH_MAX_ORDER_LINES"
DEFAULT_MAX_ORDER_LINES = 500

STATEMENT_TIMEOUT_ENV = "PACKBENCH_STATEMENT_TIMEOUT_MS"
DEFAULT_STATEMENT_TIMEOUT_MS = 30_000

HEADER_TIMEOUT_ENV = "PACKBENCH_HEADER_TIMEOUT_S"
DEFAULT_HEADER_TIMEOUT_S = 10

# Webhook deliveries one serving process works on at once (service/api/webhooks.py).
WEBHOOK_THREADS_ENV = "PACKBENCH_WEBHOOK_THREADS"
DEFAULT_WEBHOOK_THREADS = 8

# Station pushes and pulls one serving process works on at once, and as many snapshots
# (service/api/sync.py).
SYNC_THREADS_ENV = "PACKBENCH_SYNC_THREADS"
DEFAULT_SYNC_THREADS = 4

# Deeper JSON than this is refused before it is parsed into objects (no order is that deep;
# Python's own parser and serialiser fail with RecursionError near 1,000 levels).
MAX_JSON_DEPTH = 32

# What the service's integer columns hold (PostgreSQL INTEGER / BIGINT); SQLite's INTEGER is
# 64-bit. Integers from outside beyond these are refused, never passed to the database.
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


def _positive_int(env: str, default: int) -> int:
    raw = os.environ.get(env, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) <= 0:
        log.warning("ignoring %s=%r: not a positive whole number", env, raw)
        return default
    return int(raw)


def max_order_lines() -> int:
    """Most lines one order may have (PACKBENCH_MAX_ORDER_LINES, default 500)."""
    return _positive_int(MAX_ORDER_LINES_ENV, DEFAULT_MAX_ORDER_LINES)


def statement_timeout_ms() -> int:
    """Longest one SQL statement may run on PostgreSQL (PACKBENCH_STATEMENT_TIMEOUT_MS)."""
    return _positive_int(STATEMENT_TIMEOUT_ENV, DEFAULT_STATEMENT_TIMEOUT_MS)


def header_timeout_s() -> int:
    """Seconds a client has to send a request's headers (PACKBENCH_HEADER_TIMEOUT_S)."""
    return _positive_int(HEADER_TIMEOUT_ENV, DEFAULT_HEADER_TIMEOUT_S)


def webhook_threads() -> int:
    """Webhook deliveries one process works on at once (PACKBENCH_WEBHOOK_THREADS, default 8)."""
    return _positive_int(WEBHOOK_THREADS_ENV, DEFAULT_WEBHOOK_THREADS)


def sync_threads() -> int:
    """Station pushes and pulls one process works on at once, and as many snapshots
    (PACKBENCH_SYNC_THREADS, default 4)."""
    return _positive_int(SYNC_THREADS_ENV, DEFAULT_SYNC_THREADS)
