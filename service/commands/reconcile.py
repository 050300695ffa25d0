"""`reconcile`: raise exceptions for orders stuck between states (safe to run from cron)."""

from __future__ import annotations

import argparse

from service.commands import Subparsers, add_db_option, open_sessions
from service.db import transaction
from service.reconcile import Thresholds, reconcile


def register(subparsers: Subparsers) -> None:
    """Add the `reconcile` command."""
    p = subparsers.add_parser(
        "reconcile", help="record exceptions for stuck orders (idempotent; run it from cron)"
    )
    add_db_option(p)
    defaults = Thresholds()
    p.add_argument(
        "--paid-hours",
        type=float,
        default=defaults.paid_hours,
        metavar="N",
        help=f"paid but not packed after N hours (default {defaults.paid_hours:g})",
    )
    p.add_argument(
        "--packed-hours",
        type=float,
        default=defaults.packed_hours,
        metavar="N",
        help=f"packed but not shipped after N hours (default {defaults.packed_hours:g})",
    )
    p.add_argument(
        "--shipped-hours",
        type=float,
        default=defaults.shipped_hours,
        metavar="N",
        help=f"shipped without tracking after N hours (default {defaults.shipped_hours:g})",
    )
    p.set_defaults(handler=run_reconcile)


def run_reconcile(args: argparse.Namespace) -> int:
    """Run one reconciliation and print what changed."""
    limits = Thresholds(args.paid_hours, args.packed_hours, args.shipped_hours)
    limits.check()  # before touching the database: a bad flag is a one-line error
    with transaction(open_sessions(args)) as session:
        report = reconcile(session, limits)
    print(
        f"Opened {len(report.opened)} stuck-order exception(s), "
        f"auto-resolved {len(report.auto_resolved)}, {report.still_open} still open."
    )
    if report.released:
        print(f"Released (product or shipping mapping arrived since): {', '.join(report.released)}")
    return 0
