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
