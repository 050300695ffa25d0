"""One pass over the due jobs: claim, call, record (each step its own short transaction)."""

from __future__ import annotations

import logging
import os
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from service.db import utcnow
from service.jobs.kinds import KINDS, JobFailed
from service.jobs.queue import ClaimedJob, RetryPolicy, claim, held, mark_done, mark_failed

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def worker_name() -> str:
    """This process, as recorded in `claimed_by`."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class RunReport:
    """What one pass did, by job id."""

    done: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    dead: list[int] = field(default_factory=list)


def run_due(
    sessions: sessionmaker[Session],
    *,
    clock: Clock = utcnow,
    policy: RetryPolicy | None = None,
    rng: random.Random | None = None,
    worker: str | None = None,
    limit: int = 20,
    only_ids: list[int] | None = None,
) -> RunReport:
    """Run every due job once (up to `limit`); safe to run in several processes at once."""
    policy = policy or RetryPolicy.from_env()
    rng = rng or random.Random()
    worker = worker or worker_name()
    report = RunReport()
    with sessions() as session, session.begin():
        jobs = claim(
            session, now=clock(), worker=worker, policy=policy, limit=limit, only_ids=only_ids
        )
    for job in jobs:
        _run_one(sessions, job, clock=clock, policy=policy, rng=rng, worker=worker, report=report)
    return report


def _run_one(
    sessions: sessionmaker[Session],
    job: ClaimedJob,
    *,
    clock: Clock,
    policy: RetryPolicy,
    rng: random.Random,
    worker: str,
    report: RunReport,
) -> None:
    kind = KINDS.get(job.kind)
    error: JobFailed | None = None
    try:
        if kind is None:
            raise JobFailed(f"unknown job kind {job.kind!r}", transient=False)
        kind.run(sessions, job)
    except JobFailed as exc:
        error = exc
    except Exception as exc:  # a bug or a database error: keep the job, log it, retry later
        log.exception("job %s (%s) failed unexpectedly", job.id, job.kind)
        error = JobFailed(type(exc).__name__, transient=True)
    with sessions() as session, session.begin():
        row = held(session, job.id, worker)
        if row is None:
            log.warning("job %s was dismissed or taken over while it ran", job.id)
            return
        now = clock()
        if error is None:
            mark_done(row, now)
            report.done.append(job.id)
            log.info("job %s (%s) done after %d attempt(s)", job.id, job.kind, job.attempts)
            return
        dead = mark_failed(
            row, now, error.summary, transient=error.transient, policy=policy, rng=rng
        )
        if dead:
            report.dead.append(job.id)
            log.warning(
                "job %s (%s) dead after %d attempt(s): %s",
                job.id,
                job.kind,
                job.attempts,
                error.summary,
            )
            if kind is not None:
                try:
                    with session.begin_nested():
                        kind.on_dead(session, job, str(error))
                except Exception:  # the job is dead either way; its note for a person is not
                    log.exception("job %s (%s): recording its failure failed", job.id, job.kind)
        else:
            report.retrying.append(job.id)
            log.info(
                "job %s (%s) attempt %d failed, next at %s: %s",
                job.id,
                job.kind,
                job.attempts,
                row.next_at.isoformat(),
                error.summary,
            )
