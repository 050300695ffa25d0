"""Throwaway PostgreSQL schemas, so tests and benchmarks never write into a database's own
tables: created empty, handed over by name, dropped with everything in it afterwards
(`scratch_schema`), or emptied and handed out again while that cannot be told from new
(`SchemaPool`, the tests' service databases)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

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


# How the schema's catalogue rows stand: for each catalogue that describes its objects
# (tables with their options and grants, columns, defaults, indexes, constraints, triggers,
# sequences, functions, types, policies), how many rows it holds for the schema and the sum of
# their row versions (xmin). Any DDL inserts, deletes or rewrites such a row and so changes
# it; rows and statistics do not (VACUUM and ANALYZE update pg_class in place). Reading it
# takes a few milliseconds; describing every object with pg_get_indexdef() and the like took
# 0.27 s, more than creating the schema again.
# (catalogue, its rows that describe the schema's objects), `ns` being the schema and `rels`
# its tables, indexes and sequences.
_CATALOGUES = (
    ("pg_class", "relnamespace = ns.oid"),
    ("pg_attribute", "attrelid IN (SELECT oid FROM rels)"),
    ("pg_attrdef", "adrelid IN (SELECT oid FROM rels)"),
    ("pg_index", "indrelid IN (SELECT oid FROM rels)"),
    ("pg_constraint", "connamespace = ns.oid"),
    ("pg_trigger", "tgrelid IN (SELECT oid FROM rels)"),
    ("pg_sequence", "seqrelid IN (SELECT oid FROM rels)"),
    ("pg_proc", "pronamespace = ns.oid"),
    ("pg_type", "typnamespace = ns.oid"),
    ("pg_policy", "polrelid IN (SELECT oid FROM rels)"),
)
_SHAPE_SQL = (
    "WITH ns AS (SELECT current_schema()::regnamespace::oid AS oid),"
    " rels AS (SELECT c.oid FROM pg_class c, ns WHERE c.relnamespace = ns.oid)"
    " SELECT concat_ws(' ', "
    + ", ".join(
        f"(SELECT count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM {name}, ns"
        f" WHERE {rows})"
        for name, rows in _CATALOGUES
    )
    + ")"
)


class SchemaPool:
    """Schemas of the service's tables for one test at a time, reused when given back clean.

    Creating a schema costs PostgreSQL about a quarter of a second of CPU (36 tables with
    their indexes and files) and dropping it more. A given-back schema is emptied instead:
    every row deleted, every sequence restarted, the first rows added again (what a new
    schema holds). That is only done when nothing can tell the difference:
    - no connection to it is left open (each connection names its schema as its
      application_name, see `url`);
    - its catalogue rows (tables with their options and grants, columns, indexes,
      constraints, triggers, sequences, functions, types, policies) are the very rows it was
      created with (_SHAPE_SQL).
    Otherwise it is dropped, as a scratch schema is. Not shared between processes.
    """

    def __init__(self, base: str, create: Callable[[Engine], None]) -> None:
        self.base = base
        self.create = create  # makes the tables and first rows in an empty schema
        self.spare: list[str] = []
        self.shapes: dict[str, str] = {}  # every schema made and not yet dropped

    def url(self, schema: str) -> str:
        """`schema_url`, with the schema's name as each connection's application_name."""
        return f"{schema_url(self.base, schema)}&application_name={schema}"

    def take(self) -> str:
        """A schema for one test: a spare one, or a new one."""
        if self.spare:
            return self.spare.pop()
        schema = f"t_{uuid.uuid4().hex[:12]}"
        engine = make_engine(self.url(schema), pool_size=1, max_overflow=0)
        try:
            with engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            self.shapes[schema] = ""  # made: close() drops it even if creating fails
            self.create(engine)
            with engine.connect() as conn:
                self.shapes[schema] = conn.scalar(text(_SHAPE_SQL))
        finally:
            engine.dispose()
        return schema

    def give_back(self, schema: str) -> bool:
        """Empty the schema for the next test (True), or drop it (False)."""
        from service.models import Base
        from service.schema import add_first_rows

        engine = make_engine(self.url(schema), pool_size=1, max_overflow=0)
        try:
            with engine.begin() as conn:
                others = conn.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE application_name = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": schema},
                )
                clean = others == 0 and conn.scalar(text(_SHAPE_SQL)) == self.shapes[schema]
                if clean:
                    tables = reversed(Base.metadata.sorted_tables)
                    conn.exec_driver_sql("; ".join(f'DELETE FROM "{t.name}"' for t in tables))
                    # setval() writes the sequence, not its catalogue row (ALTER SEQUENCE
                    # RESTART would), so the shape stays the one read at creation.
                    conn.execute(
                        text(
                            "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass,"
                            " start_value, false) FROM pg_sequences WHERE schemaname = :name"
                        ),
                        {"name": schema},
                    )
            if clean:
                add_first_rows(engine)
                self.spare.append(schema)
                return True
        except Exception:  # a schema that cannot be emptied is dropped; the test has ended
            pass
        finally:
            engine.dispose()
        self._drop([schema])
        return False

    def close(self) -> None:
        """Drop every schema this pool made, spare or still out (at the end of the session)."""
        self._drop(list(self.shapes))
        self.spare.clear()

    def _drop(self, schemas: list[str]) -> None:
        if not schemas:
            return
        admin = make_engine(self.base, pool_size=1, max_overflow=0)
        with admin.begin() as conn:
            for schema in schemas:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                self.shapes.pop(schema, None)
        admin.dispose()
