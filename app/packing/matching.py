"""Item matching: which order line(s) a product scan means, or why it means none.

Accepts SKU, GTIN-8/12/13/14 (normalised to GTIN-14), GS1 element strings (AI 01 with
10/17/21) and configured aliases. The order's own lines are tried first so an item in the
order matches even when the catalogue cache is stale; the catalogue then tells a known
product that is not in the order (wrong item) from a code nobody knows (unknown code).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from app.packing.gtin import normalise_gtin
from app.packing.model import Catalog, LineView, OrderView, ProductRef, code_key
from app.scanning.scan import Scan, ScanKind

MAX_SERIAL_LENGTH = 50  # AI 21 allows 20; manufacturers' own serial labels run longer


class MatchKind(StrEnum):
    IN_ORDER = "in_order"  # one or more lines of the order carry this product
    NOT_IN_ORDER = "not_in_order"  # a known product, but not one this order wants
    UNKNOWN = "unknown"  # no product has this code
    NO_PRODUCT_CODE = "no_product_code"  # a GS1 string without AI 01


@dataclass(frozen=True, slots=True)
class Match:
    """What a product scan resolved to."""

    kind: MatchKind
    lines: tuple[LineView, ...] = ()  # candidate lines, in order-line order
    product: ProductRef | None = None  # set for NOT_IN_ORDER
    serial: str | None = None  # from GS1 AI 21
    lot: str | None = None  # from GS1 AI 10
    expiry: date | None = None  # from GS1 AI 17 (day 00 is the month's last day)


def clean_serial(text: str) -> str | None:
    """A serial number fit to record, or None when it is empty, too long or has control bytes."""
    serial = text.strip()
    if not serial or len(serial) > MAX_SERIAL_LENGTH or not serial.isprintable():
        return None
    return serial


def _ai_text(ais: dict[str, Any], ai: str) -> str | None:
    value = ais.get(ai)
    return None if value is None else str(value).strip()


def scan_gtin14(scan: Scan) -> str | None:
    """The GTIN-14 a scan carries: from the scanner's parse, AI 01, or the digits themselves."""
    if scan.kind is ScanKind.GS1:
        candidate = _ai_text(scan.ais, "01") or scan.gtin14
    else:
        candidate = scan.gtin14 or scan.text
    return normalise_gtin(candidate) if candidate else None


def _line_has_code(line: LineView, key: str) -> bool:
    return code_key(line.sku) == key or any(code_key(alias) == key for alias in line.aliases)


def _lines_for_product(order: OrderView, product: ProductRef) -> tuple[LineView, ...]:
    sku = code_key(product.sku)
    return tuple(
        line
        for line in order.lines
        if (line.product_id is not None and line.product_id == product.product_id)
        or code_key(line.sku) == sku
    )


def match_scan(order: OrderView, catalog: Catalog, scan: Scan) -> Match:
    """Resolve a PRODUCT, GS1 or UNKNOWN scan against the order and the catalogue."""
    serial = lot = expiry = None
    if scan.kind is ScanKind.GS1:
        raw_serial = _ai_text(scan.ais, "21")
        serial = clean_serial(raw_serial) if raw_serial is not None else None
        lot = _ai_text(scan.ais, "10")
        parsed = scan.ai_values.get("17")
        expiry = parsed if isinstance(parsed, date) else None
    gtin14 = scan_gtin14(scan)
    if scan.kind is ScanKind.GS1 and gtin14 is None:
        return Match(MatchKind.NO_PRODUCT_CODE, serial=serial, lot=lot, expiry=expiry)

    lines: tuple[LineView, ...] = ()
    product: ProductRef | None = None
    if gtin14 is not None:
        lines = order.lines_with_gtin14(gtin14)
        if not lines:
            product = catalog.by_gtin14(gtin14)
    # A GS1 string is only ever a GTIN; plain text may also be an SKU or alias, even
    # when it happens to be a valid GTIN (numeric SKUs exist).
    if not lines and product is None and scan.kind is not ScanKind.GS1:
        key = code_key(scan.text)
        lines = tuple(line for line in order.lines if _line_has_code(line, key))
        if not lines:
            product = catalog.by_code(scan.text)
    if not lines and product is not None:
        # The catalogue may know a code the cached line does not (a new alias).
        lines = _lines_for_product(order, product)
    if lines:
        return Match(MatchKind.IN_ORDER, lines=lines, serial=serial, lot=lot, expiry=expiry)
    if product is not None:
        return Match(MatchKind.NOT_IN_ORDER, product=product, serial=serial)
    return Match(MatchKind.UNKNOWN, serial=serial)
