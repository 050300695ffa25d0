"""`dispatch close` and `tracking import|poll`: the carrier's day and its tracking events.

packbench-service dispatch close --carrier house [--out DIR] [--no-publish]
packbench-service dispatch cod [--carrier gls] [--date YYYY-MM-DD] [--csv]
packbench-service tracking import FILE.csv     (columns: see service/shipping/tracking.py)
packbench-service tracking poll [--carrier sendcloud]
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from service.carriers.registry import known_carriers
from service.commands import CommandError, Subparsers, add_db_option, open_sessions
from service.db import transaction, utcnow
from service.jobs.worker import run_due
from service.shipping.cod import cod_csv, cod_orders, totals
from service.shipping.dispatch import close_day
from service.shipping.publish import enqueue_publications
from service.shipping.tracking import import_csv, poll_tracking

ACTOR = "cli"


def register(subparsers: Subparsers) -> None:
    """Add the `dispatch` and `tracking` commands."""
    dispatch = subparsers.add_parser("dispatch", help="hand parcels to carriers")
    dsub = dispatch.add_subparsers(dest="action", metavar="ACTION")
    close = dsub.add_parser("close", help="close a carrier's day: manifest PDF + CSV, ship")
    add_db_option(close)
    close.add_argument("--carrier", required=True, help="carrier name, e.g. house")
    close.add_argument("--out", type=Path, default=Path("."), help="directory for the manifest")
    close.add_argument(
        "--no-publish",
        action="store_true",
        help="do not tell the shops (default: queue a durable publish job per order, try it now)",
    )
    close.set_defaults(handler=run_close)
    cod = dsub.add_parser(
        "cod", help="cash on delivery shipped on a day, per carrier and currency (finance)"
    )
    add_db_option(cod)
    cod.add_argument("--carrier", default=None, help="one carrier (default: all)")
    cod.add_argument(
        "--date", default=None, metavar="YYYY-MM-DD", help="the UTC day closed (default: today)"
    )
    cod.add_argument(
        "--csv", action="store_true", help="each COD order as CSV, then a total per currency"
    )
    cod.set_defaults(handler=run_cod)

    tracking = subparsers.add_parser("tracking", help="carrier tracking events")
    tsub = tracking.add_subparsers(dest="action", metavar="ACTION")
    imp = tsub.add_parser(
        "import",
        help="import tracking events from CSV (tracking_number,status,at[,message][,location])",
    )
    add_db_option(imp)
    imp.add_argument("file", type=Path, metavar="FILE.csv")
    imp.set_defaults(handler=run_import)
    poll = tsub.add_parser("poll", help="ask carriers with a tracking feed (run from cron)")
    add_db_option(poll)
    poll.add_argument("--carrier", default=None)
    poll.set_defaults(handler=run_poll)


def run_close(args: argparse.Namespace) -> int:
    """Close the day, write the manifest files, then publish to the shops."""
    if args.carrier not in known_carriers():
        raise CommandError(
            f"No carrier {args.carrier!r}; known: {', '.join(sorted(known_carriers()))}."
        )
    out: Path = args.out
    if not out.is_dir():
        raise CommandError(f"{out} is not a directory.")
    sessions = open_sessions(args)
    with transaction(sessions) as session:
        manifest = close_day(session, args.carrier, actor=ACTOR)
        job_ids = (
            []
            if args.no_publish
            else enqueue_publications(session, manifest.shipped_order_ids, now=utcnow())
        )
    csv_path = out / f"manifest-{manifest.manifest_id}.csv"
    pdf_path = out / f"manifest-{manifest.manifest_id}.pdf"
    csv_path.write_bytes(manifest.csv())
    pdf_path.write_bytes(manifest.pdf())
    print(
        f"Manifest {manifest.manifest_id}: {len(manifest.shipped_order_ids)} order(s), "
        f"{len(manifest.lines)} parcel(s) shipped; {csv_path} {pdf_path}"
    )
    for number, why in sorted(manifest.skipped.items()):
        print(f"Left packed: {number}: {why}")
    if job_ids:
        # First try now; what fails stays queued for the service's job worker (or `jobs run-due`).
        report = run_due(sessions, only_ids=job_ids, limit=len(job_ids))
        if report.retrying:
            print(
                f"{len(report.retrying)} shop update(s) will be retried; "
                "see `packbench-service jobs list`."
            )
        if report.dead:
            print(f"{len(report.dead)} shop update(s) failed; see the exceptions list.")
    return 0


def run_cod(args: argparse.Namespace) -> int:
    """The day's COD orders and totals, per carrier and currency (never summed across)."""
    if args.carrier is not None and args.carrier not in known_carriers():
        raise CommandError(
            f"No carrier {args.carrier!r}; known: {', '.join(sorted(known_carriers()))}."
        )
    try:
        day = date.fromisoformat(args.date) if args.date else utcnow().date()
    except ValueError:
        raise CommandError(
            f"{args.date!r} is not a date; give it as YYYY-MM-DD, e.g. 2026-12-04."
        ) from None
    with open_sessions(args)() as session:
        orders = cod_orders(session, day, args.carrier)
    if args.csv:
        sys.stdout.write(cod_csv(orders).decode("utf-8"))
        return 0
    who = args.carrier or "all carriers"
    if not orders:
        print(f"No cash on delivery shipped on {day} ({who}).")
        return 0
    print(f"Cash on delivery shipped on {day} ({who}):")
    for o in orders:
        print(f"  {o.carrier}  {o.manifest}  {o.order_number}  {o.amount} {o.currency}")
    for t in totals([(o.carrier, o.amount, o.currency) for o in orders]):
        print(f"COD total {t.carrier} {t.currency}: {t.amount} {t.currency} ({t.orders} order(s))")
    return 0


def run_import(args: argparse.Namespace) -> int:
    """Import a tracking CSV, all or nothing."""
    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"Cannot read {args.file}: {exc}") from exc
    with transaction(open_sessions(args)) as session:
        report = import_csv(session, text, actor=ACTOR)
    print(
        f"Imported {report.events} event(s) ({report.duplicates} already known); "
        f"{report.delivered_orders} order(s) delivered."
    )
    return 0


def run_poll(args: argparse.Namespace) -> int:
    """Poll carriers that have a tracking feed."""
    report = poll_tracking(open_sessions(args), carrier=args.carrier, actor=ACTOR)
    print(f"Polled: {report.events} new event(s), {report.delivered_orders} order(s) delivered.")
    return 0
