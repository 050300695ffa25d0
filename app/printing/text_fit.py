"""Fit an address block into a rectangle: wrap, then shrink to a floor size, then abbreviate.

The order is stated and fixed so a label never changes by surprise:
1. wrap each line at word boundaries (a word wider than the block is split);
2. shrink the type in 0.2 mm steps down to the floor size;
3. abbreviate street-type words to their postal short forms (`STREET_ABBREVIATIONS`);
4. join the middle lines (everything between the name and the last two lines, which carry
   postcode/town and country) into one comma-separated line, then wrap again.
If even that does not fit the label is refused with the reason: no line is ever dropped,
least of all the country.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from app.printing.errors import LabelTooLarge
from app.printing.model import wrap_text

LINE_PITCH = 1.2  # baseline-to-baseline distance as a multiple of the type size
# Whole words (case-sensitive) and their short forms, as the national posts print them.
STREET_ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("Bulevardul", "Bd."),
    ("Boulevard", "Bd."),
    ("Strada", "Str."),
    ("Straße", "Str."),
    ("Strasse", "Str."),
    ("Avenue", "Av."),
    ("Avenida", "Av."),
    ("Calea", "Cal."),
    ("Ulica", "ul."),
    ("ulica", "ul."),
    ("Náměstí", "nám."),
    ("náměstí", "nám."),
    ("Piazza", "P.za"),
    ("Allee", "Al."),
    ("Platz", "Pl."),
    ("Gasse", "G."),
    ("Apartament", "Ap."),
    ("Bloc", "Bl."),
    ("Scara", "Sc."),
    ("Etaj", "Et."),
)
# German compounds: "Hauptstraße" -> "Hauptstr.".
_SUFFIXES = re.compile(r"(?<=\w)(straße|strasse)\b")


@dataclass(frozen=True, slots=True)
class FittedBlock:
    """The lines as they will print, their type size and what had to be done to fit them."""

    lines: tuple[tuple[str, bool], ...]  # (text, bold)
    size_mm: float
    steps: tuple[str, ...]

    @property
    def pitch_mm(self) -> float:
        return self.size_mm * LINE_PITCH


_SHORT = dict(STREET_ABBREVIATIONS)
_WORDS = re.compile(r"\b(" + "|".join(re.escape(w) for w, _ in STREET_ABBREVIATIONS) + r")\b")


def abbreviate(line: str) -> str:
    """Street-type words to their short forms (`STREET_ABBREVIATIONS`)."""
    return _WORDS.sub(lambda m: _SHORT[m.group(1)], _SUFFIXES.sub("str.", line))


def _wrapped(
    lines: list[str], size: float, width: float, bold_first: bool
) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    for index, line in enumerate(lines):
        bold = bold_first and index == 0
        out += [(part, bold) for part in wrap_text(line, size, width, bold)]
    return out


def _candidates(text: list[str]) -> Iterator[tuple[str, list[str]]]:
    """The lines as given, then abbreviated, then with the middle lines joined (lazily)."""
    yield "wrapped", text
    short = [abbreviate(line) for line in text]
    if short != text:
        yield "abbreviated", short
    if len(short) > 3:
        yield "joined", [short[0], ", ".join(short[1:-2]), *short[-2:]]


def fit_block(
    lines: tuple[str, ...] | list[str],
    width_mm: float,
    height_mm: float,
    size_mm: float,
    floor_mm: float,
    bold_first: bool = True,
    what: str = "address",
) -> FittedBlock:
    """Lines laid out to fit width x height, or `LabelTooLarge` saying why they cannot."""
    text = [" ".join(line.split()) for line in lines if line.strip()]
    if not text:
        raise LabelTooLarge(f"The {what} is empty: add it to the order before printing")
    steps: list[str] = []
    needed = 0
    for step, candidate in _candidates(text):
        steps.append(step)
        size = size_mm
        while size >= floor_mm - 1e-9:
            laid = _wrapped(candidate, size, width_mm, bold_first)
            # The last line needs only its own height, not a full pitch below it.
            if (len(laid) - 1) * size * LINE_PITCH + size * 1.05 <= height_mm:
                if size < size_mm:
                    steps.insert(len(steps) - 1, f"shrunk to {size:.1f} mm")
                return FittedBlock(tuple(laid), round(size, 2), tuple(steps))
            needed = len(laid)
            size = round(size - 0.2, 2)
    room = int((height_mm - floor_mm * 1.05) // (floor_mm * LINE_PITCH)) + 1
    raise LabelTooLarge(
        f"The {what} needs {needed} lines even at the smallest print size "
        f"({floor_mm:g} mm) with street words abbreviated; the label has room for {room}. "
        f"Shorten the {what} in the order and print again",
        detail=" | ".join(text)[:200],
    )
