"""The station replica: local SQLite cache, outbox and mutation log, one writer per station.

WAL with synchronous=FULL: when `record()` returns, the mutation survives a power cut, which
is what lets the station show green ("green means saved"). In-process writers are
serialised by a lock and take SQLite's write lock at BEGIN (IMMEDIATE) so a reader never
has to upgrade and deadlock; other processes are kept out by `StationLock`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, Engine, create_engine, event, func, insert, select, update

from sync.clock import utcnow
from sync.errors import ReplicaCorrupt
from sync.protocol import (
    PAYLOAD_MODELS,
    SET_ASIDE_TYPE,
    Change,
    LeaseInfo,
    Mutation,
    MutationResult,
    MutationType,
    PullResponse,
    RejectReason,
)
from sync.replica import apply
from sync.replica import tables as t
from sync.replica.lock import StationLock
from sync.replica.lookups import ReplicaLookups
from sync.replica.migrations import CURRENT_VERSION, migrate

log = logging.getLogger(__name__)

# (type, order_id, lease_epoch, payload): what the pack session hands to record().
MutationSpec = tuple[str, int | None, int | None, Mapping[str, Any] | BaseModel]

_NEEDS_COUNTER_SEED = "needs_counter_seed"


def _clean_marker(path: Path) -> Path:
    return path.with_name(path.name + ".clean")


def _fingerprint(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _check_file(path: Path) -> bool:
    """Open with plain sqlite3, verify and migrate; returns whether the file was new.

    Raises ReplicaCorrupt when SQLite cannot read the file or quick_check finds damage. The
    full quick_check reads the whole file (a second or more with 100k orders), so it runs
    only when the last run did not close the replica cleanly (crash, power cut, kill -9);
    after a clean close of an unchanged file the schema is still read.
    """
    marker = _clean_marker(path)
    # Clean only if the file is exactly as this process family left it: a file changed
    # while Packbench was not running (copied in, damaged on disk) gets the full check.
    clean = marker.exists() and path.exists() and marker.read_text() == _fingerprint(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=5000")
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            log.warning("replica journal mode is %s, not WAL", mode)
        marker.unlink(missing_ok=True)  # from here on, a crash means "check fully next time"
        if clean:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            problems = ["ok"]
        else:
            problems = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
        if problems != ["ok"]:
            raise ReplicaCorrupt(str(path), "; ".join(str(p) for p in problems[:3]))
        old = migrate(conn, path)
        return old == 0
    except sqlite3.DatabaseError as exc:
        raise ReplicaCorrupt(str(path), str(exc)) from exc
    finally:
        conn.close()


def _on_connect(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _on_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get("pb_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Replica(ReplicaLookups):
    """The station's local database. Open with `Replica.open(path)`; `close()` when done."""

    def __init__(self, path: Path, engine: Engine, lock: StationLock) -> None:
        self.path = path
        self._engine = engine
        self._lock = lock
        self._write_lock = threading.Lock()
        self._listeners: list[Callable[[list[int]], None]] = []
        # record()'s own connection: the scan path's one transaction without the pool's
        # check-out, SQLAlchemy's begin/commit machinery and event hooks (opened on first use).
        self._record_conn: sqlite3.Connection | None = None
        # Outbox rows, known after the first count: record() adds to it, every other write
        # forgets it (the status bar asks on every scan). _writes counts finished writes and
        # _in_flight those begun and not yet accounted for, so a count that raced one is not
        # kept: a count may already see a write that has committed but not yet added itself
        # to the figure (kept, the write would then count its rows twice). All three under
        # _depth_lock (held for microseconds, so asking never waits for a long write such as
        # a snapshot).
        self._depth: int | None = None
        self._writes = 0
        self._in_flight = 0
        self._depth_lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def open(cls, path: str | Path) -> Replica:
        """Lock, verify, migrate and open the replica at `path` (created if missing).

        Raises ReplicaLocked (another process holds it), ReplicaCorrupt (damaged file) or
        ReplicaTooNew (written by a newer Packbench).
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = StationLock(path)
        lock.acquire()
        try:
            created = _check_file(path)
            engine = create_engine(
                f"sqlite:///{path}",
                connect_args={"check_same_thread": False, "isolation_level": None},
                pool_size=4,
                max_overflow=4,
            )
            event.listen(engine, "connect", _on_connect)
            event.listen(engine, "begin", _on_begin)
        except BaseException:
            lock.release()
            raise
        replica = cls(path, engine, lock)
        if created:
            # A new file does not know which mutation ids the service already has from this
            # station (reinstall, quarantined file): the engine seeds the counter first.
            replica.set_state(_NEEDS_COUNTER_SEED, True)
        log.info("replica opened", extra={"path": str(path), "schema": CURRENT_VERSION})
        return replica

    def close(self) -> None:
        """Close connections, mark the file as cleanly closed and release the station lock."""
        with self._write_lock:
            if self._record_conn is not None:
                self._record_conn.close()
                self._record_conn = None
        self._engine.dispose()
        _clean_marker(self.path).write_text(_fingerprint(self.path))
        self._lock.release()

    def __enter__(self) -> Replica:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def quarantine_and_reset(path: str | Path) -> Path:
        """Move a damaged replica (and its -wal/-shm) aside, timestamped; returns the new name.

        The next `Replica.open(path)` starts an empty file that re-syncs from the service.
        The quarantined file is kept: it may hold events that never reached the service.
        """
        path = Path(path)
        lock = StationLock(path)
        lock.acquire()
        try:
            stamp = utcnow().strftime("%Y%m%dT%H%M%S%fZ")
            target = path.with_name(f"{path.name}.corrupt-{stamp}")
            for suffix in ("", "-wal", "-shm"):
                src = path.with_name(path.name + suffix)
                if src.exists():
                    src.rename(target.with_name(target.name + suffix))
            log.warning(
                "damaged replica quarantined", extra={"path": str(path), "moved_to": str(target)}
            )
            return target
        finally:
            lock.release()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._write_lock, self._engine.connect() as conn:
            conn.execution_options(pb_write=True)
            with self._depth_lock:
                self._in_flight += 1
            try:
                with conn.begin():
                    yield conn
            finally:
                with self._depth_lock:  # any write may change the outbox: count when asked
                    self._in_flight -= 1
                    self._writes += 1
                    self._depth = None

    def _recorder(self) -> sqlite3.Connection:
        """record()'s connection (call with _write_lock held)."""
        conn = self._record_conn
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            _on_connect(conn, None)
            self._record_conn = conn
        return conn

    # ------------------------------------------------------------------ recording

    def add_listener(self, callback: Callable[[list[int]], None]) -> None:
        """Call `callback(ids)` after each successful `record()` (the engine's wake-up)."""
        self._listeners.append(callback)

    def record(self, mutations: Sequence[MutationSpec], at: datetime | None = None) -> list[int]:
        """Durably append mutations to the outbox in ONE transaction; returns their ids.

        When this returns the events are on disk (synchronous=FULL), so the UI may show
        green. Payloads are validated against the protocol first: a malformed event is a
        programming error (ValueError) and is never queued.
        """
        when = (at or utcnow()).isoformat()
        rows = []
        for kind, order_id, epoch, payload in mutations:
            rows.append((kind, order_id, epoch, json.dumps(_payload(kind, payload))))
        with self._write_lock:
            # The hot path of every scan: one IMMEDIATE transaction of plain driver calls on
            # record()'s own connection (no pool, no statement compilation); COMMIT is
            # durable (synchronous=FULL) before this returns.
            raw = self._recorder()
            cur = raw.cursor()
            with self._depth_lock:
                self._in_flight += 1
            added = 0
            try:
                cur.execute("BEGIN IMMEDIATE")
                cur.execute("SELECT value FROM counters WHERE name = 'mutation_id'")
                last = int(cur.fetchone()[0])
                ids = list(range(last + 1, last + 1 + len(rows)))
                values = [(i, k, o, e, when, p) for i, (k, o, e, p) in zip(ids, rows, strict=True)]
                if values:
                    cur.executemany(
                        "INSERT INTO outbox (id, type, order_id, lease_epoch, at, payload)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        values,
                    )
                    cur.executemany(
                        "INSERT INTO mutation_log (id, type, order_id, lease_epoch, at, payload,"
                        " status) VALUES (?, ?, ?, ?, ?, ?, 'pending')",
                        values,
                    )
                    cur.execute(
                        "UPDATE counters SET value = ? WHERE name = 'mutation_id'", (ids[-1],)
                    )
                cur.execute("COMMIT")
                added = len(ids)
            except BaseException:
                if raw.in_transaction:
                    raw.rollback()
                raise
            finally:
                cur.close()
                with self._depth_lock:
                    self._in_flight -= 1
                    self._writes += 1
                    if self._depth is not None:
                        self._depth += added
        for listener in self._listeners:
            try:
                listener(ids)
            except Exception:
                log.exception("replica listener failed")
        return ids

    def pending_outbox(self, limit: int = 500) -> list[Mutation]:
        """The oldest `limit` unacknowledged mutations, ready to push."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(t.outbox).order_by(t.outbox.c.id).limit(limit)).all()
        return [_outbox_mutation(r) for r in rows]

    def queue_depth(self) -> int:
        """How many mutations wait for upload (counted once, then kept by the writers)."""
        with self._depth_lock:
            if self._depth is not None:
                return self._depth
            writes, quiet = self._writes, self._in_flight == 0
        with self._engine.connect() as conn:
            depth = int(conn.scalar(select(func.count()).select_from(t.outbox)) or 0)
        with self._depth_lock:
            # Kept only if no write ran at any point of the count: one that committed before
            # the count read but has not yet added its rows would add them a second time.
            if quiet and self._in_flight == 0 and self._writes == writes:
                self._depth = depth
        return depth

    def ack(self, up_to_id: int, results: Sequence[MutationResult] = ()) -> int:
        """Delete outbox rows with id <= up_to_id and store the service's results.

        Ids acknowledged without a result (the service had them already, see the engine's
        gap handling) are logged as `acknowledged`. Parked server changes for orders that
        have no pending work left are applied in the same transaction. Returns rows deleted.
        """
        now = utcnow().isoformat()
        with self._write() as conn:
            # A set-aside stand-in's verdict is the service's receipt of it: the log row
            # keeps what the station recorded when it set the original aside.
            by_id = {
                r.id: r
                for r in results
                if r.id <= up_to_id and r.reason != RejectReason.SET_ASIDE.value
            }
            if by_id:
                conn.execute(
                    update(t.mutation_log)
                    .where(t.mutation_log.c.id == _bind("rid"))
                    .values(
                        status=_bind("status"),
                        reason=_bind("reason"),
                        message=_bind("message"),
                        result=_bind("result"),
                        acked_at=now,
                    ),
                    [
                        {
                            "rid": r.id,
                            "status": r.status,
                            "reason": r.reason,
                            "message": r.message,
                            "result": json.dumps(r.result),
                        }
                        for r in by_id.values()
                    ],
                )
            conn.execute(
                update(t.mutation_log)
                .where(t.mutation_log.c.id <= up_to_id, t.mutation_log.c.status == "pending")
                .values(status="acknowledged", acked_at=now)
            )
            deleted = conn.execute(t.outbox.delete().where(t.outbox.c.id <= up_to_id)).rowcount
            released = apply.release_held(conn)
        if released:
            log.info("applied %d held order changes after ack", released)
        return int(deleted)

    def set_aside(self, mutation_id: int, message: str, detail: Mapping[str, Any]) -> None:
        """Take a mutation the service can never accept out of the upload queue, keeping it.

        Its outbox row becomes a SET_ASIDE_TYPE stand-in under the same id (the service
        records that as rejected, so the ids stay gap-free); the original stays in the
        mutation log as `rejected` with reason `set_aside`, the service's message and
        `detail` (status, error, field), for the supervisor and support to see.
        """
        with self._write() as conn:
            conn.execute(
                update(t.outbox)
                .where(t.outbox.c.id == mutation_id)
                .values(type=SET_ASIDE_TYPE, order_id=None, lease_epoch=None, payload="{}")
            )
            conn.execute(
                update(t.mutation_log)
                .where(t.mutation_log.c.id == mutation_id)
                .values(
                    status="rejected",
                    reason=RejectReason.SET_ASIDE.value,
                    message=message,
                    result=json.dumps({"set_aside": dict(detail)}),
                    acked_at=utcnow().isoformat(),
                )
            )

    def requeue_from(self, first_id: int) -> int:
        """Put logged mutations with id >= first_id that left the outbox back into it.

        Used when the service lost mutations it had acknowledged (restored from a backup):
        the log still has their payloads, so they are sent again under the same ids.
        """
        with self._write() as conn:
            rows = conn.execute(
                select(t.mutation_log).where(
                    t.mutation_log.c.id >= first_id,
                    t.mutation_log.c.id.not_in(select(t.outbox.c.id)),
                )
            ).all()
            if rows:
                conn.execute(insert(t.outbox), [_requeued(r) for r in rows])
                # A set-aside mutation goes again as its stand-in and keeps its log entry.
                resent = [r.id for r in rows if r.reason != RejectReason.SET_ASIDE.value]
                conn.execute(
                    update(t.mutation_log)
                    .where(t.mutation_log.c.id.in_(resent))
                    .values(status="pending", reason=None, message=None, result=None, acked_at=None)
                )
        return len(rows)

    def needs_counter_seed(self) -> bool:
        """Whether the mutation counter must first learn the service's last id."""
        return bool(self.get_state(_NEEDS_COUNTER_SEED, False))

    def seed_mutation_counter(self, service_last_id: int) -> None:
        """Continue after the service's last mutation id for this station.

        Mutations recorded before the seed are renumbered above it: they were never sent,
        so their ids are still only local.
        """
        with self._write() as conn:
            local = _counter(conn, "mutation_id")
            if service_last_id > 0:
                shift = service_last_id
                for table in (t.outbox, t.mutation_log):
                    # Shift from the top down so ids never collide mid-update.
                    ids = list(conn.scalars(select(table.c.id).order_by(table.c.id.desc())))
                    for old in ids:
                        conn.execute(update(table).where(table.c.id == old).values(id=old + shift))
                _set_counter(conn, "mutation_id", local + shift)
            _set_state(conn, _NEEDS_COUNTER_SEED, False)
        log.info("mutation counter seeded", extra={"service_last_id": service_last_id})

    def last_mutation_id(self) -> int:
        """The last id handed out by `record()`."""
        with self._engine.connect() as conn:
            return _counter(conn, "mutation_id")

    # ------------------------------------------------------------------ pulling

    def pull_cursor(self) -> int:
        """The change number the replica is up to date with."""
        with self._engine.connect() as conn:
            return _counter(conn, "pull_cursor")

    def apply_pull(self, response: PullResponse) -> int:
        """Apply one page of changes and its cursor in ONE transaction; returns held count.

        An order with pending outbox rows keeps its local row; the server's version waits in
        `held_changes` until the outbox is acknowledged (see sync.replica.apply).
        """
        with self._write() as conn:
            held = apply.apply_changes(conn, response.changes)
            _set_counter(conn, "pull_cursor", response.cursor)
        return held

    def apply_snapshot(self, pages: Sequence[PullResponse]) -> int:
        """Replace everything server-owned with a full snapshot, in ONE transaction.

        Orders with pending work are kept and their snapshot versions held (or a removal,
        if the snapshot no longer lists them). The cursor becomes the last page's.
        """
        if not pages:
            raise ValueError("a snapshot needs at least one page")
        with self._write() as conn:
            kept = apply.clear_server_rows(conn)
            held = 0
            seen: set[int] = set()
            for page in pages:
                held += apply.apply_changes(conn, page.changes)
                seen.update(c.entity_id for c in page.changes if c.entity == "order" and c.data)
            for order_id in kept - seen:
                apply.hold(conn, Change(seq=pages[-1].cursor, entity="order", entity_id=order_id))
                held += 1
            _set_counter(conn, "pull_cursor", pages[-1].cursor)
        log.info("snapshot applied", extra={"pages": len(pages), "held": held})
        return held

    def apply_snapshot_page(self, page: PullResponse) -> int:
        """Apply one page of a paged snapshot in ONE transaction; the cursor stays put.

        Pages only add and update (as an incremental pull does), so the station keeps
        working from what it holds while the rest arrives; `finish_snapshot` removes what no
        page listed and moves the cursor. Returns the held count.
        """
        with self._write() as conn:
            return apply.apply_changes(conn, page.changes)

    def finish_snapshot(self, seen: dict[str, set[int]], cursor: int) -> int:
        """End a paged snapshot: drop what no page listed (held if it has pending work) and
        follow the feed from `cursor` (the head its first page read), in ONE transaction."""
        with self._write() as conn:
            held = apply.drop_unseen(conn, seen, cursor)
            _set_counter(conn, "pull_cursor", cursor)
        log.info("paged snapshot applied", extra={"cursor": cursor, "held": held})
        return held

    def held_count(self) -> int:
        """How many server changes wait for local work to be acknowledged."""
        with self._engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(t.held_changes)) or 0)

    def apply_leases(self, leases: Sequence[LeaseInfo]) -> int:
        """Store leases granted by a claim; returns how many of their orders are cached."""
        with self._write() as conn:
            return apply.apply_leases(conn, leases)

    # ------------------------------------------------------------------ station state

    def get_state(self, key: str, default: Any = None) -> Any:
        """A value from the key/value station_state table (JSON-decoded)."""
        with self._engine.connect() as conn:
            raw = conn.scalar(select(t.station_state.c.value).where(t.station_state.c.key == key))
        return default if raw is None else json.loads(raw)

    def set_state(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable value under `key`."""
        with self._write() as conn:
            _set_state(conn, key, value)


def _requeued(row: Any) -> dict[str, Any]:
    """The outbox row that sends a logged mutation again (a set-aside one as its stand-in)."""
    if row.reason == RejectReason.SET_ASIDE.value:
        return {"id": row.id, "type": SET_ASIDE_TYPE, "order_id": None, "lease_epoch": None,
                "at": row.at, "payload": "{}"}  # fmt: skip
    return {"id": row.id, "type": row.type, "order_id": row.order_id,
            "lease_epoch": row.lease_epoch, "at": row.at, "payload": row.payload}  # fmt: skip


def _outbox_mutation(row: Any) -> Mutation:
    """An outbox row as a Mutation; one the protocol refuses is sent as recorded all the same,
    so the service's refusal names it and the engine sets it aside (never a blocked queue)."""
    fields = {
        "id": row.id,
        "type": row.type,
        "order_id": row.order_id,
        "lease_epoch": row.lease_epoch,
        "at": datetime.fromisoformat(row.at),
        "payload": json.loads(row.payload),
    }
    try:
        return Mutation(**fields)
    except ValidationError:
        log.warning("outbox mutation %s is not valid for the protocol; sending it as it is", row.id)
        return Mutation.model_construct(**fields)


def _bind(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name)


def _payload(kind: str, payload: Mapping[str, Any] | BaseModel) -> dict[str, Any]:
    data = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else dict(payload)
    try:
        model = PAYLOAD_MODELS[MutationType(kind)]
    except ValueError:
        raise ValueError(f"unknown mutation type {kind!r}") from None
    try:
        return model.model_validate(data).model_dump(mode="json")
    except ValidationError as exc:
        raise ValueError(f"invalid {kind} payload: {exc}") from exc


def _counter(conn: Connection, name: str) -> int:
    value = conn.scalar(select(t.counters.c.value).where(t.counters.c.name == name))
    return int(value or 0)


def _set_counter(conn: Connection, name: str, value: int) -> None:
    conn.execute(update(t.counters).where(t.counters.c.name == name).values(value=value))


def _set_state(conn: Connection, key: str, value: Any) -> None:
    conn.execute(
        insert(t.station_state).prefix_with("OR REPLACE").values(key=key, value=json.dumps(value))
    )
