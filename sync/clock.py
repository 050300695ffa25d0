"""The one clock that the station and the service read "now" from.

Code asks `utcnow()` (or takes a `Callable[[], datetime]` that defaults to it) instead of
calling `datetime.now()` itself, so a test sets the time with `frozen(at)` and nothing passes
today and fails next month. Production runs on the system clock, untouched. This module lives
in `sync` because it is the one package both sides may import (`service` reads `sync.protocol`
and this module only).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta


class Clock:
    """The system's UTC clock; subclasses stand in for it in tests."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return datetime.now(UTC)


class FrozenClock(Clock):
    """A clock that stands still at `at` until told to move (`set`, `advance`)."""

    def __init__(self, at: datetime) -> None:
        self._lock = threading.Lock()
        self._at = _aware(at)

    def now(self) -> datetime:
        with self._lock:
            return self._at

    def set(self, at: datetime) -> None:
        """Jump to `at`."""
        with self._lock:
            self._at = _aware(at)

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta`; returns the new now."""
        with self._lock:
            self._at += delta
            return self._at


SYSTEM = Clock()
_current: Clock = SYSTEM


def utcnow() -> datetime:
    """Now, timezone-aware UTC, from the installed clock."""
    return _current.now()


def install(clock: Clock) -> Clock:
    """Make `clock` the process's clock; returns the one it replaces."""
    global _current
    previous, _current = _current, clock
    return previous


@contextmanager
def frozen(at: datetime) -> Iterator[FrozenClock]:
    """Freeze the process's clock at `at` for the block (tests)."""
    clock = FrozenClock(at)
    previous = install(clock)
    try:
        yield clock
    finally:
        install(previous)


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("a clock is set with a timezone-aware time")
    return at.astimezone(UTC)
