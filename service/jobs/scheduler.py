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
from service.jobs.kinds import enqueue_tracking_poll
from service.jobs.worker import Clock, run_due
from service.reconcile import reconcile

log = logging.getLogger(__name__)

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


def run_jobs(sessions: sessionmaker[Session], clock: Clock) -> str:
    """One pass of the job worker."""
    report = run_due(sessions, clock=clock, limit=50)
    return (
        f"{len(report.done)} job(s) done, {len(report.retrying)} to retry, {len(report.dead)} dead"
    )


def run_reconcile(sessions: sessionmaker[Session], clock: Clock) -> str:
    """Open exceptions for stuck orders (default thresholds)."""
    with sessions() as session, session.begin():
        report = reconcile(session, now=clock())
    return f"{len(report.opened)} stuck-order exception(s) opened"


def run_tracking(sessions: sessionmaker[Session], clock: Clock) -> str:
    """Queue a tracking poll (a durable job, retried while a carrier is away) and run it."""
    with sessions() as session, session.begin():
        job_id = enqueue_tracking_poll(session, now=clock())
    report = run_due(sessions, clock=clock, only_ids=[job_id], limit=1)
    if report.done:
        return f"tracking poll job {job_id} done"
    return f"tracking poll job {job_id} not done yet (see `packbench-service jobs list`)"


TASKS: dict[str, Callable[[sessionmaker[Session], Clock], str]] = {
    "jobs": run_jobs,
    "reconcile": run_reconcile,
    "tracking": run_tracking,
}


class Scheduler:
    """One daemon thread running the scheduled tasks until `stop()`."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        schedule: Schedule,
        *,
        clock: Clock = utcnow,
        first_run_seconds: float = FIRST_RUN_SECONDS,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.first_run_seconds = first_run_seconds
        every = {
            "jobs": schedule.jobs_seconds,
            "reconcile": schedule.reconcile_seconds,
            "tracking": schedule.tracking_seconds,
        }
        self.tasks = [(name, every[name], TASKS[name]) for name in TASKS if every[name] > 0]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="packbench-scheduler", daemon=True)

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
            else:
                log.info("scheduler stopped")

    def _loop(self) -> None:
        due = {name: time.monotonic() + self.first_run_seconds for name, _e, _t in self.tasks}
        while not self._stop.is_set():
            for name, every, task in self.tasks:
                if self._stop.is_set() or time.monotonic() < due[name]:
                    continue
                try:
                    log.debug("scheduler: %s: %s", name, task(self.sessions, self.clock))
                except Exception:  # a bad pass must not end the schedule; the next one retries
                    log.exception("scheduler: %s failed", name)
                due[name] = time.monotonic() + every
            self._stop.wait(max(0.05, min(due.values()) - time.monotonic()))
