"""The catalogue CSV: one product per row, read into ProductChanges or problems.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first product row 2.
A column left out of the file leaves that value of existing products alone; an empty cell in
a column that is there clears the value (gtins, aliases, weight, dimensions, image_url,
serial_pattern) or means "no" (serial_required) / "yes" (active).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from service.catalogue.fields import (
    FieldError,
    parse_alias,
    parse_bool,
    parse_dimensions,
    parse_gtin,
    parse_name,
    parse_pattern,
    parse_sku,
    parse_url,
    parse_weight,
    split_codes,
)
from service.catalogue.store import Problem, ProductChange

MAX_ROWS = 100_000
REQUIRED_COLUMNS = ("sku", "name")
OPTIONAL_COLUMNS = (
    "gtins",
    "aliases",
    "weight",
    "dimensions",
    "image_url",
    "serial_required",
    "serial_pattern",
    "active",
)
COLUMNS = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)

# Shown by `product import --help` and kept in step with docs/catalogue.md by a test.
COLUMN_HELP = """\
CSV columns (header row first, any order; separated by "," or ";"; UTF-8):
  sku              required  the warehouse SKU, matched upper case (at most 64 characters)
  name             required  product name as the packer sees it
  gtins                      GTIN-8/12/13/14 barcodes, several separated by "|" or spaces;
                             the check digit must be right
  aliases                    other codes (supplier code, old SKU), separated by "|" or spaces
  weight                     unit weight with its unit: g, kg, lb or oz (e.g. "250 g")
  dimensions                 length x width x height and one unit: mm, cm, m or in
                             (e.g. "30x20x10 cm")
  image_url                  http(s) URL of a product picture
  serial_required            yes/no: the packer scans a serial number per item
  serial_pattern             regular expression a whole serial must match (needs
                             serial_required yes), e.g. "SN[0-9]{8}"
  active                     yes/no (default yes); inactive products hold new orders
A column left out keeps existing products' values; an empty cell clears the value."""


@dataclass
class CsvCatalogue:
    """What a catalogue CSV holds: changes from good rows, problems, and whether any
    problem concerns the whole file (then nothing can be imported)."""

    changes: list[ProductChange] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    file_unusable: bool = False


def _decode(data: bytes) -> tuple[str | None, list[Problem]]:
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    problems: list[Problem] = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad = line[exc.start : exc.start + 1].hex().upper()
            problems.append(
                Problem(
                    number,
                    None,
                    f"byte 0x{bad} at position {exc.start + 1} is not UTF-8; save the file "
                    "as UTF-8 (in Excel: 'CSV UTF-8').",
                )
            )
    return None, problems


def _delimiter(first_line: str) -> str:
    return ";" if first_line.count(";") > first_line.count(",") else ","


def _codes(parse: Callable[[str, str], str], text: str, column: str) -> list[str]:
    return [parse(code, column) for code in split_codes(text)]


def _dimensions(text: str, column: str) -> dict[str, Any]:
    size = parse_dimensions(text, column)
    length, width, height = size if size is not None else (None, None, None)
    return {"length_mm": length, "width_mm": width, "height_mm": height}


# Column -> how its cell becomes product values.
_CELLS: dict[str, Callable[[str, str], dict[str, Any]]] = {
    "name": lambda text, col: {"name": parse_name(text, col)},
    "gtins": lambda text, col: {"gtins": _codes(parse_gtin, text, col)},
    "aliases": lambda text, col: {"aliases": _codes(parse_alias, text, col)},
    "weight": lambda text, col: {"weight_grams": parse_weight(text, col)},
    "dimensions": _dimensions,
    "image_url": lambda text, col: {"image_url": parse_url(text, col)},
    "serial_required": lambda text, col: {"serial_required": parse_bool(text, col)},
    "serial_pattern": lambda text, col: {"serial_pattern": parse_pattern(text, col)},
    "active": lambda text, col: {"active": parse_bool(text or "yes", col)},
}


def read_catalogue(data: bytes) -> CsvCatalogue:
    """Every row of the file as a ProductChange, or the problems of each bad row."""
    out = CsvCatalogue()
    text, problems = _decode(data)
    if text is None:
        out.problems, out.file_unusable = problems, True
        return out
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    doubled = sorted({h for h in header if header.count(h) > 1})
    for columns, what in ((missing, "missing"), (unknown, "unknown"), (doubled, "repeated")):
        if columns:
            names = ", ".join(columns)
            out.problems.append(
                Problem(1, None, f"header: {what} column(s) {names}; see --help for the columns.")
            )
    if out.problems:
        out.file_unusable = True
        return out
    for row_no, cells in enumerate(reader, start=2):
        if row_no > MAX_ROWS + 1:
            too_many = f"more than {MAX_ROWS} rows; split the file."
            out.problems.append(Problem(row_no, None, too_many))
            out.file_unusable = True
            return out
        if not any(c.strip() for c in cells):
            continue  # a blank line
        if len(cells) > len(header):
            stray = "more cells than the header has columns (a stray separator?)."
            out.problems.append(Problem(row_no, None, stray))
            continue
        row = dict(zip(header, cells, strict=False))
        change = _row(row_no, row, out.problems)
        if change is not None:
            out.changes.append(change)
    return out


def _row(row_no: int, row: dict[str, str], problems: list[Problem]) -> ProductChange | None:
    before = len(problems)
    sku = ""
    try:
        sku = parse_sku(row.get("sku", ""), "sku")
    except FieldError as exc:
        problems.append(Problem(row_no, exc.field, exc.message))
    values: dict[str, Any] = {}
    for column, cell in _CELLS.items():
        if column not in row:
            continue
        try:
            values.update(cell(row[column], column))
        except FieldError as exc:
            problems.append(Problem(row_no, exc.field, exc.message))
    if len(problems) > before:
        return None
    return ProductChange(sku=sku, values=values, row=row_no)
