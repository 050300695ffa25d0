"""Sub-commands of `packbench-service`, one module per area, found automatically.

Contract for a command module (`service/commands/<area>.py`):

    def register(subparsers: Subparsers) -> None:
        p = subparsers.add_parser("thing", help="...")
        add_db_option(p)
        p.set_defaults(handler=run_thing)

    def run_thing(args: argparse.Namespace) -> int:   # exit status
        ...

A handler reports a user error by raising `CommandError` (or any `service.errors`
ServiceError): `service.cli` prints it as one line on stderr and exits 1, never with a
traceback. Adding a module here never means editing `service/cli.py`.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, inspect
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from service.db import DB_URL_ENV, default_db_url, make_engine, make_sessionmaker
from service.secrets_store import bind_engine

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    Subparsers = Any


# Every line the service logs, in every process (serve's workers: service.commands.serve).
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# The module that registers each top-level command. `packbench-service CMD ...` imports just
# that module: importing all of them (FastAPI, the carriers, reportlab, Alembic) took about a
# second before any command ran. A command missing here still works, through the full
# parser; tests/unit/service/test_cli_modules.py keeps this table true.
MODULE_OF = {
    "carrier": "carriers",
    "channel": "channels",
    "db": "db",
    "seed-demo": "demo",
    "import-csv": "import_csv",
    "jobs": "jobs",
    "run-task": "jobs",
    "office-user": "office",
    "product": "products",
    "reconcile": "reconcile",
    "return": "returns",
    "secrets": "secrets",
    "serve": "serve",
    "dispatch": "shipping",
    "tracking": "shipping",
    "enroll-code": "stations",
    "station": "stations",
    "sync-prune": "stations",
    "stock": "stock",
    "user": "users",
    "token": "users",
}


class CommandError(Exception):
    """A user error in a command: printed as one line, exit status 1."""


def cli_actor() -> str:
    """Who ran the command, for audit trails: `cli:<login user>`."""
    return f"cli:{os.environ.get('USER', '?')}"


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """The shared `--db URL` option (falls back to PACKBENCH_DB_URL, then the SQLite default)."""
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help=f"database URL (default: ${DB_URL_ENV}, else a SQLite file in the data directory)",
    )


def db_url(args: argparse.Namespace) -> str:
    """The database URL a command should use."""
    url: str | None = getattr(args, "db", None)
    return url or default_db_url()


def open_engine(args: argparse.Namespace, *, require_schema: bool = True) -> Engine:
    """An engine on the command's database; by default refuses a database never upgraded."""
    url = db_url(args)
    try:
        engine = make_engine(url)
    except Exception as exc:  # SQLAlchemy raises many kinds of errors for a bad URL
        raise CommandError(f"Cannot use database URL {url!r}: {exc}") from exc
    if require_schema:
        try:
            tables = set(inspect(engine).get_table_names())
        except OperationalError as exc:
            engine.dispose()
            raise CommandError(f"Cannot connect to the database: {_first_line(exc)}") from exc
        if "orders" not in tables or "change_counter" not in tables:
            engine.dispose()
            raise CommandError(
                "The database has no Packbench schema yet; run `packbench-service db upgrade`."
            )
    bind_engine(engine)  # database-backed secrets live in the command's database
    return engine


def open_sessions(args: argparse.Namespace) -> sessionmaker[Session]:
    """A session factory on the command's (already upgraded) database."""
    return make_sessionmaker(open_engine(args))


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
