"""Check a set of product changes together, then upsert them by SKU in one transaction.

A change carries only the fields its source knows (a CSV without a `weight` column leaves
weights alone). Checks that need more than one value (duplicate SKUs, a GTIN claimed twice
or already another product's, a serial pattern without serials) happen here, before any
write, so a source can refuse the whole set when one change is wrong.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.catalogue.revalidate import revalidate_held_orders
from service.changes import mark_changed
from service.models import Product, ProductAlias, ProductGtin, ProductListing
from service.sync_server.snapshots import chunks

log = logging.getLogger(__name__)

SCALARS = (
    "name",
    "weight_grams",
    "length_mm",
    "width_mm",
    "height_mm",
    "image_url",
    "serial_required",
    "serial_pattern",
    "active",
)
FIELDS = (*SCALARS, "gtins", "aliases")


@dataclass
class ProductChange:
    """What one source says about the product with `sku` (normalised); `row` for messages."""

    sku: str
    values: dict[str, Any]
    row: int | None = None
    listing: tuple[int, str] | None = None  # (channel id, the shop's product id)
    label: str = ""  # how messages name where it came from, if not "row N"

    def place(self) -> str:
        """Where this change came from, for messages."""
        if self.label:
            return self.label
        return f"row {self.row}" if self.row is not None else "another item"


@dataclass(frozen=True)
class Problem:
    """One reason a change cannot be stored, naming where it came from."""

    row: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = [f"row {self.row}" if self.row is not None else "", self.field or ""]
        if self.field and self.row is not None:
            where[1] = f"column {self.field}"
        place = ", ".join(w for w in where if w)
        return f"{place}: {self.message}" if place else self.message

    def as_json(self) -> dict[str, Any]:
        """For API answers."""
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class UpsertReport:
    """What an upsert did: SKUs by outcome and the orders it took off hold."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """For API answers."""
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "released_orders": self.released,
        }


def _existing(session: Session, skus: Iterable[str]) -> dict[str, Product]:
    found: dict[str, Product] = {}
    for chunk in _str_chunks(sorted(set(skus))):
        for product in session.scalars(select(Product).where(Product.sku.in_(chunk))):
            found[product.sku] = product
    return found


def _str_chunks(items: Sequence[str], size: int = 900) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _owners(session: Session, model: Any, key: Any, codes: Iterable[str]) -> dict[str, str]:
    """code -> SKU of the product that has it now."""
    out: dict[str, str] = {}
    for chunk in _str_chunks(sorted(set(codes))):
        rows = session.execute(
            select(key, Product.sku)
            .join(Product, Product.id == model.product_id)
            .where(key.in_(chunk))
        )
        out.update({code: sku for code, sku in rows.tuples()})
    return out


def check_changes(session: Session, changes: Sequence[ProductChange]) -> list[Problem]:
    """Every problem that involves more than one value or the database; [] = can be applied."""
    problems: list[Problem] = []
    first_row: dict[str, ProductChange] = {}
    for change in changes:
        if change.sku in first_row:
            where = first_row[change.sku].place()
            problems.append(
                Problem(change.row, "sku", f"The SKU {change.sku} is already on {where}.")
            )
        else:
            first_row[change.sku] = change
    existing = _existing(session, first_row)
    for change in changes:
        product = existing.get(change.sku)
        if product is None and not change.values.get("name"):
            problems.append(Problem(change.row, "name", f"New product {change.sku} needs a name."))
        required = change.values.get(
            "serial_required", product.serial_required if product else False
        )
        pattern = change.values.get("serial_pattern", product.serial_pattern if product else None)
        if pattern and not required:
            problems.append(
                Problem(
                    change.row,
                    "serial_pattern",
                    "A serial pattern is given but serial_required is no; set it to yes "
                    "or leave the pattern empty.",
                )
            )
    for kind, model, key in (
        ("gtins", ProductGtin, ProductGtin.gtin14),
        ("aliases", ProductAlias, ProductAlias.code),
    ):
        problems.extend(_code_clashes(session, changes, kind, model, key))
    return problems


def _code_clashes(
    session: Session, changes: Sequence[ProductChange], kind: str, model: Any, key: Any
) -> list[Problem]:
    """A GTIN or alias given to two products, or already another product's."""
    problems: list[Problem] = []
    claimed: dict[str, ProductChange] = {}
    replacing = {c.sku for c in changes if kind in c.values}
    for change in changes:
        for code in change.values.get(kind, ()):
            other = claimed.setdefault(code, change)
            if other.sku != change.sku:
                problems.append(
                    Problem(
                        change.row, kind, f"{code} is also given to {other.sku} on {other.place()}."
                    )
                )
    label = "GTIN" if kind == "gtins" else "alias"
    for code, owner in _owners(session, model, key, claimed).items():
        change = claimed[code]
        # Another product keeps the code unless this set replaces that product's codes too.
        if owner != change.sku and owner not in replacing:
            problems.append(
                Problem(change.row, kind, f"The {label} {code} already belongs to SKU {owner}.")
            )
    return problems


def apply_changes(
    session: Session, changes: Sequence[ProductChange], *, actor: str
) -> UpsertReport:
    """Upsert checked changes by SKU, publish them to stations, and re-validate orders held
    for a product that is now known. Runs in the caller's transaction."""
    report = UpsertReport()
    existing = _existing(session, (c.sku for c in changes))
    touched: list[Product] = []
    # Codes are removed first and added after a flush, so a GTIN that moves between two
    # products of the same set never exists twice at once.
    new_codes: list[tuple[Product, list[str] | None, list[str] | None]] = []
    for change in changes:
        product = existing.get(change.sku)
        created = product is None
        if product is None:
            product = Product(sku=change.sku, serial_required=False, active=True)
            session.add(product)
            existing[change.sku] = product
        changed = created
        for name in SCALARS:
            if name in change.values and getattr(product, name) != change.values[name]:
                setattr(product, name, change.values[name])
                changed = True
        gtins = _replaced(product, change, "gtins")
        aliases = _replaced(product, change, "aliases")
        if gtins is not None:
            product.gtins.clear()
        if aliases is not None:
            product.aliases.clear()
        changed = changed or gtins is not None or aliases is not None
        new_codes.append((product, gtins, aliases))
        (report.created if created else report.updated if changed else report.unchanged).append(
            change.sku
        )
        if changed:
            touched.append(product)
    session.flush()
    for product, gtins, aliases in new_codes:
        product.gtins.extend(ProductGtin(gtin14=g) for g in gtins or ())
        product.aliases.extend(ProductAlias(code=a) for a in aliases or ())
    session.flush()
    _link_listings(session, changes, existing)
    for product in touched:
        mark_changed(session, "product", product.id)
    report.released = revalidate_held_orders(
        session, [p.sku for p in touched if p.active], actor=actor
    )
    return report


def _replaced(product: Product, change: ProductChange, kind: str) -> list[str] | None:
    """The new codes if the change gives them and they differ from the product's."""
    if kind not in change.values:
        return None
    wanted: list[str] = sorted(set(change.values[kind]))
    current = (
        sorted(g.gtin14 for g in product.gtins)
        if kind == "gtins"
        else sorted(a.code for a in product.aliases)
    )
    return wanted if wanted != current else None


def _link_listings(
    session: Session, changes: Sequence[ProductChange], products: dict[str, Product]
) -> None:
    wanted: dict[tuple[int, str], set[int]] = defaultdict(set)
    for change in changes:
        if change.listing is not None:
            wanted[change.listing].add(products[change.sku].id)
    for (channel_id, shop_id), ids in wanted.items():
        have = set(
            session.scalars(
                select(ProductListing.product_id).where(
                    ProductListing.channel_id == channel_id,
                    ProductListing.shop_product_id == shop_id,
                )
            )
        )
        session.add_all(
            ProductListing(channel_id=channel_id, shop_product_id=shop_id, product_id=pid)
            for pid in sorted(ids - have)
        )


def deactivate_listing(
    session: Session, channel_id: int, shop_product_id: str, *, actor: str
) -> list[str]:
    """The shop deleted its product: its SKUs stop being active (unless another listing
    still sells them) and the listing is forgotten. Returns the deactivated SKUs."""
    links = list(
        session.scalars(
            select(ProductListing).where(
                ProductListing.channel_id == channel_id,
                ProductListing.shop_product_id == shop_product_id,
            )
        )
    )
    ids = [link.product_id for link in links]
    for link in links:
        session.delete(link)
    session.flush()
    still_listed: set[int] = set()
    for chunk in chunks(ids):
        still_listed.update(
            session.scalars(
                select(ProductListing.product_id).where(ProductListing.product_id.in_(chunk))
            )
        )
    gone: list[str] = []
    for chunk in chunks(set(ids) - still_listed):
        for product in session.scalars(select(Product).where(Product.id.in_(chunk))):
            if product.active:
                product.active = False
                mark_changed(session, "product", product.id)
                gone.append(product.sku)
    log.info("shop product %s deleted by %s: deactivated %s", shop_product_id, actor, gone)
    return sorted(gone)


def without_bad_rows(
    session: Session, changes: Sequence[ProductChange]
) -> tuple[list[ProductChange], list[Problem]]:
    """The changes that pass check_changes once every change with a problem is left out,
    and all the problems found on the way."""
    good = list(changes)
    found: list[Problem] = []
    for _ in range(len(good) + 1):
        problems = check_changes(session, good)
        if not problems:
            break
        found.extend(problems)
        rows = {p.row for p in problems}
        bad = {id(c) for c in good if c.row in rows}
        if not bad:
            break  # problems that name no change: nothing left to leave out
        good = [c for c in good if id(c) not in bad]
    return good, found
