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


# One row per object in the schema, read from the catalogue: what it is and how it is made;
# its md5 is compared before a schema is reused (SchemaPool).
_SHAPE_SQL = """
SELECT md5(coalesce(string_agg(x, E'\\n' ORDER BY x), '')) FROM (
  SELECT concat_ws(' ', 'rel', c.relname, c.relkind::text, c.relpersistence::text,
      c.relrowsecurity, c.relowner, c.reloptions::text, c.relacl::text) || ' ' || coalesce((
      SELECT string_agg(concat_ws(':', a.attname, format_type(a.atttypid, a.atttypmod),
          a.attnotnull, a.attisdropped, a.attidentity::text, a.attgenerated::text,
          a.attcollation, a.attoptions::text, pg_get_expr(d.adbin, d.adrelid)), ','
          ORDER BY a.attnum)
      FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = c.oid AND a.attnum > 0), '')
      || ' ' || coalesce(pg_get_indexdef(i.indexrelid), '') AS x
    FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid
    WHERE c.relnamespace = current_schema()::regnamespace
  UNION ALL
  SELECT 'con ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
    WHERE connamespace = current_schema()::regnamespace
  UNION ALL
  SELECT 'fn ' || p.oid::regprocedure::text || ' ' || md5(p.prosrc) FROM pg_proc p
    WHERE p.pronamespace = current_schema()::regnamespace
  UNION ALL
  SELECT 'trg ' || t.tgname || ' ' || pg_get_triggerdef(t.oid) FROM pg_trigger t
    JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = current_schema()::regnamespace
  UNION ALL
  SELECT 'type ' || typname FROM pg_type WHERE typnamespace = current_schema()::regnamespace
  UNION ALL
  SELECT concat_ws(' ', 'seq', sequencename, start_value, min_value, max_value, increment_by,
      cycle, cache_size) FROM pg_sequences WHERE schemaname = current_schema()
  UNION ALL
  SELECT 'policy ' || polname || ' ' || pg_get_expr(polqual, polrelid) FROM pg_policy p
    JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = current_schema()::regnamespace
) AS objects
"""


class SchemaPool:
    """Schemas of the service's tables for one test at a time, reused when given back clean.

    Creating a schema costs PostgreSQL about a quarter of a second of CPU (36 tables with
    their indexes and files) and dropping it more. A given-back schema is emptied instead:
    every row deleted, every sequence restarted, the first rows added again (what a new
    schema holds). That is only done when nothing can tell the difference:
    - no connection to it is left open (each connection names its schema as its
      application_name, see `url`);
    - its tables with their options and grants, columns, indexes, constraints, triggers,
      sequences, functions, types and policies read from the catalogue exactly as when it was
      created (_SHAPE_SQL).
    Otherwise it is dropped, as a scratch schema is. Not shared between processes.
    """

    def __init__(self, base: str, create: Callable[[Engine], None]) -> None:
        self.base = base
        self.create = create  # makes the tables and first rows in an empty schema
        self.spare: list[str] = []
        self.shapes: dict[str, str] = {}

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
                    sequences = conn.scalars(
                        text("SELECT sequencename FROM pg_sequences WHERE schemaname = :name"),
                        {"name": schema},
                    ).all()
                    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
                    conn.exec_driver_sql(
                        "; ".join(
                            [f'DELETE FROM "{t}"' for t in tables]
                            + [f'ALTER SEQUENCE "{s}" RESTART' for s in sequences]
                        )
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
        """Drop the spare schemas (at the end of the test session)."""
        self._drop(self.spare)
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
