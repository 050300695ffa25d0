"""`stock adjust|count|show|check`: change stock by hand with a reason, and look at it."""

from __future__ import annotations

import argparse

from service.commands import CommandError, Subparsers, add_db_option, open_sessions
from service.stock.allocation import sweep_backorders
from service.stock.ledger import MAIN, Level, check
from service.stock.operations import adjust_and_allocate, product_stock

ACTOR = "cli:stock"


def register(subparsers: Subparsers) -> None:
    """Add the `stock` command group."""
    stock = subparsers.add_parser(
        "stock",
        help="the stock ledger: adjust, count, show, check",
        description="Stock is an append-only ledger of movements per product and location; "
        "on hand, allocated and available are derived from it. Set "
        "PACKBENCH_STOCK_ALLOW_NEGATIVE=1 to let available stock go below zero.",
    )
    actions = stock.add_subparsers(dest="stock_action", metavar="ACTION")

    adj = actions.add_parser(
        "adjust",
        help="add or take away units on hand, with a reason",
        description="Record one 'adjusted' movement of --qty units (negative takes away). "
        "Refused if it would take available stock below zero. Backordered orders the new "
        "units can serve are allocated at once.",
    )
    add_db_option(adj)
    adj.add_argument("--sku", required=True)
    adj.add_argument("--qty", required=True, type=int, help="units, e.g. 12 or -3")
    adj.add_argument("--reason", required=True, help="why (goods received, damaged, ...)")
    adj.add_argument("--location", default=MAIN, help=f"default {MAIN}")
    adj.set_defaults(handler=run_adjust)

    cnt = actions.add_parser(
        "count",
        help="record a shelf count (the difference becomes one 'counted' movement)",
    )
    add_db_option(cnt)
    cnt.add_argument("--sku", required=True)
    cnt.add_argument("--count", required=True, type=int, help="units found on the shelf")
    cnt.add_argument("--reason", required=True, help="e.g. 'cycle count aisle 4'")
    cnt.add_argument("--location", default=MAIN, help=f"default {MAIN}")
    cnt.set_defaults(handler=run_count)

    show = actions.add_parser("show", help="a product's stock per location and its movements")
    add_db_option(show)
    show.add_argument("sku", metavar="SKU")
    show.add_argument("--last", type=int, default=20, help="how many movements (default 20)")
    show.set_defaults(handler=run_show)

    alloc = actions.add_parser(
        "allocate",
        help="allocate backordered orders that stock can now serve (oldest first)",
        description="Stock changes allocate backorders by themselves; this sweep catches "
        "any left behind (safe to run on a schedule).",
    )
    add_db_option(alloc)
    alloc.set_defaults(handler=run_allocate)

    chk = actions.add_parser(
        "check",
        help="recompute every balance from the ledger and report disagreements",
        description="Exit status 0 when every balance equals the sum of its movements, 1 if not.",
    )
    add_db_option(chk)
    chk.set_defaults(handler=run_check)


def _line(lv: Level) -> str:
    return (
        f"{lv.location:<10} on hand {lv.on_hand:>6}  allocated {lv.allocated:>6}  "
        f"available {lv.available:>6}"
    )


def _apply(args: argparse.Namespace, **change: int) -> int:
    with open_sessions(args)() as session:
        after, allocated = adjust_and_allocate(
            session,
            args.sku,
            reason=args.reason,
            actor=ACTOR,
            location=args.location,
            **change,
        )
    print(f"{args.sku.strip().upper()}  {_line(after)}")
    if allocated:
        print(f"allocated from backorder: {', '.join(allocated)}")
    return 0


def run_adjust(args: argparse.Namespace) -> int:
    """Adjust units on hand."""
    return _apply(args, quantity=args.qty)


def run_count(args: argparse.Namespace) -> int:
    """Record a count."""
    return _apply(args, counted=args.count)


def run_show(args: argparse.Namespace) -> int:
    """Print a product's stock."""
    if args.last < 1 or args.last > 1000:
        raise CommandError("--last is 1 to 1000.")
    with open_sessions(args)() as session:
        stock = product_stock(session, args.sku, last=args.last)
    print(f"{stock.sku}  {stock.name}")
    if not stock.levels:
        print("no stock recorded (not tracked)")
    for lv in stock.levels:
        print(f"  {_line(lv)}")
    for m in stock.movements:
        order = f" order #{m.order_id}" if m.order_id else ""
        print(
            f"  {m.at:%Y-%m-%d %H:%M:%S} {m.kind:<18} {m.location:<10} "
            f"on hand {m.on_hand_delta:+d} allocated {m.allocated_delta:+d}{order}  "
            f"{m.actor}  {m.reason}"
        )
    return 0


def run_check(args: argparse.Namespace) -> int:
    """Compare balances with the ledger."""
    with open_sessions(args)() as session:
        found = check(session)
    if not found:
        print("every balance agrees with the ledger")
        return 0
    for m in found:
        print(
            f"{m.sku} at {m.location}: balance on hand {m.balance.on_hand} allocated "
            f"{m.balance.allocated}, ledger on hand {m.ledger.on_hand} allocated "
            f"{m.ledger.allocated}"
        )
    return 1


def run_allocate(args: argparse.Namespace) -> int:
    """Sweep backordered orders."""
    with open_sessions(args)() as session, session.begin():
        done = sweep_backorders(session, actor=ACTOR)
    print(f"allocated: {', '.join(done)}" if done else "no backordered order can be served yet")
    return 0
