"""The durable print queue: one SQLite table `print_jobs` in the station's database.

States: `queued` (waiting or being retried), `sent` (bytes delivered; confirmed only when the
printer then reports ready — a `sent` job with `last_error` needs a person to decide whether
it printed), `confirmed`, `failed` (kept with a reason; retried at `next_attempt_at` when
`retryable`). A job is never sent again by itself once it reached `sent`: only `reprint()`,
asked by a person, prints it again, as a new linked job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    inspect,
    or_,
    select,
    update,
)

from app.printing.errors import PrinterError
from sync.clock import utcnow

SCHEMA_VERSION = 1
metadata = MetaData()

print_schema = Table("print_schema", metadata, Column("version", Integer, nullable=False))

print_jobs = Table(
    "print_jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_number", String(64), index=True),
    Column("parcel_id", String(64)),
    Column("document_type", String(32), nullable=False),
    Column("printer_url", String(512), nullable=False, index=True),
    Column("payload", LargeBinary, nullable=False),
    Column("preview_png", LargeBinary),
    Column("state", String(16), nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("retryable", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("reprint_of", Integer, ForeignKey("print_jobs.id")),
    Column("requested_by", String(64)),
    Column("reason", Text),
)

QUEUED, SENT, CONFIRMED, FAILED = "queued", "sent", "confirmed", "failed"

log = logging.getLogger(__name__)


def ensure_schema(engine: Engine) -> None:
    """Create or migrate the print tables; safe to call at every start."""
    with engine.begin() as conn:
        metadata.create_all(conn, tables=[print_schema])
        version = conn.execute(select(print_schema.c.version)).scalar()
        if version is None:
            if not inspect(conn).has_table("print_jobs"):
                metadata.create_all(conn, tables=[print_jobs])
            conn.execute(insert(print_schema).values(version=SCHEMA_VERSION))
            version = SCHEMA_VERSION
        if version > SCHEMA_VERSION:
            raise PrinterError(
                "The print queue was written by a newer Packbench: update this station",
                detail=f"schema {version} > {SCHEMA_VERSION}",
            )
        # Future steps go here: `if version < 2: ...; version = 2`, then store the version.
        conn.execute(update(print_schema).values(version=version))


@dataclass(frozen=True, slots=True)
class PrintJob:
    """One row of the print queue."""

    id: int
    order_number: str | None
    parcel_id: str | None
    document_type: str
    printer_url: str
    payload: bytes
    preview_png: bytes | None
    state: str
    attempts: int
    last_error: str | None
    retryable: bool
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None
    reprint_of: int | None
    requested_by: str | None
    reason: str | None

    @property
    def needs_decision(self) -> bool:
        """Sent, but the printer reported a problem after: a person must check the output."""
        return self.state == SENT and self.last_error is not None


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands datetimes back naive; everything stored is UTC.
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class PrintQueue:
    """Durable jobs per printer, oldest first. Safe to share between threads."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self.clock = clock or utcnow
        self._listeners: list[Callable[[str], None]] = []
        ensure_schema(engine)

    def on_due(self, listener: Callable[[str], None]) -> None:
        """Call `listener(printer_url)` once a job for that printer is committed or made due."""
        self._listeners.append(listener)

    def _announce(self, printer_url: str) -> None:
        for listener in list(self._listeners):
            try:
                listener(printer_url)
            except Exception:  # a listener bug must not undo a committed job
                log.exception("print queue listener failed for %s", printer_url)

    def enqueue(
        self,
        payload: bytes,
        printer_url: str,
        document_type: str,
        *,
        order_number: str | None = None,
        parcel_id: str | None = None,
        preview_png: bytes | None = None,
    ) -> PrintJob:
        """Store a rendered job; it prints when its printer's worker reaches it."""
        return self._insert(
            payload=payload,
            printer_url=printer_url,
            document_type=document_type,
            order_number=order_number,
            parcel_id=parcel_id,
            preview_png=preview_png,
        )

    def refuse(
        self,
        printer_url: str,
        document_type: str,
        reason: str,
        *,
        order_number: str | None = None,
        parcel_id: str | None = None,
    ) -> PrintJob:
        """Record a label that could not be rendered: failed, not retryable, with the reason."""
        now = self.clock()
        with self.engine.begin() as conn:
            job_id = conn.execute(
                insert(print_jobs).values(
                    payload=b"",
                    printer_url=printer_url,
                    document_type=document_type,
                    order_number=order_number,
                    parcel_id=parcel_id,
                    state=FAILED,
                    attempts=0,
                    retryable=False,
                    last_error=reason,
                    created_at=now,
                    updated_at=now,
                )
            ).inserted_primary_key
            assert job_id is not None
        return self.get(int(job_id[0]))

    def _insert(self, **values: object) -> PrintJob:
        now = self.clock()
        with self.engine.begin() as conn:
            job_id = conn.execute(
                insert(print_jobs).values(
                    state=QUEUED,
                    attempts=0,
                    retryable=True,
                    created_at=now,
                    updated_at=now,
                    **values,
                )
            ).inserted_primary_key
            assert job_id is not None
        job = self.get(int(job_id[0]))
        self._announce(job.printer_url)
        return job

    def get(self, job_id: int) -> PrintJob:
        """One job by id (KeyError when unknown)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(print_jobs).where(print_jobs.c.id == job_id)).one_or_none()
        if row is None:
            raise KeyError(job_id)
        return self._job(row._mapping)

    @staticmethod
    def _job(row: object) -> PrintJob:
        values = dict(row)  # type: ignore[call-overload]
        for key in ("created_at", "updated_at", "next_attempt_at"):
            values[key] = _utc(values[key])
        return PrintJob(**values)

    def next_for(self, printer_url: str) -> PrintJob | None:
        """The oldest job still to print on this printer (queued, or failed and retryable).

        Jobs print in order: a failing label holds back later ones, so labels never come
        out in an order the packer does not expect.
        """
        query = (
            select(print_jobs)
            .where(
                print_jobs.c.printer_url == printer_url,
                or_(
                    print_jobs.c.state == QUEUED,
                    (print_jobs.c.state == FAILED) & print_jobs.c.retryable,
                ),
            )
            .order_by(print_jobs.c.id)
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).one_or_none()
        return None if row is None else self._job(row._mapping)

    def jobs(
        self, printer_url: str | None = None, order_number: str | None = None
    ) -> list[PrintJob]:
        """Jobs filtered by printer and/or order, oldest first."""
        query = select(print_jobs).order_by(print_jobs.c.id)
        if printer_url is not None:
            query = query.where(print_jobs.c.printer_url == printer_url)
        if order_number is not None:
            query = query.where(print_jobs.c.order_number == order_number)
        with self.engine.connect() as conn:
            return [self._job(r._mapping) for r in conn.execute(query)]

    def waiting(self, printer_url: str) -> int:
        """How many jobs on this printer are still to print (queued, or failed and retried)."""
        query = select(func.count()).where(
            print_jobs.c.printer_url == printer_url,
            or_(
                print_jobs.c.state == QUEUED,
                (print_jobs.c.state == FAILED) & print_jobs.c.retryable,
            ),
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def _set(self, job_id: int, **values: object) -> PrintJob:
        with self.engine.begin() as conn:
            conn.execute(
                update(print_jobs)
                .where(print_jobs.c.id == job_id)
                .values(updated_at=self.clock(), **values)
            )
        return self.get(job_id)

    def mark_attempt(self, job_id: int) -> PrintJob:
        """Count an attempt before the bytes go out (committed first, so a crash shows it)."""
        job = self.get(job_id)
        return self._set(job_id, attempts=job.attempts + 1)

    def mark_sent(self, job_id: int, problem: str | None = None) -> PrintJob:
        """All bytes delivered; `problem` records why it is not yet confirmed."""
        return self._set(job_id, state=SENT, last_error=problem, next_attempt_at=None)

    def mark_confirmed(self, job_id: int) -> PrintJob:
        """The printer reported ready after the job: done."""
        return self._set(job_id, state=CONFIRMED, last_error=None, next_attempt_at=None)

    def mark_failed(
        self, job_id: int, reason: str, retry_at: datetime | None, retryable: bool = True
    ) -> PrintJob:
        """Nothing (or not all) was printed; keep the job with the reason for the packer."""
        return self._set(
            job_id, state=FAILED, last_error=reason, retryable=retryable, next_attempt_at=retry_at
        )

    def retry_now(self, printer_url: str) -> None:
        """Make every waiting job on a printer due now (e.g. after a person fixed it)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(print_jobs)
                .where(
                    print_jobs.c.printer_url == printer_url,
                    print_jobs.c.state == FAILED,
                    print_jobs.c.retryable,
                )
                .values(next_attempt_at=self.clock())
            )
        self._announce(printer_url)

    def supersede(self, job_id: int, reason: str) -> bool:
        """Stop a job that has not printed from ever printing; False if it went out already."""
        if self.get(job_id).state not in (FAILED, QUEUED):
            return False  # sent or printed: too late, and nothing to undo
        self._set(job_id, state=FAILED, retryable=False, last_error=reason)
        return True

    def reprint(
        self, job_id: int, by_user: str, reason: str, printer_url: str | None = None
    ) -> PrintJob:
        """A person asked to print a job again: a new job linked to the original.

        The original is left as it was (a `failed` one stops retrying) so the label cannot
        come out twice; the caller records the returned job as a reprint event.
        """
        if not by_user or not reason.strip():
            raise ValueError("A reprint needs the user who asked and a reason")
        original = self.get(job_id)
        if original.state in (FAILED, QUEUED):
            self._set(
                job_id,
                state=FAILED,
                retryable=False,
                last_error=f"Replaced by a reprint requested by {by_user}",
            )
        return self._insert(
            payload=original.payload,
            printer_url=printer_url or original.printer_url,
            document_type=original.document_type,
            order_number=original.order_number,
            parcel_id=original.parcel_id,
            preview_png=original.preview_png,
            reprint_of=original.id,
            requested_by=by_user,
            reason=reason,
        )

    def backoff(self, attempts: int, steps: tuple[float, ...] = (2, 5, 10, 30, 60)) -> datetime:
        """When to try again after `attempts` failures."""
        return self.clock() + timedelta(seconds=steps[max(1, min(attempts, len(steps))) - 1])
