"""Is this scan a serial number of that product? Refuse fragments and product codes, say why.

A keyboard-wedge burst cut in two once recorded `-MINI` (the end of SKU `SPK-BT-MINI`) as a
serial number. A serial must match the product's serial pattern from the catalogue (or a
default one), be long enough, and must not be, or be part of, a code the station knows.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

from app.packing.gtin import normalise_gtin
from app.packing.matching import clean_serial
from app.packing.model import Catalog, LineView, OrderView, code_key
from app.scanning.scan import ScanKind

log = logging.getLogger(__name__)

#: Letters and digits, with - . / _ inside (never at either end), when the catalogue has none.
DEFAULT_SERIAL_PATTERN = r"[A-Za-z0-9](?:[A-Za-z0-9._/-]*[A-Za-z0-9])?"
MIN_SERIAL_LENGTH = 5  # shorter reads are almost always a cut-off burst
MIN_FRAGMENT_LENGTH = 3  # a shorter piece of a product code is no evidence either way

_KIND_NAMES = {
    ScanKind.ORDER: "an order number",
    ScanKind.TOTE: "a tote code",
    ScanKind.BADGE: "a badge",
    ScanKind.COMMAND: "a command barcode",
    ScanKind.TRACKING: "a tracking number",
    ScanKind.SSCC: "a shipping container code (SSCC)",
}


@dataclass(frozen=True, slots=True)
class SerialVerdict:
    """A serial fit to record (`serial`), or the sentence that says why not (`refusal`)."""

    serial: str | None = None
    refusal: str = ""


def check_serial(
    text: str, kind: ScanKind, line: LineView, order: OrderView, catalog: Catalog
) -> SerialVerdict:
    """Judge `text`, scanned while the session waits for the serial number of `line`."""
    ask = f"Scan the serial number of {line.name}."
    if kind in _KIND_NAMES:
        return SerialVerdict(refusal=f"That is {_KIND_NAMES[kind]}, not a serial number. {ask}")
    serial = clean_serial(text)
    if serial is None:
        return SerialVerdict(refusal=f"That is not a serial number. {ask}")
    product = _product_with_code(serial, order, catalog)
    if product is not None:
        return SerialVerdict(
            refusal=f"{serial} is the product code of {product}, not a serial number. {ask}"
        )
    whole = _code_containing(serial, order, catalog)
    if whole is not None:
        return SerialVerdict(
            refusal=f"{serial} is only part of the product code {whole}: the scan was cut "
            f"short. {ask}"
        )
    pattern = _pattern(line.serial_pattern)
    if line.serial_pattern is None and len(serial) < MIN_SERIAL_LENGTH:
        return SerialVerdict(
            refusal=f"{serial} is too short for a serial number (at least "
            f"{MIN_SERIAL_LENGTH} characters). {ask}"
        )
    if pattern.fullmatch(serial) is None:
        return SerialVerdict(
            refusal=f"{serial} does not look like a serial number of {line.name}. {ask}"
        )
    return SerialVerdict(serial=serial)


def check_gs1_serial(serial: str, line: LineView) -> SerialVerdict:
    """A serial from GS1 AI 21: its field is delimited, so only the product's own pattern
    (when the catalogue has one) can refuse it."""
    if line.serial_pattern is not None and _pattern(line.serial_pattern).fullmatch(serial) is None:
        return SerialVerdict(
            refusal=f"{serial} does not look like a serial number of {line.name}. "
            f"Scan the serial number of {line.name}."
        )
    return SerialVerdict(serial=serial)


def _product_with_code(serial: str, order: OrderView, catalog: Catalog) -> str | None:
    """The name of the product whose SKU, alias or GTIN `serial` is, if any."""
    key = code_key(serial)
    for line in order.lines:
        if key == code_key(line.sku) or key in {code_key(a) for a in line.aliases}:
            return line.name or line.sku
    gtin14 = normalise_gtin(serial) if serial.isdigit() else None
    if gtin14 is not None:
        for line in order.lines:
            if gtin14 in {normalise_gtin(g) for g in line.gtins}:
                return line.name or line.sku
        found = catalog.by_gtin14(gtin14)
        if found is not None:
            return found.name or found.sku
    found = catalog.by_code(serial)
    return (found.name or found.sku) if found is not None else None


def _code_containing(serial: str, order: OrderView, catalog: Catalog) -> str | None:
    """A longer product code of which `serial` is a piece (a burst cut in two)."""
    key = code_key(serial)
    if len(key) < MIN_FRAGMENT_LENGTH:
        return None
    for line in order.lines:
        for code in (line.sku, *line.aliases, *line.gtins):
            if key in code_key(code) and key != code_key(code):
                return code
    return catalog.code_containing(serial)


@lru_cache(maxsize=256)
def _pattern(pattern: str | None) -> re.Pattern[str]:
    if pattern:
        try:
            return re.compile(pattern)
        except re.error as exc:
            log.error("serial pattern %r is not a valid regex (%s); default used", pattern, exc)
    return re.compile(DEFAULT_SERIAL_PATTERN)
