"""The webhook inbox: deliveries stored first and applied later, when the service is busy.

A shop waits a few seconds for its webhook's answer (Shopify: 5 s) and retries, then gives
up on the subscription, if it does not come. During a flash sale the service cannot create
thousands of orders a minute while stations push scans on the same cores, so each serving
process applies at most `PACKBENCH_WEBHOOK_INLINE` deliveries (default 2) while their shops
wait. Another order delivery that comes meanwhile is checked all the same (signature, topic,
a body that parses into an order: a bad one is refused with 4xx as before), then stored
with its raw body as a receipt with outcome "queued" (one INSERT, which also deduplicates)
and answered 202. So is a delivery whose order has an earlier delivery still queued: one
order's deliveries are applied in the order they came.

Each serving process runs one `Inbox` thread that applies queued deliveries, oldest first,
up to 32 in one transaction, each with its receipt's outcome: a killed process leaves them
queued, and the next pass (of any process on the database: `FOR UPDATE SKIP LOCKED`)
applies each once.
A delivery that cannot be applied (its body no longer parses under the channel's settings,
a bug) is kept with outcome "failed", its body and the reason; `packbench-service channel
inbox` lists and re-queues those. Processes without the thread (tests, the demo's embedded
service) apply every delivery while the shop waits, as before.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from service.ingest.lookup import look_up
from service.ingest.tables import FAILED, QUEUED, RECEIPTS, is_failed, is_queued

log = logging.getLogger(__name__)

INLINE_ENV = "PACKBENCH_WEBHOOK_INLINE"
DEFAULT_INLINE = 2
POLL_SECONDS = 2.0  # how often a process looks for deliveries queued by another one
MAX_ERROR_CHARS = 300


def inline_limit() -> int:
    """Deliveries one process applies while their shops wait (PACKBENCH_WEBHOOK_INLINE,
    default 2; 0 queues every order delivery)."""
    raw = os.environ.get(INLINE_ENV, "").strip()
    if not raw:
        return DEFAULT_INLINE
    if not raw.isdigit():
        log.warning("ignoring %s=%r: not a whole number", INLINE_ENV, raw)
        return DEFAULT_INLINE
    return int(raw)


# Built once per dialect; the row travels as parameters.
_QUEUE_INSERT = {
    name: make(RECEIPTS)
    .on_conflict_do_nothing(index_elements=["channel_id", "webhook_id"])
    .returning(RECEIPTS.c.id)
    for name, make in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


def queue_delivery(session: Session, receipt: Mapping[str, Any], body: bytes) -> str | None:
    """Store a delivery as queued, in the session's transaction; None when stored, else the
    outcome of the delivery with the same id that was stored before (a duplicate)."""
    connection = session.connection()
    statement = _QUEUE_INSERT[connection.dialect.name]
    row = {**receipt, "outcome": QUEUED, "body": body, "ignored": False}
    if connection.execute(statement, row).scalar() is not None:
        return None
    seen = look_up(session, receipt["channel_id"], webhook_id=receipt["webhook_id"])
    return seen.receipt_outcome or QUEUED


@dataclass(frozen=True)
class Queued:
    """A queued delivery, claimed (row-locked) in the current transaction."""

    id: int
    channel_id: int
    webhook_id: str
    topic: str
    body: bytes


BATCH = 32  # deliveries claimed, applied and committed together

# The oldest queued deliveries that no other process holds (read along the queue's id index).
_CLAIM = (
    select(
        RECEIPTS.c.id,
        RECEIPTS.c.channel_id,
        RECEIPTS.c.webhook_id,
        RECEIPTS.c.topic,
        RECEIPTS.c.body,
        RECEIPTS.c.channel_order_id,
    )
    .where(is_queued(RECEIPTS))
    .order_by(RECEIPTS.c.id)
    .limit(bindparam("batch", type_=Integer))
    .with_for_update(skip_locked=True, of=RECEIPTS)
)
# The first queued delivery of each of these orders, held by this process or another.
_FIRSTS = (
    select(RECEIPTS.c.channel_id, RECEIPTS.c.channel_order_id, func.min(RECEIPTS.c.id))
    .where(
        is_queued(RECEIPTS),
        RECEIPTS.c.channel_order_id.in_(bindparam("orders", expanding=True)),
    )
    .group_by(RECEIPTS.c.channel_id, RECEIPTS.c.channel_order_id)
)


def claim(session: Session, batch: int = BATCH) -> list[Queued]:
    """Lock the next deliveries to apply, oldest first, in the session's transaction.

    A delivery whose order has an earlier queued delivery that this claim did not get
    (another process holds it) is left for later: one order's deliveries are applied in
    the order they came, whichever process applies them.
    """
    connection = session.connection()
    rows = connection.execute(_CLAIM, {"batch": batch}).all()
    keys = sorted({r.channel_order_id for r in rows if r.channel_order_id is not None})
    firsts = {
        (channel, order): first
        for channel, order, first in (connection.execute(_FIRSTS, {"orders": keys}) if keys else ())
    }
    mine = {r.id for r in rows}
    due = []
    for r in rows:
        first = firsts.get((r.channel_id, r.channel_order_id), r.id)
        if first == r.id or first in mine:
            due.append(Queued(r.id, r.channel_id, r.webhook_id, r.topic, bytes(r.body or b"")))
    return due


def mark_applied(session: Session, receipt_id: int, order_id: int | None, outcome: str) -> None:
    """The delivery's outcome, in the transaction that applied it; its body is dropped."""
    session.flush()
    session.connection().execute(
        update(RECEIPTS)
        .where(RECEIPTS.c.id == receipt_id)
        .values(outcome=outcome, order_id=order_id, body=None, error=None)
    )


def mark_failed(session: Session, receipt_id: int, error: str) -> None:
    """Keep a delivery that cannot be applied as failed (its body kept), in the session's
    transaction."""
    session.connection().execute(
        update(RECEIPTS)
        .where(RECEIPTS.c.id == receipt_id, is_queued(RECEIPTS))
        .values(outcome=FAILED, error=error[:MAX_ERROR_CHARS])
    )


def requeue_failed(session: Session, channel_id: int | None = None) -> int:
    """Queue failed deliveries again (all, or one channel's); how many."""
    condition = is_failed(RECEIPTS)
    if channel_id is not None:
        condition = and_(condition, RECEIPTS.c.channel_id == channel_id)
    result = session.connection().execute(
        update(RECEIPTS).where(condition).values(outcome=QUEUED, error=None)
    )
    return int(result.rowcount or 0)


_IN_STATE = {QUEUED: is_queued(RECEIPTS), FAILED: is_failed(RECEIPTS)}


def counts(
    session: Session, states: tuple[str, ...] = (QUEUED, FAILED)
) -> dict[tuple[int, str], int]:
    """(channel id, state) -> how many deliveries are in that state, for "queued" and/or
    "failed" (each read along its partial index, never the whole history of receipts)."""
    connection = session.connection()
    found: dict[tuple[int, str], int] = {}
    for state in states:
        condition = _IN_STATE[state]
        rows = connection.execute(
            select(RECEIPTS.c.channel_id, func.count())
            .where(condition)
            .group_by(RECEIPTS.c.channel_id)
        )
        found.update({(int(channel), state): int(n) for channel, n in rows})
    return found


@dataclass(frozen=True)
class Failure:
    """A delivery the inbox could not apply, as the console and the CLI list it."""

    id: int
    channel_id: int
    webhook_id: str
    topic: str
    received_at: datetime
    error: str


def failures(session: Session, channel_id: int | None = None, limit: int = 20) -> list[Failure]:
    """The oldest failed deliveries (all channels', or one's), at most `limit`."""
    query = (
        select(
            RECEIPTS.c.id,
            RECEIPTS.c.channel_id,
            RECEIPTS.c.webhook_id,
            RECEIPTS.c.topic,
            RECEIPTS.c.received_at,
            RECEIPTS.c.error,
        )
        .where(is_failed(RECEIPTS))
        .order_by(RECEIPTS.c.id)
        .limit(limit)
    )
    if channel_id is not None:
        query = query.where(RECEIPTS.c.channel_id == channel_id)
    return [
        Failure(r.id, r.channel_id, r.webhook_id, r.topic, r.received_at, r.error or "")
        for r in session.connection().execute(query)
    ]


def apply_due(sessions: sessionmaker[Session], batch: int = BATCH) -> int:
    """Apply the next queued deliveries (up to `batch`) in one transaction; how many were
    applied or kept as failed (0: none is due, or other processes hold them).

    Each delivery runs in a savepoint: one that cannot be applied is kept as failed and the
    others go on; a unique race with a delivery of the same order applied meanwhile is run
    again (it then finds that order). A database error rolls the whole batch back, queued
    as before, and propagates.
    """
    from service.ingest.webhooks import apply_queued  # the webhook rules, after this module

    with sessions() as session, session.begin():
        due = claim(session, batch)
        for queued in due:
            for attempt in range(1, 4):
                try:
                    with session.begin_nested():
                        apply_queued(session, queued, sessions)
                    break
                except IntegrityError:
                    if attempt == 3:
                        raise
                except SQLAlchemyError:
                    raise
                except Exception as exc:  # kept for a person to look at, not retried forever
                    log.exception("queued webhook %s could not be applied", queued.webhook_id)
                    mark_failed(session, queued.id, f"{type(exc).__name__}: {exc}")
                    break
    return len(due)


class Inbox:
    """One process's inline slots and the thread that applies its queued deliveries."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        inline: int | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.sessions = sessions
        self.poll_seconds = poll_seconds
        self._slots = threading.Semaphore(inline_limit() if inline is None else inline)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="packbench-inbox", daemon=True)

    @property
    def running(self) -> bool:
        """Whether queued deliveries are being applied (only then is one queued)."""
        return self._thread.is_alive() and not self._stop.is_set()

    def take_slot(self) -> bool:
        """A slot to apply one delivery while its shop waits (release it), or False."""
        return self._slots.acquire(blocking=False)

    def give_slot(self) -> None:
        """Give back a slot from take_slot()."""
        self._slots.release()

    def notify(self) -> None:
        """A delivery was queued: apply it soon."""
        self._wake.set()

    def start(self) -> None:
        """Start applying (also what earlier processes left queued)."""
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the delivery being applied and stop; what is queued stays queued."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def drain(self) -> int:
        """Apply queued deliveries until none is due; how many were applied."""
        applied = 0
        while not self._stop.is_set():
            done = apply_due(self.sessions)
            if not done:
                return applied
            applied += done
        return applied

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                applied = self.drain()
                if applied:
                    log.info("webhook inbox: %d queued deliveries applied", applied)
            except Exception:  # the database is away: the deliveries stay queued
                log.exception("webhook inbox: applying queued deliveries failed; retrying")
                self._stop.wait(self.poll_seconds)
            self._wake.wait(self.poll_seconds)
