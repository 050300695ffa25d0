"""Background work inside `packbench-service serve`: the job worker, reconciliation and
tracking polls, each on its own interval, in one thread that stops cleanly with the server.

Intervals are in seconds (0 turns a task off); every task is also a command (`jobs run-due`,
`reconcile`, `tracking poll`) for cron or the systemd timers in packaging/service/.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from service.db import utcnow
from service.errors import ValidationFailed
from service.jobs.worker import Clock, run_due
from service.reconcile import reconcile
from service.shipping.tracking import poll_tracking

log = logging.getLogger(__name__)

ACTOR = "scheduler"
FIRST_RUN_SECONDS = 1.0  # let the server bind its port before the first pass


@dataclass(frozen=True)
class Schedule:
    """How often each task runs, in seconds; 0 means never."""

    jobs_seconds: float = 15.0
    reconcile_seconds: float = 900.0
    tracking_seconds: float = 1800.0

    @classmethod
    def from_env(cls) -> Schedule:
        """Defaults overridden by PACKBENCH_JOBS_EVERY, _RECONCILE_EVERY, _TRACKING_EVERY."""
        d = cls()
        schedule = cls(
            _seconds("PACKBENCH_JOBS_EVERY", d.jobs_seconds),
            _seconds("PACKBENCH_RECONCILE_EVERY", d.reconcile_seconds),
            _seconds("PACKBENCH_TRACKING_EVERY", d.tracking_seconds),
        )
        schedule.check()
        return schedule

    def check(self) -> None:
        """Refuse negative intervals."""
        for name in ("jobs_seconds", "reconcile_seconds", "tracking_seconds"):
            if getattr(self, name) < 0:
                raise ValidationFailed(f"The {name.removesuffix('_seconds')} interval is < 0.")


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValidationFailed(f"{name} must be a number of seconds, not {raw!r}.") from None


class Scheduler:
    """One daemon thread running the scheduled tasks until `stop()`."""

    def __init__(
        self, sessions: sessionmaker[Session], schedule: Schedule, *, clock: Clock = utcnow
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.tasks: list[tuple[str, float, Callable[[], object]]] = [
            (name, every, task)
            for name, every, task in (
                ("jobs", schedule.jobs_seconds, self.run_jobs),
                ("reconcile", schedule.reconcile_seconds, self.run_reconcile),
                ("tracking", schedule.tracking_seconds, self.run_tracking),
            )
            if every > 0
        ]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="packbench-scheduler", daemon=True)

    def run_jobs(self) -> object:
        """One pass of the job worker."""
        return run_due(self.sessions, clock=self.clock, limit=50)

    def run_reconcile(self) -> object:
        """Open exceptions for stuck orders (default thresholds)."""
        with self.sessions() as session, session.begin():
            return reconcile(session, now=self.clock())

    def run_tracking(self) -> object:
        """Ask carriers with a tracking feed."""
        return poll_tracking(self.sessions, actor=ACTOR)

    def start(self) -> None:
        """Start the thread (no-op when every task is off)."""
        if self.tasks:
            log.info(
                "scheduler: %s",
                ", ".join(f"{name} every {every:g} s" for name, every, _t in self.tasks),
            )
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to stop and wait for the task it is running to finish."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("scheduler: a task is still running after %g s; leaving it", timeout)

    def _loop(self) -> None:
        due = {name: time.monotonic() + FIRST_RUN_SECONDS for name, _e, _t in self.tasks}
        while not self._stop.is_set():
            for name, every, task in self.tasks:
                if self._stop.is_set() or time.monotonic() < due[name]:
                    continue
                try:
                    task()
                except Exception:  # a bad pass must not end the schedule; the next one retries
                    log.exception("scheduler: %s failed", name)
                due[name] = time.monotonic() + every
            self._stop.wait(max(0.05, min(due.values()) - time.monotonic()))
