"""The webhook inbox: deliveries stored first and applied later, when the service is busy.

A shop waits a few seconds for its webhook's answer (Shopify: 5 s) and retries, then gives
up on the subscription, if it does not come. During a flash sale the service cannot create
thousands of orders a minute while stations push scans on the same cores, so each serving
process applies at most `PACKBENCH_WEBHOOK_INLINE` deliveries (default 1) while their shops
wait. Another order delivery that comes meanwhile is checked all the same (signature, topic,
a body that parses into an order: a bad one is refused with 4xx as before), then stored
with its raw body as a receipt with outcome "queued" (one INSERT, which also deduplicates)
and answered 202. From then on the process is backlogged: its next deliveries queue too,
behind the first, until the queue is empty and the process is quiet. So is a
delivery whose order has an earlier delivery still queued: one order's deliveries are
applied in the order they came.

On PostgreSQL a serving process (`serving_app`) applies its queued deliveries in a child
process at a lower CPU priority (APPLIER_NICE), so a machine short of CPU answers shops and
stations first and creates orders with what is left; the child dies with its process (a
killed process leaves its deliveries queued, as a thread would). While deliveries keep the
process busy the applier gives way (BUSY_BATCH every BUSY_EVERY_SECONDS), and applies the
rest once they stop, up to 32 in one transaction, oldest first, each with its receipt's
outcome; the next pass of any process on the database (`FOR UPDATE SKIP LOCKED`) applies
each once. `Inbox.start()` applies in a thread instead (tests, SQLite, where fork() is
missing).
A delivery that cannot be applied (its body no longer parses under the channel's settings,
a bug) is kept with outcome "failed", its body and the reason; `packbench-service channel
inbox` lists and re-queues those. Processes without an applier (tests' apps, the demo's
embedded service) apply every delivery while the shop waits, as before.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import math
import mmap
import os
import select as io
import signal
import struct
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Integer, and_, bindparam, func, select, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from service.ingest.lookup import look_up
from service.ingest.tables import FAILED, QUEUED, RECEIPTS, is_failed, is_queued

log = logging.getLogger(__name__)

INLINE_ENV = "PACKBENCH_WEBHOOK_INLINE"
DEFAULT_INLINE = 1
POLL_SECONDS = 2.0  # how often a process looks for deliveries queued by another one
MAX_ERROR_CHARS = 300


def inline_limit() -> int:
    """Deliveries one process applies while their shops wait (PACKBENCH_WEBHOOK_INLINE,
    default 1; 0 queues every order delivery)."""
    raw = os.environ.get(INLINE_ENV, "").strip()
    if not raw:
        return DEFAULT_INLINE
    if not raw.isdigit():
        log.warning("ignoring %s=%r: not a whole number", INLINE_ENV, raw)
        return DEFAULT_INLINE
    return int(raw)


# The receipt's columns a queued delivery writes. The statement is written out (PostgreSQL
# and SQLite spell it alike) because SQLAlchemy 2.0 compiles its dialect INSERT ... ON
# CONFLICT again for every execution (it is never cached): that was a tenth of a busy
# service's CPU.
_QUEUE_COLUMNS = (
    "channel_id",
    "webhook_id",
    "topic",
    "received_at",
    "ignored",
    "channel_order_id",
    "outcome",
    "body",
)
_QUEUE_INSERT = (
    text(  # the table's and the columns' names are this module's constants
        f"INSERT INTO {RECEIPTS.name} ({', '.join(_QUEUE_COLUMNS)}) "  # noqa: S608
        f"VALUES ({', '.join(':' + c for c in _QUEUE_COLUMNS)}) "
        "ON CONFLICT (channel_id, webhook_id) DO NOTHING RETURNING id"
    )
    .bindparams(*(bindparam(c, type_=RECEIPTS.c[c].type) for c in _QUEUE_COLUMNS))
    .columns(RECEIPTS.c.id)
)


def insert_queued(connection: Connection, receipt: Mapping[str, Any], body: bytes) -> bool:
    """Store a delivery as queued on `connection`, in its transaction; False when a delivery
    with the same id was stored before (nothing is written then)."""
    row = {**receipt, "outcome": QUEUED, "body": body, "ignored": False}
    return connection.execute(_QUEUE_INSERT, row).scalar() is not None


def queue_delivery(session: Session, receipt: Mapping[str, Any], body: bytes) -> str | None:
    """Store a delivery as queued, in the session's transaction; None when stored, else the
    outcome of the delivery with the same id that was stored before (a duplicate)."""
    if insert_queued(session.connection(), receipt, body):
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


# While shops' deliveries keep its process busy, answering them comes first (a shop that
# waits too long sends its delivery again, which doubles a flash sale's load): the applier
# applies when no delivery has been in hand for QUIET_SECONDS (a process answering a few
# a second is quiet most of the time; one answering all it can never is), and otherwise
# BUSY_BATCH every BUSY_EVERY_SECONDS, which keeps benches supplied (a site of 200
# stations packs a few orders a second).
QUIET_SECONDS = 0.02
BUSY_EVERY_SECONDS = 1.0
BUSY_BATCH = 8
_LAST = struct.Struct("d")  # at offset 8: when a delivery was last taken in or answered
_IN_HAND = struct.Struct("i")  # at offset 16: deliveries in hand
APPLIER_NICE = 10  # the applier process's CPU priority below the requests' (os.nice)
_PR_SET_PDEATHSIG = 1  # prctl(2): a signal for this process when its parent dies (Linux)


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when `parent` dies (SIGKILL, as a thread dies with
    its process); where prctl is missing, the applier's loop watches getppid() instead."""
    with contextlib.suppress(OSError, AttributeError):  # AttributeError: not Linux
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(0)


# A `serve --workers N` worker's health-check thread (uvicorn.supervisors.multiprocess): it
# waits on its pipe to the supervisor and holds no lock, so forking beside it is safe.
_UVICORN_PONG = "(always_pong)"


class Inbox:
    """One process's inline slots and what applies its queued deliveries: a thread, or (in a
    serving process, start_process()) a child process at a lower CPU priority."""

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
        # Shared with the applier process: byte 0 is 1 while deliveries this process queued
        # may wait unapplied (the applier clears it when it finds none due); bytes 8-16 hold
        # when an order delivery was last taken in or answered (time.monotonic(), the same
        # clock in both), bytes 16-20 how many are in hand.
        self._shared = mmap.mmap(-1, 20)
        self._in_hand_lock = threading.Lock()
        _LAST.pack_into(self._shared, 8, -math.inf)
        self._last_batch = -math.inf
        self._child: int | None = None
        self._child_gone = False
        self._wake_fd = -1

    @property
    def running(self) -> bool:
        """Whether queued deliveries are being applied (only then is one queued)."""
        if self._stop.is_set():
            return False
        if self._child is not None:
            return self._child_alive()
        return self._thread.is_alive()

    @property
    def backlogged(self) -> bool:
        """Whether deliveries this process queued may still wait: while they do, the next
        ones queue behind them instead of overtaking them inline."""
        return self._shared[0] == 1

    def taken(self) -> None:
        """An order delivery is in hand (the applier gives way while the process is busy
        with them); call answered() when it is done."""
        self._count_in_hand(1)

    def answered(self) -> None:
        """The delivery from taken() is answered."""
        self._count_in_hand(-1)

    def _count_in_hand(self, change: int) -> None:
        with self._in_hand_lock:
            _IN_HAND.pack_into(self._shared, 16, _IN_HAND.unpack_from(self._shared, 16)[0] + change)
            _LAST.pack_into(self._shared, 8, time.monotonic())

    def _quiet_in(self, now: float) -> float:
        if _IN_HAND.unpack_from(self._shared, 16)[0] > 0:
            return max(QUIET_SECONDS, 0.01)  # busy now: look again shortly
        last: float = _LAST.unpack_from(self._shared, 8)[0]
        return QUIET_SECONDS - (now - last)

    def _quiet(self, for_seconds: float = 0.0) -> bool:
        """No delivery in hand for QUIET_SECONDS (plus `for_seconds`)."""
        return self._quiet_in(time.monotonic()) <= -for_seconds

    def _give_way(self) -> float:
        """How long to wait before the next batch: 0 once no delivery has been in hand for
        QUIET_SECONDS, or when the last batch was BUSY_EVERY_SECONDS ago."""
        now = time.monotonic()
        quiet_in = self._quiet_in(now)
        due_in = BUSY_EVERY_SECONDS - (now - self._last_batch)
        return max(0.0, min(quiet_in, due_in))

    def take_slot(self) -> bool:
        """A slot to apply one delivery while its shop waits (release it), or False."""
        return self._slots.acquire(blocking=False)

    def give_slot(self) -> None:
        """Give back a slot from take_slot()."""
        self._slots.release()

    def notify(self, *, busy: bool = False) -> None:
        """A delivery was queued: apply it soon. `busy`: it was queued because the service is
        busy (no free inline slot, or deliveries waiting), so the next deliveries queue behind
        it (backlogged) until the burst is over."""
        if busy:
            self._shared[0] = 1
        if self._child is None:
            self._wake.set()
            return
        with contextlib.suppress(BlockingIOError, BrokenPipeError):
            os.write(self._wake_fd, b"\0")

    def start(self) -> None:
        """Start applying in a thread of this process (also what earlier processes left
        queued)."""
        self._thread.start()

    def start_process(self) -> None:
        """Start applying in a child process that runs at a lower CPU priority, so a busy
        machine answers shops and stations first and creates the queued orders with the CPU
        left over. The child dies with this process (as a thread would) and is stopped by
        stop(). Call it before this process starts threads (a serving process's start-up).

        On SQLite, and where fork() is missing, a thread applies instead: SQLite keeps its
        file locks' state per process, so a child forked while the parent has the database
        open cannot safely open it again (it waited 10 s for a lock nobody held), and its
        writers take turns anyway."""
        if not hasattr(os, "fork") or self.sessions.kw["bind"].dialect.name == "sqlite":
            self.start()
            return
        others = [
            t.name
            for t in threading.enumerate()
            if t is not threading.current_thread() and not t.name.endswith(_UVICORN_PONG)
        ]
        if others:  # serve starts its scheduler after start-up for this reason
            log.warning(
                "webhook inbox: the applier is forked while other threads run (%s); a lock "
                "one of them holds would stay held in the applier",
                ", ".join(sorted(others)),
            )
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the applier: it never returns into the serving code
            code = 1
            try:
                os.close(write_fd)
                self._run_child(read_fd, parent)
                code = 0
            except BaseException:
                log.exception("webhook inbox: the applier process failed")
            finally:
                os._exit(code)
        os.close(read_fd)
        self._child, self._wake_fd = pid, write_fd
        log.info("webhook inbox: applier process %d started (nice +%d)", pid, APPLIER_NICE)

    def _run_child(self, read_fd: int, parent: int) -> None:
        _die_with_parent(parent)
        with contextlib.suppress(OSError):
            os.nice(APPLIER_NICE)
        # The pooled connections belong to the parent: this process opens its own.
        self.sessions.kw["bind"].dispose(close=False)
        stop_r, stop_w = os.pipe()
        signal.set_wakeup_fd(-1)  # the parent's event loop is not running here

        def on_term(_signum: int, _frame: Any) -> None:
            self._stop.set()
            with contextlib.suppress(OSError):
                os.write(stop_w, b"\0")

        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent; it stops us
        while not self._stop.is_set() and os.getppid() == parent:
            self._pass()
            ready, _, _ = io.select([read_fd, stop_r], [], [], self.poll_seconds)
            if read_fd in ready and not os.read(read_fd, 4096):
                return  # the parent closed its end: it is stopping

    def _child_alive(self) -> bool:
        if self._child_gone:
            return False
        assert self._child is not None
        try:
            pid, status = os.waitpid(self._child, os.WNOHANG)
        except ChildProcessError:
            pid, status = self._child, 0
        if pid == 0:
            return True
        self._child_gone = True
        log.error(
            "webhook inbox: the applier process %d ended (status %d); this process now "
            "applies each delivery while its shop waits. Restart the service to apply what "
            "it queued (`packbench-service channel inbox` shows what waits)",
            self._child,
            status,
        )
        return False

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the deliveries being applied and stop; what is queued stays queued."""
        self._stop.set()
        self._wake.set()
        if self._child is not None:
            self._stop_child(timeout)
        elif self._thread.is_alive():
            self._thread.join(timeout)

    def _stop_child(self, timeout: float) -> None:
        assert self._child is not None
        if not self._child_gone:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._child, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    pid, _ = os.waitpid(self._child, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid:
                    break
                time.sleep(0.02)
            else:
                log.error("webhook inbox: the applier did not stop in %.0f s; killed", timeout)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self._child, signal.SIGKILL)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(self._child, 0)
            self._child_gone = True
        with contextlib.suppress(OSError):
            os.close(self._wake_fd)

    def drain(self) -> int:
        """Apply queued deliveries until none is due; how many were applied."""
        applied = 0
        while not self._stop.is_set():
            wait = self._give_way()
            if wait > 0:
                self._stop.wait(wait)
                continue
            # Full batches once a burst has been over for a while; between deliveries, a few.
            full = self._quiet(for_seconds=BUSY_EVERY_SECONDS)
            done = apply_due(self.sessions, BATCH if full else BUSY_BATCH)
            self._last_batch = time.monotonic()
            if not done:
                if self._quiet():  # a burst is over: deliveries may be applied inline again
                    self._shared[0] = 0
                return applied
            applied += done
        return applied

    def _pass(self) -> None:
        """One drain, logged; a failure (the database is away) leaves them queued."""
        try:
            applied = self.drain()
            if applied:
                log.info("webhook inbox: %d queued deliveries applied", applied)
        except Exception:
            log.exception("webhook inbox: applying queued deliveries failed; retrying")
            self._stop.wait(self.poll_seconds)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            self._pass()
            self._wake.wait(self.poll_seconds)
