"""`import-csv PATH --channel NAME`: import orders from a CSV file (one row per line item).

The columns are documented in service/ingest/csv_import.py. A malformed file is rejected
with every problem and its line number, and nothing is imported; otherwise all orders are
upserted in one transaction (re-importing the same file changes nothing).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.commands import add_db_option, db_url
from service.db import make_engine, make_sessionmaker
from service.ingest.csv_import import CsvRejected, parse_csv
from service.ingest.model import NormalisedOrder
from service.ingest.store import IngestResult, run_in_transaction, upsert_order
from service.models import Channel

log = logging.getLogger(__name__)

EXIT_REJECTED = 2


class UnknownChannel(Exception):
    """The --channel name is not configured."""


def import_orders(
    session: Session, channel_name: str, orders: list[NormalisedOrder], *, actor: str
) -> list[IngestResult]:
    """Upsert every order in one transaction (all or nothing)."""

    def work(s: Session) -> list[IngestResult]:
        channel = s.scalar(select(Channel).where(Channel.name == channel_name))
        if channel is None:
            raise UnknownChannel(
                f"No channel named {channel_name!r}; add one with "
                f"'channel add operator --name {channel_name}'."
            )
        return [upsert_order(s, channel, o, actor=actor) for o in orders]

    return run_in_transaction(session, work)


def _handle(args: argparse.Namespace) -> int:
    path = Path(args.path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            orders = parse_csv(stream)
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 1
    except UnicodeDecodeError as exc:
        print(
            f"error: {path} is not UTF-8 text (byte {exc.start}); nothing imported", file=sys.stderr
        )
        return EXIT_REJECTED
    except CsvRejected as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_REJECTED
    engine = make_engine(db_url(args))
    try:
        with make_sessionmaker(engine)() as session:
            results = import_orders(session, args.channel, orders, actor=f"csv:{path.name}"[:100])
    except UnknownChannel as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    outcomes = Counter(r.outcome for r in results)
    held = [r for r in results if r.status == "on_hold"]
    print(
        f"imported {len(results)} order(s) from {path.name}: "
        + ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items()))
    )
    for r in held:
        codes = ", ".join(reason["code"] for reason in r.hold_reasons)
        print(f"  {r.number} on hold: {codes}")
    log.info("csv import %s into %s: %s", path.name, args.channel, dict(outcomes))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `import-csv`."""
    p = subparsers.add_parser(
        "import-csv",
        help="import orders from a CSV file (one row per line item)",
        description=(__doc__ or "").strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("path", help="the CSV file")
    add_db_option(p)
    p.add_argument("--channel", required=True, help="channel the orders belong to")
    p.set_defaults(handler=_handle)
