"""What the sync engine reports to the station UI, and its retry timer."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Rejection:
    """A mutation the service refused; the packer sees `message`."""

    mutation_id: int
    order_id: int | None
    reason: str | None
    message: str | None


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """A snapshot of the engine's state, handed to the status callback on every change."""

    online: bool = False
    offline_since: datetime | None = None
    queue_depth: int = 0
    last_successful_sync: datetime | None = None
    last_rejection: Rejection | None = None
    last_error: str | None = None  # the last failure, for the supervisor screen and the log


class Backoff:
    """Exponential backoff with jitter: delays grow from `base` to `cap` seconds.

    "Equal jitter": half the delay is fixed, half random, so many stations that lost the
    network together do not all come back in the same second.
    """

    def __init__(self, base: float = 0.5, cap: float = 30.0, rng: random.Random | None = None):
        self.base = base
        self.cap = cap
        self.failures = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        """The wait before the next attempt; each call counts one more failure."""
        ceiling = min(self.cap, self.base * float(1 << self.failures))
        self.failures = min(self.failures + 1, 32)
        jitter: float = self._rng.uniform(0, ceiling / 2)
        return ceiling / 2 + jitter

    def reset(self) -> None:
        """After a success the next failure starts small again."""
        self.failures = 0
