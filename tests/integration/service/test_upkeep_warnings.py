"""`serve` warns when the database's upkeep is off: autovacuum, for the server or one of our
tables (the statistics of a growing orders table go stale and the plans with them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from service.db import make_engine, upkeep_warnings
from tests.conftest import _make_db


def _server_autovacuum(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.scalar(text("SHOW autovacuum")))


@pytest.fixture
def pg_engine(tmp_path: Path) -> Iterator[Engine]:
    """A fresh schema of the service's tables on the test PostgreSQL (skipped without one)."""
    for _url, engine in _make_db("pg", tmp_path):
        yield engine


def test_sqlite_has_no_upkeep_to_warn_about(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'service.sqlite3'}")
    assert upkeep_warnings(engine) == []
    engine.dispose()


@pytest.mark.pg
def test_a_table_with_autovacuum_off_is_named_and_one_turned_back_on_is_not(
    pg_engine: Engine,
) -> None:
    engine = pg_engine
    server = [w for w in upkeep_warnings(engine) if "database server" in w]
    # The server-wide warning follows the server's own setting (off on some CI machines).
    assert bool(server) == (_server_autovacuum(engine) == "off")
    assert not [w for w in upkeep_warnings(engine) if "for the table" in w]

    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE orders SET (autovacuum_enabled = false)"))
        conn.execute(text("ALTER TABLE order_lines SET (autovacuum_enabled = false)"))
    tables = [w for w in upkeep_warnings(engine) if "for the table" in w]
    assert len(tables) == 1
    assert "order_lines, orders" in tables[0] and "VACUUM (ANALYZE)" in tables[0]

    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE orders RESET (autovacuum_enabled)"))
        conn.execute(text("ALTER TABLE order_lines SET (autovacuum_enabled = true)"))
    assert not [w for w in upkeep_warnings(engine) if "for the table" in w]
