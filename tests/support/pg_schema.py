"""A throwaway PostgreSQL schema, so tests and benchmarks never write into a database's
own tables: created empty, handed over by name, dropped with everything in it afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from service.db import make_engine


def schema_url(base: str, schema: str) -> str:
    """`base` with every connection's search_path set to `schema`."""
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@contextmanager
def scratch_schema(base: str, prefix: str) -> Iterator[str]:
    """A fresh schema `<prefix>_<random>` in the PostgreSQL database at `base`.

    No connection is held while it is in use (a benchmark may fork meanwhile).
    """
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base, pool_size=1, max_overflow=0)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
