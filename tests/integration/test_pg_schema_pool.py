"""The tests' PostgreSQL schemas are reused only when nothing can tell them from new
(tests/support/pg_schema.py, SchemaPool): emptied with their sequences restarted when clean,
dropped when a test changed their shape or left a connection open."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from service.db import make_engine
from service.models import Base, Station
from tests.conftest import _pg_create_all, pg_url
from tests.support.pg_schema import SchemaPool

pytestmark = pytest.mark.pg


class _Recorded(SchemaPool):
    """A pool that remembers every schema it handed out."""

    def __init__(self, base: str) -> None:
        super().__init__(base, _pg_create_all)
        self.taken: list[str] = []

    def take(self) -> str:
        self.taken.append(super().take())
        return self.taken[-1]


@pytest.fixture
def pool() -> Iterator[SchemaPool]:
    base = pg_url()
    if base is None:
        pytest.skip("PostgreSQL not configured (PACKBENCH_TEST_PG_URL unset)")
    pool = _Recorded(base)
    yield pool
    pool.close()  # drops what is spare and what a test still holds: nothing is left behind
    assert not [schema for schema in pool.taken if _exists(pool, schema)]


def _engine(pool: SchemaPool, schema: str) -> Engine:
    return make_engine(pool.url(schema), pool_size=1, max_overflow=0)


def _exists(pool: SchemaPool, schema: str) -> bool:
    engine = make_engine(pool.base, pool_size=1, max_overflow=0)
    with engine.connect() as conn:
        found = conn.scalar(
            text("SELECT count(*) FROM pg_namespace WHERE nspname = :name"), {"name": schema}
        )
    engine.dispose()
    return found == 1


def _rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: int(conn.scalar(text(f'SELECT count(*) FROM "{t.name}"')) or 0)
            for t in Base.metadata.sorted_tables
        }


def test_a_clean_schema_comes_back_empty_with_its_sequences_restarted(pool: SchemaPool) -> None:
    new = pool.take()
    engine = _engine(pool, new)
    as_new = _rows(engine)
    assert as_new["change_counter"] == 1  # the first row a schema holds
    with Session(engine) as session, session.begin():
        session.add_all([Station(name="A"), Station(name="B")])
    engine.dispose()

    assert pool.give_back(new) is True
    assert pool.take() == new
    engine = _engine(pool, new)
    assert _rows(engine) == as_new
    with Session(engine) as session, session.begin():
        station = Station(name="C")
        session.add(station)
        session.flush()
        assert station.id == 1
    engine.dispose()


@pytest.mark.parametrize(
    "change",
    [
        "ALTER TABLE orders SET (autovacuum_enabled = false)",
        "ALTER TABLE stations ADD COLUMN extra integer",
        "CREATE INDEX extra ON stations (name, id)",
        "CREATE TABLE extra (id integer)",
        "ALTER SEQUENCE stations_id_seq INCREMENT BY 2",
        "CREATE FUNCTION extra() RETURNS integer LANGUAGE sql AS 'SELECT 1'",
    ],
)
def test_a_schema_whose_shape_a_test_changed_is_dropped(pool: SchemaPool, change: str) -> None:
    schema = pool.take()
    engine = _engine(pool, schema)
    with engine.begin() as conn:
        conn.execute(text(change))
    engine.dispose()

    assert pool.give_back(schema) is False
    assert not _exists(pool, schema)
    assert pool.take() != schema


def test_a_schema_with_a_connection_left_open_is_dropped(pool: SchemaPool) -> None:
    schema = pool.take()
    left_open = _engine(pool, schema)
    conn = left_open.connect()
    conn.execute(text("SELECT 1"))
    try:
        assert pool.give_back(schema) is False
    finally:
        conn.close()
        left_open.dispose()
    assert not _exists(pool, schema)
