"""`return create|receive|close|list|show`: returns (RMAs) at the returns desk."""

from __future__ import annotations

import argparse
from pathlib import Path

from service.commands import CommandError, Subparsers, add_db_option, open_sessions
from service.returns import desk, return_label
from service.returns.states import Disposition, ReturnStatus
from service.stock.allocation import serve_noted_backorders

ACTOR = "cli:return"


def register(subparsers: Subparsers) -> None:
    """Add the `return` command group."""
    ret = subparsers.add_parser(
        "return",
        help="returns (RMAs): create, receive units, close, list, show",
        description="A return belongs to a shipped order and moves expected -> received -> "
        "inspected -> closed. Each unit booked in gets a disposition (restock, b_grade, "
        "write_off) with its stock movement; units expected but not booked in when the "
        "return closes are recorded as missing.",
    )
    actions = ret.add_subparsers(dest="return_action", metavar="ACTION")

    create = actions.add_parser("create", help="announce a return of a shipped order")
    add_db_option(create)
    create.add_argument("--order", required=True, metavar="NUMBER", help="e.g. ORD-100123")
    create.add_argument(
        "--line",
        required=True,
        action="append",
        metavar="SKU:QTY",
        help="a line expected back (repeat for several), e.g. MUG-350:1",
    )
    create.add_argument("--reason", required=True, help="why it comes back")
    create.set_defaults(handler=run_create)

    receive = actions.add_parser("receive", help="book one unit in with its disposition")
    add_db_option(receive)
    receive.add_argument("code", metavar="RMA", help="e.g. RMA-000012")
    receive.add_argument("--sku", required=True)
    receive.add_argument(
        "--disposition",
        required=True,
        choices=[d.value for d in Disposition if d is not Disposition.MISSING],
    )
    receive.add_argument("--reason", default=None, help="damaged, wrong_item, not_ours, ...")
    receive.set_defaults(handler=run_receive)

    close = actions.add_parser("close", help="close a return (unbooked units become missing)")
    add_db_option(close)
    close.add_argument("code", metavar="RMA")
    close.set_defaults(handler=run_close)

    lst = actions.add_parser("list", help="returns, oldest first")
    add_db_option(lst)
    lst.add_argument("--status", choices=[s.value for s in ReturnStatus], default=None)
    lst.add_argument("--limit", type=int, default=100)
    lst.set_defaults(handler=run_list)

    show = actions.add_parser("show", help="one return with its lines and units")
    add_db_option(show)
    show.add_argument("code", metavar="RMA")
    show.set_defaults(handler=run_show)

    label = actions.add_parser(
        "label",
        help="issue a house-carrier return label for a shipped order",
        description="Books a house-carrier return parcel from the customer's address to the "
        "warehouse with its own tracking number, for the order's return (the one named with "
        "--rma, else its open return, else a new return of every unit not yet back), and "
        "writes the label as PDF (to e-mail) and ZPL (for a label printer).",
    )
    add_db_option(label)
    label.add_argument("order", metavar="ORDER", help="e.g. ORD-100123")
    label.add_argument("--rma", default=None, metavar="CODE", help="the return, e.g. RMA-000012")
    label.add_argument(
        "--again", action="store_true", help="void the order's live return label, issue a new one"
    )
    label.add_argument(
        "--out",
        default=None,
        metavar="FILE",
        help="where to write the PDF (default: return-label-ORDER.pdf here); "
        "the ZPL goes beside it with .zpl",
    )
    label.set_defaults(handler=run_label)


def _print(v: desk.ReturnView) -> None:
    print(f"{v.code}  order {v.order_number}  {v.status}  ({v.source})  {v.reason}")
    for line in v.expected:
        print(f"  expected {line['quantity']} x {line['sku']}")
    for unit in v.units:
        why = f" ({unit['reason']})" if unit["reason"] else ""
        print(f"  unit {unit['sku']}: {unit['disposition']}{why}  by {unit['by']}")


def _lines(raw: list[str]) -> dict[str, int]:
    lines: dict[str, int] = {}
    for item in raw:
        sku, sep, qty = item.rpartition(":")
        if not sep or not sku.strip() or not qty.strip().isdigit() or int(qty) < 1:
            raise CommandError(f"--line {item!r}: write SKU:QTY, e.g. MUG-350:1.")
        lines[sku.strip()] = lines.get(sku.strip(), 0) + int(qty)
    return lines


def run_create(args: argparse.Namespace) -> int:
    """Create a return."""
    lines = _lines(args.line)
    with open_sessions(args)() as session, session.begin():
        view = desk.create(session, args.order, lines, reason=args.reason, actor=ACTOR)
    _print(view)
    return 0


def run_receive(args: argparse.Namespace) -> int:
    """Book a unit in."""
    disposition = Disposition(args.disposition)
    with open_sessions(args)() as session:
        with session.begin():
            view = desk.receive(
                session, args.code, args.sku, disposition, reason=args.reason, actor=ACTOR
            )
        served = serve_noted_backorders(session, actor=ACTOR)
        if served:
            print(f"allocated from backorder: {', '.join(served)}")
    _print(view)
    return 0


def run_close(args: argparse.Namespace) -> int:
    """Close a return."""
    with open_sessions(args)() as session, session.begin():
        view = desk.close(session, args.code, actor=ACTOR)
    _print(view)
    return 0


def run_list(args: argparse.Namespace) -> int:
    """List returns."""
    if not 1 <= args.limit <= desk.MAX_LISTED:
        raise CommandError(f"--limit is 1 to {desk.MAX_LISTED}.")
    status = ReturnStatus(args.status) if args.status else None
    with open_sessions(args)() as session:
        views = desk.listing(session, status, args.limit)
    for v in views:
        print(f"{v.code}  {v.order_number}  {v.status:<9}  {v.source:<8}  {len(v.units)} units")
    if not views:
        print("no returns")
    return 0


def run_show(args: argparse.Namespace) -> int:
    """Show one return."""
    with open_sessions(args)() as session:
        _print(desk.show(session, args.code))
    return 0


def run_label(args: argparse.Namespace) -> int:
    """Issue a return label and write it to files."""
    pdf_path = Path(args.out or f"return-label-{args.order.strip().upper()}.pdf")
    zpl_path = pdf_path.with_suffix(".zpl")
    if not pdf_path.parent.is_dir():
        raise CommandError(f"--out {pdf_path}: folder {pdf_path.parent} does not exist.")
    if pdf_path.suffix.lower() != ".pdf":
        raise CommandError(f"--out {pdf_path}: name the file .pdf, e.g. return-label.pdf.")
    with open_sessions(args)() as session, session.begin():
        issued = return_label.issue(
            session, args.order, rma_code=args.rma, again=args.again, actor=ACTOR
        )
    pdf_path.write_bytes(issued.pdf)
    zpl_path.write_bytes(issued.zpl)
    print(
        f"return label {issued.tracking_number} for {issued.order_number} "
        f"({issued.return_code}): {pdf_path} and {zpl_path}"
    )
    for old in issued.replaced:
        print(f"  replaced {old}: that label is void")
    return 0
