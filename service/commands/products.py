"""`product import|list|show|sync`: load and look at the catalogue."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import func, or_, select

from service.catalogue.csv_file import COLUMN_HELP, read_catalogue
from service.catalogue.fields import normalise_sku
from service.catalogue.revalidate import revalidate_all_held
from service.catalogue.shop_sync import SyncFailed, sync_channel
from service.catalogue.store import apply_changes, check_changes, without_bad_rows
from service.commands import CommandError, Subparsers, add_db_option, open_sessions
from service.db import transaction
from service.models import LearnedUnitWeight, Product, ProductAlias, ProductGtin

ACTOR = "cli:product"


def register(subparsers: Subparsers) -> None:
    """Add the `product` command group."""
    product = subparsers.add_parser("product", help="load and look at the product catalogue")
    actions = product.add_subparsers(dest="product_action", metavar="ACTION")

    imp = actions.add_parser(
        "import",
        help="add or update products from a CSV file (upsert by SKU)",
        description="Add or update products from a CSV file, matched by SKU. A file with "
        "any problem imports nothing (each problem is printed with its row and column) "
        "unless --skip-bad-rows is given.",
        epilog=COLUMN_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_db_option(imp)
    imp.add_argument("file", type=Path, metavar="FILE.csv")
    imp.add_argument(
        "--skip-bad-rows",
        action="store_true",
        help="import the good rows and report the bad ones (a bad header still stops all)",
    )
    imp.set_defaults(handler=run_import)

    lst = actions.add_parser("list", help="list products, by SKU")
    add_db_option(lst)
    lst.add_argument("--search", default="", help="only SKUs or names containing this text")
    lst.add_argument("--inactive", action="store_true", help="include inactive products")
    lst.add_argument("--limit", type=int, default=100)
    lst.add_argument("--offset", type=int, default=0)
    lst.set_defaults(handler=run_list)

    show = actions.add_parser("show", help="everything about one product")
    add_db_option(show)
    show.add_argument("code", metavar="SKU", help="its SKU (or one of its GTINs or aliases)")
    show.set_defaults(handler=run_show)

    sync = actions.add_parser(
        "sync",
        help="load a Shopify shop's whole catalogue (GraphQL Admin API)",
        description="Page through the channel's Shopify catalogue and upsert every variant "
        "with a SKU. Needs the channel setting shop_url and the access token in the secret "
        "store under shopify:<channel>:token (as for publishing fulfilments).",
    )
    add_db_option(sync)
    sync.add_argument("--channel", required=True, metavar="NAME")
    sync.set_defaults(handler=run_sync)

    again = actions.add_parser(
        "revalidate",
        help="release orders held for unknown_sku whose products exist by now",
        description="Validate again every order held for a SKU that is now an active "
        "product. Loading products does this by itself; this sweep catches an order that "
        "arrived in the same instant as its product (safe to run on a schedule).",
    )
    add_db_option(again)
    again.set_defaults(handler=run_revalidate)


def run_import(args: argparse.Namespace) -> int:
    """Check the whole file, then upsert it in one transaction (or nothing)."""
    path: Path = args.file
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from exc
    parsed = read_catalogue(data)
    problems = list(parsed.problems)
    with transaction(open_sessions(args)) as session:
        changes = parsed.changes
        if args.skip_bad_rows and not parsed.file_unusable:
            changes, more = without_bad_rows(session, changes)
            problems.extend(more)
        else:
            problems.extend(check_changes(session, changes))
        for problem in sorted(problems, key=lambda p: (p.row or 0, p.field or "")):
            print(f"{path.name}: {problem}", file=sys.stderr)
        if parsed.file_unusable or (problems and not args.skip_bad_rows):
            print(
                f"{path.name}: {len(problems)} problem(s); nothing was imported.", file=sys.stderr
            )
            return 1
        report = apply_changes(session, changes, actor=ACTOR)
    skipped = len({p.row for p in problems})
    print(
        f"{len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged" + (f", {skipped} row(s) skipped" if skipped else "")
    )
    if report.released:
        print(f"orders no longer on hold: {', '.join(report.released)}")
    return 0


def _grams(value: int | None) -> str:
    return f"{value} g" if value is not None else "-"


def run_list(args: argparse.Namespace) -> int:
    """One product per line: SKU, name, weight, GTIN count, active."""
    query = select(Product).order_by(Product.sku)
    if not args.inactive:
        query = query.where(Product.active.is_(True))
    if args.search:
        like = f"%{args.search.strip()}%"
        query = query.where(or_(Product.sku.ilike(like), Product.name.ilike(like)))
    with transaction(open_sessions(args)) as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.limit(max(1, args.limit)).offset(max(0, args.offset)))
        for p in rows:
            state = "" if p.active else "\tinactive"
            gtins = ",".join(sorted(g.gtin14 for g in p.gtins)) or "-"
            print(f"{p.sku}\t{p.name}\t{_grams(p.weight_grams)}\t{gtins}{state}")
    print(f"{total} product(s)", file=sys.stderr)
    return 0


def run_show(args: argparse.Namespace) -> int:
    """The product with this SKU, GTIN or alias, one field per line."""
    code = normalise_sku(args.code)
    with transaction(open_sessions(args)) as session:
        product = session.scalar(select(Product).where(Product.sku == code))
        if product is None and code.isdigit():
            product = session.scalar(
                select(Product).join(ProductGtin).where(ProductGtin.gtin14 == code.zfill(14))
            )
        if product is None:
            product = session.scalar(
                select(Product).join(ProductAlias).where(ProductAlias.code == code)
            )
        if product is None:
            raise CommandError(f"No product has the SKU, GTIN or alias {args.code!r}.")
        size = (product.length_mm, product.width_mm, product.height_mm)
        weight = _grams(product.weight_grams)
        learned = session.get(LearnedUnitWeight, product.id)
        if learned is not None and learned.grams == product.weight_grams:
            weight += f" (learned from {learned.parcels} single-product parcels)"
        lines = [
            ("sku", product.sku),
            ("name", product.name),
            ("gtins", " ".join(sorted(g.gtin14 for g in product.gtins)) or "-"),
            ("aliases", " ".join(sorted(a.code for a in product.aliases)) or "-"),
            ("weight", weight),
            ("dimensions", "x".join(str(v) for v in size) + " mm" if all(size) else "-"),
            ("image_url", product.image_url or "-"),
            ("serial_required", "yes" if product.serial_required else "no"),
            ("serial_pattern", product.serial_pattern or "-"),
            ("active", "yes" if product.active else "no"),
        ]
    for key, value in lines:
        print(f"{key + ':':17}{value}")
    return 0


def run_sync(args: argparse.Namespace) -> int:
    """Load the shop's catalogue; report what changed."""
    try:
        result = sync_channel(open_sessions(args), args.channel, actor=f"sync:{args.channel}")
    except SyncFailed as exc:
        raise CommandError(str(exc)) from exc
    for problem in result.problems:
        print(f"{args.channel}: {problem.message}", file=sys.stderr)
    report = result.report
    print(
        f"{result.products_seen} shop product(s), {result.variants_seen} variant(s): "
        f"{len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {result.skipped} skipped"
    )
    if report.released:
        print(f"orders no longer on hold: {', '.join(report.released)}")
    return 0


def run_revalidate(args: argparse.Namespace) -> int:
    """Release what the catalogue now allows; print the order numbers."""
    with transaction(open_sessions(args)) as session:
        released = revalidate_all_held(session, actor=ACTOR)
    print(f"orders no longer on hold: {', '.join(released)}" if released else "nothing to release")
    return 0
