"""The plain values the pack session works on: the open order, its lines, the catalogue.

The station builds these from its local SQLite cache; tests build them by hand. They are
frozen so a progress snapshot can hold them without copying.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from app.packing.gtin import normalise_gtin

#: Empty-box weights in grams; stations may configure their own catalogue.
DEFAULT_BOX_WEIGHTS: Mapping[str, int] = {"S": 150, "M": 250, "L": 400, "MAILER": 30}
DEFAULT_BOX_TYPE = "M"


@dataclass(frozen=True, slots=True)
class ProductRef:
    """A catalogue product as far as packing cares: identity, codes, weight, serial rule."""

    product_id: int
    sku: str
    name: str = ""
    weight_grams: int | None = None
    serial_required: bool = False
    gtins: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    serial_pattern: str | None = None  # regex a serial must match in full; None: the default


@dataclass(frozen=True, slots=True)
class LineView:
    """One order line with the product facts needed to verify, weigh and serialise it."""

    line_id: int
    sku: str
    name: str
    quantity: int
    product_id: int | None = None
    serial_required: bool = False
    weight_grams: int | None = None
    gtins: tuple[str, ...] = ()  # any GTIN length; matched after normalising to GTIN-14
    aliases: tuple[str, ...] = ()
    serial_pattern: str | None = None  # the product's; None: the default pattern
    image_url: str | None = None  # the product's picture, shown while packing (never waited for)


@dataclass(frozen=True, slots=True)
class OrderView:
    """The order being packed, as the station's cache knows it."""

    id: int
    number: str
    status: str
    lines: tuple[LineView, ...]
    lease_epoch: int | None = None
    carrier: str = ""
    service: str = ""
    tote: str | None = None
    channel: str = ""
    notes: str = ""
    # Lines by id and by GTIN-14, built on first use (orders run to hundreds of lines and
    # every scan asks); never set by callers.
    _by_id: dict[int, LineView] | None = field(default=None, init=False, repr=False, compare=False)
    _by_gtin: dict[str, tuple[LineView, ...]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def line(self, line_id: int) -> LineView | None:
        """The line with this id, or None."""
        by_id = self._by_id
        if by_id is None:
            by_id = {}
            for line in self.lines:
                by_id.setdefault(line.line_id, line)  # the first, as a scan of the lines finds
            object.__setattr__(self, "_by_id", by_id)
        return by_id.get(line_id)

    def lines_with_gtin14(self, gtin14: str) -> tuple[LineView, ...]:
        """The lines (in line order) carrying a GTIN that normalises to `gtin14`."""
        by_gtin = self._by_gtin
        if by_gtin is None:
            found: dict[str, list[LineView]] = {}
            for line in self.lines:
                for key in dict.fromkeys(normalise_gtin(g) for g in line.gtins):
                    if key is not None:
                        found.setdefault(key, []).append(line)
            by_gtin = {key: tuple(lines) for key, lines in found.items()}
            object.__setattr__(self, "_by_gtin", by_gtin)
        return by_gtin.get(gtin14, ())

    @property
    def total_units(self) -> int:
        """How many single items the order holds in all."""
        return sum(line.quantity for line in self.lines)


class Catalog(Protocol):
    """Product lookup used to tell a wrong item (known product) from an unknown code."""

    def by_code(self, text: str) -> ProductRef | None:
        """The product whose SKU or alias is `text` (case-insensitive), or None."""
        ...

    def by_gtin14(self, gtin14: str) -> ProductRef | None:
        """The product with this normalised GTIN-14, or None."""
        ...

    def code_containing(self, fragment: str) -> str | None:
        """A longer SKU or alias that contains `fragment` (case-insensitive), or None."""
        ...


def code_key(text: str) -> str:
    """The form SKUs and aliases are compared in: trimmed and case-folded.

    Wedge scanners flip case when Caps Lock is on, so case must not decide a match.
    """
    return text.strip().casefold()


class DictCatalog:
    """An in-memory `Catalog`, for tests and demos."""

    def __init__(self, products: Iterable[ProductRef] = ()) -> None:
        self._by_code: dict[str, ProductRef] = {}
        self._by_gtin: dict[str, ProductRef] = {}
        for product in products:
            self.add(product)

    def add(self, product: ProductRef) -> None:
        """Index a product by SKU, aliases and every valid GTIN it carries."""
        self._by_code[code_key(product.sku)] = product
        for alias in product.aliases:
            self._by_code[code_key(alias)] = product
        for gtin in product.gtins:
            gtin14 = normalise_gtin(gtin)
            if gtin14 is not None:
                self._by_gtin[gtin14] = product

    def by_code(self, text: str) -> ProductRef | None:
        """The product whose SKU or alias is `text`, or None."""
        return self._by_code.get(code_key(text))

    def by_gtin14(self, gtin14: str) -> ProductRef | None:
        """The product with this GTIN-14, or None."""
        return self._by_gtin.get(gtin14)

    def code_containing(self, fragment: str) -> str | None:
        """A longer SKU or alias that contains `fragment`, or None."""
        key = code_key(fragment)
        for product in self._by_code.values():
            for code in (product.sku, *product.aliases):
                if key in code_key(code) and key != code_key(code):
                    return code
        return None
