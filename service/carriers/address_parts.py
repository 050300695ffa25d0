"""Address parts carriers want apart: given name and surname, street and house number."""

from __future__ import annotations

import re

_HOUSE_NUMBER = re.compile(r"^(?P<street>.*?)[\s,]+(?P<number>\d+[\w/-]*)$")


def split_name(full: str) -> tuple[str, str]:
    """Given name and surname, which Packeta wants apart (one word: the same in both)."""
    first, _, last = full.strip().rpartition(" ")
    return (first or last), last


def split_street(street: str) -> tuple[str, str]:
    """Street and house number from one line ("Na Pankráci 969/97" -> both parts)."""
    match = _HOUSE_NUMBER.match(street.strip())
    if match is None:
        return street.strip(), ""
    return match["street"], match["number"]
