"""The job table's states: enqueue, claim, finish (done / retry later / dead), retry, dismiss.

pending -> running (claimed, attempts + 1, a lease) -> done | pending (next_at later) | dead.
A worker that dies mid-call leaves its job `running`; once the lease runs out another worker
claims it again, so nothing is lost. Handlers must be idempotent (see service/jobs/kinds.py).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from service.errors import Conflict, NotFound, ValidationFailed
from service.models import OutboundJob

STATUSES = ("pending", "running", "done", "dead", "dismissed")
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a job is tried (env: PACKBENCH_JOBS_*)."""

    base_seconds: float = 30.0
    max_delay_seconds: float = 3600.0
    max_attempts: int = 10
    max_age_hours: float = 72.0
    lease_seconds: float = 300.0

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """Defaults overridden by PACKBENCH_JOBS_BACKOFF_SECONDS, _MAX_DELAY_SECONDS,
        _MAX_ATTEMPTS, _MAX_AGE_HOURS and _LEASE_SECONDS."""
        d = cls()
        policy = cls(
            base_seconds=_env_float("PACKBENCH_JOBS_BACKOFF_SECONDS", d.base_seconds),
            max_delay_seconds=_env_float("PACKBENCH_JOBS_MAX_DELAY_SECONDS", d.max_delay_seconds),
            max_attempts=int(_env_float("PACKBENCH_JOBS_MAX_ATTEMPTS", d.max_attempts)),
            max_age_hours=_env_float("PACKBENCH_JOBS_MAX_AGE_HOURS", d.max_age_hours),
            lease_seconds=_env_float("PACKBENCH_JOBS_LEASE_SECONDS", d.lease_seconds),
        )
        if policy.base_seconds <= 0 or policy.max_attempts < 1 or policy.lease_seconds <= 0:
            raise ValidationFailed(
                "PACKBENCH_JOBS_BACKOFF_SECONDS and _LEASE_SECONDS must be > 0 and "
                "PACKBENCH_JOBS_MAX_ATTEMPTS at least 1."
            )
        return policy

    def delay(self, attempts: int, rng: random.Random) -> timedelta:
        """Backoff after the `attempts`-th failure: exponential, capped, with jitter (50-100%)."""
        ceiling = min(self.max_delay_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        return timedelta(seconds=ceiling * (0.5 + rng.random() / 2))


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValidationFailed(f"{name} must be a number, not {raw!r}.", field=name) from None


@dataclass(frozen=True)
class ClaimedJob:
    """A job a worker holds right now (a plain snapshot; the row may change meanwhile)."""

    id: int
    kind: str
    order_id: int | None
    target: str
    payload: dict[str, Any]
    attempts: int


def enqueue(
    session: Session,
    kind: str,
    *,
    now: datetime,
    dedupe_key: str | None = None,
    order_id: int | None = None,
    target: str = "",
    payload: dict[str, Any] | None = None,
) -> OutboundJob:
    """Add a job in the caller's transaction; the same `dedupe_key` again returns the first."""
    if dedupe_key is not None:
        existing = session.scalar(select(OutboundJob).where(OutboundJob.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    job = OutboundJob(
        kind=kind,
        dedupe_key=dedupe_key,
        order_id=order_id,
        target=target,
        payload=dict(payload or {}),
        status="pending",
        attempts=0,
        next_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    session.flush()
    return job


def claim(
    session: Session,
    *,
    now: datetime,
    worker: str,
    policy: RetryPolicy,
    limit: int = 20,
    only_ids: list[int] | None = None,
) -> list[ClaimedJob]:
    """Take up to `limit` due jobs for `worker` (in the caller's transaction; commit it at once).

    Rows another process holds are skipped, never waited for (SKIP LOCKED; SQLite has one
    writer at a time anyway). A `running` job whose lease ran out is due again.
    """
    due = or_(
        and_(OutboundJob.status == "pending", OutboundJob.next_at <= now),
        and_(OutboundJob.status == "running", OutboundJob.claimed_until < now),
    )
    q = select(OutboundJob).where(due)
    if only_ids is not None:
        q = q.where(OutboundJob.id.in_(only_ids))
    rows = session.scalars(
        q.order_by(OutboundJob.next_at, OutboundJob.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claimed: list[ClaimedJob] = []
    for job in rows:
        if job.status == "running" and job.attempts >= policy.max_attempts:
            _park(job, now, "the worker stopped during the last attempt")
            continue
        job.status = "running"
        job.attempts += 1
        job.claimed_by = worker[:64]
        job.claimed_until = now + timedelta(seconds=policy.lease_seconds)
        job.updated_at = now
        claimed.append(
            ClaimedJob(job.id, job.kind, job.order_id, job.target, dict(job.payload), job.attempts)
        )
    return claimed


def _park(job: OutboundJob, now: datetime, error: str) -> None:
    job.status = "dead"
    job.last_error = error[:MAX_ERROR_CHARS]
    job.claimed_by = None
    job.claimed_until = None
    job.finished_at = now
    job.updated_at = now


def held(session: Session, job_id: int, worker: str) -> OutboundJob | None:
    """The job row, locked, if `worker` still holds it (not dismissed or re-claimed since)."""
    job = session.get(OutboundJob, job_id, with_for_update=True)
    if job is None or job.status != "running" or job.claimed_by != worker[:64]:
        return None
    return job


def mark_done(job: OutboundJob, now: datetime) -> None:
    """The call succeeded."""
    job.status = "done"
    job.last_error = None
    job.claimed_by = None
    job.claimed_until = None
    job.finished_at = now
    job.updated_at = now


def mark_failed(
    job: OutboundJob,
    now: datetime,
    error: str,
    *,
    transient: bool,
    policy: RetryPolicy,
    rng: random.Random,
) -> bool:
    """Schedule the next try, or park the job as dead; True if it is dead now."""
    too_old = now - job.created_at >= timedelta(hours=policy.max_age_hours)
    if not transient or job.attempts >= policy.max_attempts or too_old:
        _park(job, now, error)
        return True
    job.status = "pending"
    job.last_error = error[:MAX_ERROR_CHARS]
    job.next_at = now + policy.delay(job.attempts, rng)
    job.claimed_by = None
    job.claimed_until = None
    job.updated_at = now
    return False


def _get(session: Session, job_id: int) -> OutboundJob:
    job = session.get(OutboundJob, job_id, with_for_update=True)
    if job is None:
        raise NotFound(f"No job {job_id}.")
    return job


def retry(session: Session, job_id: int, *, now: datetime) -> OutboundJob:
    """Put a dead (or dismissed) job back in the queue, due now, with fresh attempts."""
    job = _get(session, job_id)
    if job.status not in ("dead", "dismissed"):
        raise Conflict(f"Job {job_id} is {job.status}; only a dead or dismissed job is retried.")
    job.status = "pending"
    job.attempts = 0
    job.created_at = now  # the age limit counts from the operator's retry
    job.next_at = now
    job.finished_at = None
    job.dismissed_by = None
    job.dismissed_reason = None
    job.updated_at = now
    return job


def dismiss(session: Session, job_id: int, *, now: datetime, by: str, reason: str) -> OutboundJob:
    """Give up on a dead or pending job for good, saying why (a person dealt with it)."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed("Say why the job is dismissed (--reason).", field="reason")
    job = _get(session, job_id)
    if job.status not in ("dead", "pending"):
        raise Conflict(f"Job {job_id} is {job.status}; only a dead or pending job is dismissed.")
    job.status = "dismissed"
    job.dismissed_by = by[:100]
    job.dismissed_reason = reason[:1000]
    job.finished_at = now
    job.updated_at = now
    return job


def list_jobs(
    session: Session, *, status: str | None = None, limit: int = 100
) -> list[OutboundJob]:
    """Jobs, newest first; `status` narrows to one state."""
    q = select(OutboundJob)
    if status is not None:
        if status not in STATUSES:
            raise ValidationFailed(
                f"Unknown job status {status!r}; use one of {', '.join(STATUSES)}.",
                field="status",
            )
        q = q.where(OutboundJob.status == status)
    return list(session.scalars(q.order_by(OutboundJob.id.desc()).limit(limit)))
