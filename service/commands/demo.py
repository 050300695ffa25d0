"""`seed-demo`: fill an empty database with realistic demo data."""

from __future__ import annotations

import argparse

from service.commands import Subparsers, add_db_option, open_sessions
from service.db import transaction
from service.demo import DEMO_STATION, seed_demo


def register(subparsers: Subparsers) -> None:
    """Add the `seed-demo` command."""
    p = subparsers.add_parser(
        "seed-demo", help="fill an empty database with demo products, channels and orders"
    )
    add_db_option(p)
    p.set_defaults(handler=run_seed_demo)


def run_seed_demo(args: argparse.Namespace) -> int:
    """Seed, then print what a person needs to try the demo."""
    with transaction(open_sessions(args)) as session:
        report = seed_demo(session)
    if report.already_seeded:
        print("The demo data is already in this database; nothing to do.")
        return 0
    print(
        f"Seeded {report.products} products, {report.orders} orders and "
        f"{len(report.batches)} batches ({', '.join(report.batches)})."
    )
    print(
        f"Batch {report.batches[0]} is assigned to station {DEMO_STATION!r}."
        if report.batches
        else ""
    )
    print(
        "Users: BADGE-P001 Alex Packer, BADGE-P002 Robin Packer, BADGE-S001 supervisor (PIN 1234)."
    )
    print(f"Demo webhook secret for demo-shopify and demo-woocommerce: {report.webhook_secret}")
    return 0
