"""Parsing and checking one product value: SKU, GTIN, weight, dimensions, URL, pattern.

Each parser takes the text an operator or a shop gave and returns the stored value, or
raises FieldError with a message that says what is wrong and what would be right.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

SKU_MAX = 64
NAME_MAX = 200
ALIAS_MAX = 64
URL_MAX = 500
PATTERN_MAX = 200

# Grams per unit. Shopify sends g/kg/lb/oz (REST) or GRAMS/KILOGRAMS/POUNDS/OUNCES (GraphQL).
WEIGHT_UNITS: dict[str, Decimal] = {
    "g": Decimal(1),
    "kg": Decimal(1000),
    "lb": Decimal("453.59237"),
    "lbs": Decimal("453.59237"),
    "oz": Decimal("28.349523125"),
    "grams": Decimal(1),
    "kilograms": Decimal(1000),
    "pounds": Decimal("453.59237"),
    "ounces": Decimal("28.349523125"),
}
# Millimetres per unit.
LENGTH_UNITS: dict[str, Decimal] = {
    "mm": Decimal(1),
    "cm": Decimal(10),
    "m": Decimal(1000),
    "in": Decimal("25.4"),
}
TRUE_WORDS = frozenset({"yes", "y", "true", "1"})
FALSE_WORDS = frozenset({"no", "n", "false", "0", ""})

_QUANTITY = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*([A-Za-z]+)\s*$")
_DIMENSIONS = re.compile(
    r"^\s*(\d+(?:[.,]\d+)?)\s*[x×]\s*(\d+(?:[.,]\d+)?)\s*[x×]\s*(\d+(?:[.,]\d+)?)\s*([A-Za-z]+)\s*$"
)


class FieldError(ValueError):
    """One value that cannot be stored; `field` names it (a CSV column / JSON field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def normalise_sku(text: str) -> str:
    """SKUs are matched upper case without surrounding whitespace (as order lines are)."""
    return text.strip().upper()


def parse_sku(text: str, field: str = "sku") -> str:
    """A SKU: 1-64 printable characters, stored upper case."""
    sku = normalise_sku(text)
    if not sku:
        raise FieldError(field, "The SKU is empty.")
    if len(sku) > SKU_MAX:
        raise FieldError(field, f"The SKU is {len(sku)} characters long; at most {SKU_MAX}.")
    if not sku.isprintable():
        raise FieldError(field, f"The SKU {sku!r} contains control characters.")
    return sku


def parse_name(text: str, field: str = "name") -> str:
    """A product name: 1-200 characters."""
    name = " ".join(text.split())
    if not name:
        raise FieldError(field, "The name is empty.")
    if len(name) > NAME_MAX:
        raise FieldError(field, f"The name is {len(name)} characters long; at most {NAME_MAX}.")
    return name


def parse_gtin(text: str, field: str = "gtins") -> str:
    """A GTIN-8/12/13/14 with a correct check digit, returned as GTIN-14 (biip checks it)."""
    # biip loads the GS1 prefix table on import (about 0.1 s): only the commands that read a
    # GTIN pay it, not every `packbench-service` command that imports the catalogue.
    from biip import ParseError
    from biip.gtin import Gtin

    code = text.strip()
    if not code.isdigit() or len(code) not in (8, 12, 13, 14):
        raise FieldError(field, f"{code!r} is not a GTIN: a GTIN is 8, 12, 13 or 14 digits.")
    try:
        return Gtin.parse(code).as_gtin_14()
    except ParseError as exc:
        raise FieldError(field, f"{code!r} is not a valid GTIN: {exc}") from exc


def parse_alias(text: str, field: str = "aliases") -> str:
    """Another code of the product (supplier code, old SKU), stored upper case."""
    code = text.strip().upper()
    if not code or len(code) > ALIAS_MAX or not code.isprintable():
        raise FieldError(field, f"{text!r} is not an alias: 1-{ALIAS_MAX} printable characters.")
    return code


def _number(text: str, field: str) -> Decimal:
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation as exc:  # the patterns only let digits through; kept for safety
        raise FieldError(field, f"{text!r} is not a number.") from exc


def grams(value: Decimal, unit: str, field: str = "weight") -> int:
    """A weight in `unit` as whole grams (half up); unknown units are refused."""
    factor = WEIGHT_UNITS.get(unit.strip().lower())
    if factor is None:
        raise FieldError(
            field, f"Unknown weight unit {unit!r}; use g, kg, lb or oz (for example '250 g')."
        )
    if value < 0:
        raise FieldError(field, "A weight cannot be negative.")
    return int((value * factor).quantize(Decimal(1), rounding="ROUND_HALF_UP"))


def millimetres(value: Decimal, unit: str, field: str = "dimensions") -> int:
    """A length in `unit` as whole millimetres (half up); unknown units are refused."""
    factor = LENGTH_UNITS.get(unit.strip().lower())
    if factor is None:
        raise FieldError(field, f"Unknown length unit {unit!r}; use mm, cm, m or in.")
    return int((value * factor).quantize(Decimal(1), rounding="ROUND_HALF_UP"))


def parse_weight(text: str, field: str = "weight") -> int | None:
    """'250 g', '0.25 kg', '1.5 lb', '8 oz' -> grams; empty -> None (unknown)."""
    if not text.strip():
        return None
    match = _QUANTITY.match(text)
    if match is None:
        raise FieldError(
            field, f"{text.strip()!r} is not a weight: write a number and a unit, e.g. '250 g'."
        )
    return grams(_number(match[1], field), match[2], field)


def parse_dimensions(text: str, field: str = "dimensions") -> tuple[int, int, int] | None:
    """'300x200x100 mm' (length x width x height, one unit) -> millimetres; empty -> None."""
    if not text.strip():
        return None
    match = _DIMENSIONS.match(text)
    if match is None:
        raise FieldError(
            field,
            f"{text.strip()!r} is not a size: write length x width x height and a unit, "
            "e.g. '30x20x10 cm'.",
        )
    unit = match[4]
    length, width, height = (millimetres(_number(match[i], field), unit, field) for i in (1, 2, 3))
    return length, width, height


def parse_url(text: str, field: str = "image_url") -> str | None:
    """An http(s) URL of at most 500 characters; empty -> None."""
    url = text.strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in url:
        raise FieldError(field, f"{url!r} is not an http or https URL.")
    if len(url) > URL_MAX:
        raise FieldError(field, f"The URL is {len(url)} characters long; at most {URL_MAX}.")
    return url


def parse_bool(text: str, field: str) -> bool:
    """yes/no, true/false, 1/0 (any case); empty is no."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise FieldError(field, f"{text.strip()!r} is not yes or no.")


def parse_pattern(text: str, field: str = "serial_pattern") -> str | None:
    """A regular expression a whole serial must match (Python `re` syntax); empty -> None."""
    pattern = text.strip()
    if not pattern:
        return None
    if len(pattern) > PATTERN_MAX:
        raise FieldError(field, f"The pattern is longer than {PATTERN_MAX} characters.")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise FieldError(field, f"{pattern!r} is not a valid regular expression: {exc}.") from exc
    return pattern


def split_codes(text: str) -> list[str]:
    """A cell with several codes, separated by "|" or spaces."""
    return [c for c in re.split(r"[|\s]+", text.strip()) if c]
