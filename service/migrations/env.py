"""Alembic environment: runs migrations on the service's own engine settings."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext

import service.models
from service.db import UTCDateTime, make_engine

config = context.config
target_metadata = service.models.Base.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render our UTCDateTime as a plain timezone-aware DateTime so scripts stay standalone."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def seed_change_counter(
    _context: MigrationContext, _revision: Any, directives: list[ops.MigrationScript]
) -> None:
    """A revision that creates change_counter also inserts its single row (service.changes).

    Done here rather than by hand so that regenerating the initial migration stays a
    one-line command.
    """
    for script in directives:
        upgrade = script.upgrade_ops
        if upgrade is None:
            continue
        creates = [
            op
            for op in upgrade.ops
            if isinstance(op, ops.CreateTableOp) and op.table_name == "change_counter"
        ]
        if creates:
            upgrade.ops.insert(
                upgrade.ops.index(creates[0]) + 1,
                ops.ExecuteSQLOp("INSERT INTO change_counter (id, value) VALUES (1, 0)"),
            )


def run_migrations_online() -> None:
    """Migrate through a live connection (the only mode the service uses)."""
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL given to the migrations")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                render_item=render_item,
                compare_type=True,
                process_revision_directives=seed_change_counter,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


run_migrations_online()
