"""Database engine and sessions for the central order service.

PostgreSQL in production, SQLite (WAL) as the embedded default in the platform's data
directory. All timestamps are stored and returned as timezone-aware UTC.
"""

from __future__ import annotations

import os
import select as _select
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import DateTime, Engine, create_engine, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from service.limits import statement_timeout_ms
from sync import clock

DB_URL_ENV = "PACKBENCH_DB_URL"


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (the only kind of time the service stores).

    Read from the shared injectable clock (`sync.clock`), so tests set it instead of racing it.
    """
    return clock.utcnow()


class UTCDateTime(TypeDecorator[datetime]):
    """A DateTime that refuses naive values and always reads back as aware UTC (SQLite too)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base for every service table."""


def default_db_url() -> str:
    """`PACKBENCH_DB_URL`, else a SQLite file in the platform's data directory."""
    url = os.environ.get(DB_URL_ENV)
    if url:
        return url
    data = Path(platformdirs.user_data_dir("packbench-service", appauthor=False))
    data.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data / 'service.sqlite3'}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # Writers take the lock at BEGIN so two transactions never deadlock upgrading a read lock;
    # this also serialises change-number assignment (see service/changes.py).
    conn.exec_driver_sql("BEGIN IMMEDIATE")


# Pooled PostgreSQL connections are replaced after this many seconds (a firewall or a
# proxy may drop a connection idle for longer without telling either end).
POOL_RECYCLE_S = 1800


def _check_alive(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """At checkout: refuse a pooled PostgreSQL connection the server has already closed.

    An idle connection in a healthy state has nothing to read. A server that restarted or
    terminated the backend sent its FATAL notice and closed the socket, which makes the
    socket readable: one poll() of it, no round trip (pool_pre_ping's SELECT cost a round
    trip on every request). DisconnectionError makes the pool discard it and connect anew.
    """
    try:
        fd = dbapi_conn.pgconn.socket
        poller = _select.poll()
        poller.register(fd, _select.POLLIN | _select.POLLERR | _select.POLLHUP)
        dead = bool(poller.poll(0))
    except Exception as exc:  # a closed connection has no socket any more
        raise DisconnectionError("pooled connection is closed") from exc
    if dead:
        raise DisconnectionError("the server closed this pooled connection")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine with the service's settings for SQLite or PostgreSQL."""
    url = url or default_db_url()
    # Statement parameters are customers' names and addresses: never in an error or log line.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "isolation_level": None}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    # No pool_pre_ping (a SELECT round trip per checkout, ~11 % of a webhook's worker time):
    # _check_alive finds connections the server closed without one, pool_recycle replaces
    # old ones, and a statement that still meets a dead connection invalidates the whole
    # pool (SQLAlchemy's disconnect handling), so only that request fails (503, retried).
    kwargs.setdefault("pool_recycle", POOL_RECYCLE_S)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping") and hasattr(_select, "poll"):
        event.listen(engine, "checkout", _check_alive)
    # One runaway statement must not hold a connection (and its locks) for minutes. Set per
    # new connection, so a URL's own `options` (e.g. a search_path) stay as they are.
    timeout_ms = statement_timeout_ms()

    def _statement_timeout(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cur:
            cur.execute(f"SET statement_timeout = {int(timeout_ms)}")
        dbapi_conn.commit()

    event.listen(engine, "connect", _statement_timeout)
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (responses are built after it)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


# The service's own tables that have autovacuum turned off (a storage option per table).
_AUTOVACUUM_OFF_TABLES = text(
    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = current_schema() AND c.relkind = 'r'"
    " AND 'autovacuum_enabled=false' = ANY(c.reloptions) ORDER BY c.relname"
)


def upkeep_warnings(engine: Engine) -> list[str]:
    """What in the database's own upkeep will slow the service down as its tables grow: on
    PostgreSQL, autovacuum turned off for the server or for one of our tables. Then nothing
    analyses the orders as they accumulate, and the planner reads a table of a million
    orders with the statistics of a small one (measured: station pulls past 10 s)."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as conn:
        server_off = conn.scalar(text("SHOW autovacuum")) != "on"
        tables = list(conn.scalars(_AUTOVACUUM_OFF_TABLES))
    fix = (
        "Turn it on (PostgreSQL's default), or run `VACUUM (ANALYZE)` on the database from a"
        " nightly timer."
    )
    warnings = []
    if server_off:
        warnings.append(
            "PostgreSQL's autovacuum is off on this database server: the orders' statistics"
            " will go stale as orders accumulate, and station pulls, searches and batching"
            f" will slow down. {fix}"
        )
    if tables:
        warnings.append(
            f"Autovacuum is off for the table(s) {', '.join(tables)} (autovacuum_enabled ="
            f" false): their statistics will go stale as they grow. {fix}"
        )
    return warnings
