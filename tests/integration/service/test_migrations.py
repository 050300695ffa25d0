"""`packbench-service db upgrade` builds exactly the schema the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select

from service.cli import main
from service.migrations import alembic_config
from service.models import Base, ChangeCounter


@pytest.fixture
def empty_db(service_db: tuple[str, Engine]) -> tuple[str, Engine]:
    """The fixture's database with every table dropped again (SQLite file / PG schema)."""
    url, engine = service_db
    Base.metadata.drop_all(engine)
    assert inspect(engine).get_table_names() == []
    return url, engine


def test_upgrade_creates_the_models_schema_and_the_change_counter(
    empty_db: tuple[str, Engine], capsys: pytest.CaptureFixture[str]
) -> None:
    url, engine = empty_db
    assert main(["db", "upgrade", "--db", url]) == 0
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert f"revision {head}" in capsys.readouterr().out

    with engine.connect() as conn:
        context = MigrationContext.configure(conn)
        diffs = compare_metadata(context, Base.metadata)
        assert diffs == []
        assert conn.execute(select(ChangeCounter.id, ChangeCounter.value)).all() == [(1, 0)]

    # Upgrading an up-to-date database is a no-op, not an error.
    assert main(["db", "upgrade", "--db", url]) == 0


def test_commands_refuse_a_database_that_was_never_upgraded(
    empty_db: tuple[str, Engine], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _engine = empty_db
    args = ["user", "add", "--db", url, "--name", "A", "--role", "packer", "--badge", "B1"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "db upgrade" in err
    assert "Traceback" not in err


def test_0004_keeps_the_numbered_feed_and_stations_cursors(
    empty_db: tuple[str, Engine],
) -> None:
    """Rows numbered under the old scheme keep their numbers; new rows continue after them."""
    from alembic import command
    from sqlalchemy import text

    from service.changes import mark_changed, number_changes
    from service.db import make_sessionmaker
    from service.migrations import upgrade

    url, engine = empty_db
    upgrade(url, "0003")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO changes (seq, entity, entity_id, station_id, at) VALUES "
                "(7, 'order', 1, NULL, CURRENT_TIMESTAMP), (8, 'product', 2, 3, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(text("UPDATE change_counter SET value = 8"))
    upgrade(url)
    sessions = make_sessionmaker(engine)
    with sessions() as s, s.begin():
        mark_changed(s, "order", 5)
    with sessions() as s:
        assert number_changes(s) == 1
        rows = s.execute(text("SELECT id, seq, entity, entity_id, station_id FROM changes")).all()
    assert sorted(tuple(r) for r in rows) == [
        (7, 7, "order", 1, None),
        (8, 8, "product", 2, 3),
        (9, 9, "order", 5, None),
    ]
    # Down again: a row not numbered yet gets the next number instead of being dropped.
    with sessions() as s, s.begin():
        mark_changed(s, "order", 6)
    engine.dispose()
    command.downgrade(alembic_config(url), "0003")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT seq, entity_id FROM changes ORDER BY seq")).all() == [
            (7, 1),
            (8, 2),
            (9, 5),
            (10, 6),
        ]
        assert conn.execute(text("SELECT value FROM change_counter")).scalar() == 10
