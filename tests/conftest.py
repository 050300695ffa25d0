"""Shared pytest configuration: offscreen Qt, a throwaway keyring, service databases.

`service_engine` runs a test once on SQLite and once on PostgreSQL (when
PACKBENCH_TEST_PG_URL is set, as .ci/run does; skipped otherwise). Each PostgreSQL test gets
its own schema, so tests never see each other's rows and can run in parallel.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.support.keyrings import MemoryKeyring

if TYPE_CHECKING:
    from tests.support.pg_schema import SchemaPool

PG_URL_ENV = "PACKBENCH_TEST_PG_URL"


@pytest.fixture(autouse=True)
def _memory_keyring() -> Iterator[MemoryKeyring]:
    """Every test starts with an empty in-memory keyring (never the developer's real one)."""
    from service.secrets_store import forget_cached_secrets

    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    forget_cached_secrets()
    yield ring
    keyring.set_keyring(previous)
    forget_cached_secrets()


def pg_url() -> str | None:
    """The PostgreSQL URL tests should use, if any."""
    return os.environ.get(PG_URL_ENV) or None


# Every database test starts from a schema as new, over a thousand times a run.
# create_all() checks each table before creating it, one round trip per statement; the same
# DDL is compiled once per test process instead (PostgreSQL: one script, one round trip),
# SQLite's empty database is created once and copied, and PostgreSQL schemas are emptied and
# reused (below).
_empty_sqlite: Path | None = None
_pg_script: str | None = None


def _sqlite_template() -> Path:
    global _empty_sqlite
    if _empty_sqlite is None:
        import atexit
        import shutil
        import tempfile

        from service.db import make_engine
        from service.schema import create_all

        folder = tempfile.mkdtemp(prefix="packbench-empty-db-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = Path(folder) / "empty.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
        create_all(engine)
        engine.dispose()  # the last connection's close folds the WAL into the file
        _empty_sqlite = path
    return _empty_sqlite


def _pg_create_all(engine: Engine) -> None:
    """service.schema.create_all(), as one script of the DDL it runs on an empty schema."""
    global _pg_script
    from sqlalchemy import create_mock_engine

    from service.models import Base
    from service.schema import add_first_rows

    if _pg_script is None:
        statements: list[str] = []
        dialect = engine.dialect

        def collect(ddl: Any, *_args: object, **_kw: object) -> None:
            statements.append(str(ddl.compile(dialect=dialect)).strip())

        Base.metadata.create_all(create_mock_engine(engine.url, collect), checkfirst=False)
        _pg_script = ";\n".join(statements) + ";"
    with engine.begin() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute(_pg_script)
    add_first_rows(engine)


# PostgreSQL schemas are reused between a process's tests when nothing can tell the difference
# (tests/support/pg_schema.py, SchemaPool): creating one costs the server about a quarter of
# a second of CPU, over 400 times a run.
_pg_pool: SchemaPool | None = None


def _pg_schemas(base: str) -> SchemaPool:
    global _pg_pool
    if _pg_pool is None:
        from tests.support.pg_schema import SchemaPool

        _pg_pool = SchemaPool(base, _pg_create_all)
    return _pg_pool


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _pg_pool is not None:
        _pg_pool.close()


def _make_db(kind: str, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    import shutil

    from service.db import make_engine

    if kind == "sqlite":
        path = tmp_path / "service.sqlite3"
        shutil.copyfile(_sqlite_template(), path)
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        yield url, engine
        engine.dispose()
        return
    base = pg_url()
    if base is None:
        pytest.skip(f"PostgreSQL not configured ({PG_URL_ENV} unset)")
    pool = _pg_schemas(base)
    schema = pool.take()
    url = pool.url(schema)
    engine = make_engine(url, pool_size=5, max_overflow=10)
    try:
        yield url, engine
    finally:
        engine.dispose()
        pool.give_back(schema)


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def service_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """(url, engine) of a fresh, fully created service database; SQLite and PostgreSQL."""
    yield from _make_db(request.param, tmp_path)


@pytest.fixture
def service_engine(service_db: tuple[str, Engine]) -> Engine:
    """A fresh service database engine (parametrised over SQLite and PostgreSQL)."""
    return service_db[1]


@pytest.fixture
def sessions(service_engine: Engine) -> sessionmaker[Session]:
    """A session factory on the fresh service database."""
    from service.db import make_sessionmaker

    return make_sessionmaker(service_engine)
