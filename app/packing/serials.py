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

from app.i18n import Msg, Text, join
from app.packing.gtin import normalise_gtin
from app.packing.matching import clean_serial
from app.packing.model import Catalog, LineView, OrderView, code_key
from app.scanning.scan import ScanKind

log = logging.getLogger(__name__)

#: Letters and digits, with - . / _ inside (never at either end), when the catalogue has none.
DEFAULT_SERIAL_PATTERN = r"[A-Za-z0-9](?:[A-Za-z0-9._/-]*[A-Za-z0-9])?"
MIN_SERIAL_LENGTH = 5  # shorter reads are almost always a cut-off burst
MIN_FRAGMENT_LENGTH = 3  # a shorter piece of a product code is no evidence either way

_KIND_REFUSALS = {
    ScanKind.ORDER: Msg("That is an order number, not a serial number."),
    # TRANSLATORS: "tote" is the picking crate the items arrive in.
    ScanKind.TOTE: Msg("That is a tote code, not a serial number."),
    ScanKind.BADGE: Msg("That is a badge, not a serial number."),
    ScanKind.COMMAND: Msg("That is a command barcode, not a serial number."),
    ScanKind.TRACKING: Msg("That is a tracking number, not a serial number."),
    ScanKind.SSCC: Msg("That is a shipping container code (SSCC), not a serial number."),
}


@dataclass(frozen=True, slots=True)
class SerialVerdict:
    """A serial fit to record (`serial`), or the sentence that says why not (`refusal`)."""

    serial: str | None = None
    refusal: Text = ""


def check_serial(
    text: str, kind: ScanKind, line: LineView, order: OrderView, catalog: Catalog
) -> SerialVerdict:
    """Judge `text`, scanned while the session waits for the serial number of `line`."""
    ask = Msg("Scan the serial number of {product}.", product=line.name)
    if kind in _KIND_REFUSALS:
        return SerialVerdict(refusal=join(_KIND_REFUSALS[kind], ask))
    serial = clean_serial(text)
    if serial is None:
        return SerialVerdict(refusal=join(Msg("That is not a serial number."), ask))
    product = _product_with_code(serial, order, catalog)
    if product is not None:
        refusal = Msg(
            "{serial} is the product code of {product}, not a serial number.",
            serial=serial,
            product=product,
        )
        return SerialVerdict(refusal=join(refusal, ask))
    whole = _code_containing(serial, order, catalog)
    if whole is not None:
        refusal = Msg(
            "{serial} is only part of the product code {code}: the scan was cut short.",
            serial=serial,
            code=whole,
        )
        return SerialVerdict(refusal=join(refusal, ask))
    pattern = _pattern(line.serial_pattern)
    if line.serial_pattern is None and len(serial) < MIN_SERIAL_LENGTH:
        refusal = Msg(
            "{serial} is too short for a serial number (at least {n} characters).",
            serial=serial,
            n=MIN_SERIAL_LENGTH,
        )
        return SerialVerdict(refusal=join(refusal, ask))
    if pattern.fullmatch(serial) is None:
        return SerialVerdict(refusal=join(_not_like(serial, line.name), ask))
    return SerialVerdict(serial=serial)


def check_gs1_serial(serial: str, line: LineView) -> SerialVerdict:
    """A serial from GS1 AI 21: its field is delimited, so only the product's own pattern
    (when the catalogue has one) can refuse it."""
    if line.serial_pattern is not None and _pattern(line.serial_pattern).fullmatch(serial) is None:
        ask = Msg("Scan the serial number of {product}.", product=line.name)
        return SerialVerdict(refusal=join(_not_like(serial, line.name), ask))
    return SerialVerdict(serial=serial)


def _not_like(serial: str, name: str) -> Msg:
    return Msg(
        "{serial} does not look like a serial number of {product}.", serial=serial, product=name
    )


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
