"""`db upgrade`, `db revision`, `db current`: the service schema through Alembic."""

from __future__ import annotations

import argparse

from alembic.util.exc import CommandError as AlembicCommandError
from sqlalchemy.exc import OperationalError

from service import migrations
from service.commands import CommandError, Subparsers, add_db_option, db_url


def register(subparsers: Subparsers) -> None:
    """Add the `db` command group."""
    db = subparsers.add_parser("db", help="create or upgrade the database schema")
    actions = db.add_subparsers(dest="db_action", metavar="ACTION")
    up = actions.add_parser("upgrade", help="upgrade the schema to the newest revision")
    add_db_option(up)
    up.add_argument("--revision", default="head", help="target revision (default: head)")
    up.set_defaults(handler=run_upgrade)
    rev = actions.add_parser(
        "revision", help="write a new migration from the models (developers, from a checkout)"
    )
    add_db_option(rev)
    rev.add_argument("-m", "--message", required=True, help="what the migration changes")
    rev.add_argument("--empty", action="store_true", help="an empty script, no autogenerate")
    rev.add_argument("--rev-id", default=None, help="revision id (default: random)")
    rev.set_defaults(handler=run_revision)
    cur = actions.add_parser("current", help="print the schema revision of the database")
    add_db_option(cur)
    cur.set_defaults(handler=run_current)


def run_upgrade(args: argparse.Namespace) -> int:
    """Upgrade the database to `--revision` and say where it is now."""
    url = db_url(args)
    try:
        migrations.upgrade(url, args.revision)
        at = migrations.current_revision(url)
    except OperationalError as exc:
        raise CommandError(f"Cannot upgrade the database: {_first_line(exc)}") from exc
    except AlembicCommandError as exc:
        raise CommandError(str(exc)) from exc
    print(f"Database is at revision {at}.")
    return 0


def run_revision(args: argparse.Namespace) -> int:
    """Autogenerate a migration script into service/migrations/versions."""
    try:
        migrations.make_revision(
            db_url(args), args.message, autogenerate=not args.empty, rev_id=args.rev_id
        )
    except AlembicCommandError as exc:
        raise CommandError(str(exc)) from exc
    return 0


def run_current(args: argparse.Namespace) -> int:
    """Print the database's schema revision (or that it was never upgraded)."""
    try:
        at = migrations.current_revision(db_url(args))
    except OperationalError as exc:
        raise CommandError(f"Cannot read the database: {_first_line(exc)}") from exc
    print(at or "none (run `packbench-service db upgrade`)")
    return 0


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
