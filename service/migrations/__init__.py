"""Alembic migrations for the service schema, configured in code (no alembic.ini needed).

The scripts live inside the `service` package, so `packbench-service db upgrade` works from
an installed package. Upgrade a database:

    packbench-service db upgrade --db URL

Regenerate or add a migration after changing `service/models` (run from the repository, on
a database that is at head; `--db` defaults as for every command):

    packbench-service db revision -m "add parcels.box_type" --db sqlite:////tmp/pb.sqlite3

To regenerate the *initial* migration from scratch instead (before the first release),
delete `service/migrations/versions/0001_initial.py` and run, on an empty database:

    rm -f /tmp/pb-empty.sqlite3 && packbench-service db revision -m initial --rev-id 0001 \
        --db sqlite:////tmp/pb-empty.sqlite3

(env.py adds the change_counter row to whichever revision creates that table.)
`tests/integration/service/test_migrations.py` fails while models and migrations disagree.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import command
from alembic.config import Config

SCRIPT_LOCATION = str(Path(__file__).resolve().parent)


def alembic_config(url: str) -> Config:
    """An Alembic config for the service's scripts and the database at `url`."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    # Alembic interpolates %-signs in options; URLs may contain percent-escapes.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["database_url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (default: the newest)."""
    command.upgrade(alembic_config(url), revision)


def make_revision(
    url: str, message: str, *, autogenerate: bool = True, rev_id: str | None = None
) -> None:
    """Write a new migration script comparing the models with the database at `url`."""
    config = alembic_config(url)
    if importlib.util.find_spec("ruff") is not None:
        # Generated scripts pass `ruff format --check` without a manual step (dev installs).
        config.set_section_option("post_write_hooks", "hooks", "ruff_format, ruff_fix")
        config.set_section_option("post_write_hooks", "ruff_format.type", "module")
        config.set_section_option("post_write_hooks", "ruff_format.module", "ruff")
        config.set_section_option(
            "post_write_hooks", "ruff_format.options", "format REVISION_SCRIPT_FILENAME"
        )
        config.set_section_option("post_write_hooks", "ruff_fix.type", "module")
        config.set_section_option("post_write_hooks", "ruff_fix.module", "ruff")
        config.set_section_option(
            "post_write_hooks",
            "ruff_fix.options",
            "check --fix --quiet --exit-zero REVISION_SCRIPT_FILENAME",
        )
    command.revision(config, message=message, autogenerate=autogenerate, rev_id=rev_id)


def current_revision(url: str) -> str | None:
    """The revision the database at `url` is at (None: never upgraded)."""
    from alembic.runtime.migration import MigrationContext

    from service.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
