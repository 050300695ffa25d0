"""GTIN normalisation: GTIN-8/12/13/14 with a valid check digit become one GTIN-14.

Products carry GTINs in whatever length the supplier printed; comparing normalised
GTIN-14 strings lets an EAN-13 on the shelf match a GTIN-14 in the catalogue.
"""

from __future__ import annotations

GTIN_LENGTHS = frozenset({8, 12, 13, 14})


def gtin_check_digit(body: str) -> int:
    """GS1 mod-10 check digit for the digits in `body` (everything but the check digit)."""
    total = 0
    # Weights alternate 3,1,3,... counted from the rightmost digit of the body.
    for index, char in enumerate(reversed(body)):
        total += int(char) * (3 if index % 2 == 0 else 1)
    return (10 - total % 10) % 10


def normalise_gtin(text: str) -> str | None:
    """Return the GTIN-14 for a GTIN-8/12/13/14 string, or None when it is not a valid GTIN."""
    digits = text.strip()
    # isdigit() alone accepts e.g. Arabic-Indic digits; GTINs are ASCII only.
    if len(digits) not in GTIN_LENGTHS or not digits.isascii() or not digits.isdigit():
        return None
    if gtin_check_digit(digits[:-1]) != int(digits[-1]):
        return None
    return digits.zfill(14)
