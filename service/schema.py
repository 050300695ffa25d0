"""Create or upgrade the service's schema."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from service.changes import ensure_counter
from service.models import Base


def create_all(engine: Engine) -> None:
    """Create every table directly from the models (tests and the embedded demo database).

    Production databases are upgraded with Alembic (`packbench-service db upgrade`); a test
    checks that the migrations and the models agree.
    """
    Base.metadata.create_all(engine)
    add_first_rows(engine)


def add_first_rows(engine: Engine) -> None:
    """What a newly created schema holds besides its tables: the change counter's row."""
    with Session(engine) as session, session.begin():
        ensure_counter(session)
