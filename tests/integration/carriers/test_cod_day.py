"""Cash on delivery for the finance team: each parcel's COD on the manifest (CSV and PDF) with
a total per currency, and the day's COD per carrier from `dispatch cod`, through the CLI as a
subprocess on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pypdfium2
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from service.models import OrderEvent
from tests.integration.carriers.conftest import pack
from tests.support.service_process import child_env, run_cli


def _pdf_text(path: Path) -> str:
    pdf = pypdfium2.PdfDocument(str(path))
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()


def test_the_manifest_lists_cod_per_parcel_and_totals_per_currency_and_the_day_report_agrees(
    service_db: tuple[str, Engine],
    sessions: sessionmaker[Session],
    make_order: Callable[..., int],
    tmp_path: Path,
) -> None:
    url, _engine = service_db
    env = child_env(tmp_path / "keyring.json", url)
    ron_a = make_order(payment_state="cod", total_amount=Decimal("249.90"), currency="RON")
    ron_b = make_order(payment_state="cod", total_amount=Decimal("100.15"), currency="RON")
    eur_two_boxes = make_order(payment_state="cod", total_amount=Decimal("80.00"), currency="EUR")
    prepaid = make_order(payment_state="paid", total_amount=Decimal("55.00"), currency="EUR")
    for oid in (ron_a, ron_b, prepaid):
        pack(sessions, oid, [900])
    eur_boxes = pack(sessions, eur_two_boxes, [700, 600])
    out = tmp_path / "out"
    out.mkdir()

    closed = run_cli(
        "dispatch", "close", "--carrier", "house", "--out", str(out), "--no-publish", env=env
    )
    assert closed.returncode == 0, closed.stderr
    (csv_file,) = out.glob("manifest-house-*.csv")
    (pdf_file,) = out.glob("manifest-house-*.pdf")
    rows = list(csv.DictReader(io.StringIO(csv_file.read_text(encoding="utf-8"))))
    parcels = [r for r in rows if r["order_number"].startswith("ORD-")]
    totals = [r for r in rows if r["order_number"] == "COD total"]
    assert rows[-len(totals) :] == totals  # the totals end the file
    by_tracking = {r["tracking_number"]: (r["cod_amount"], r["currency"]) for r in parcels}
    assert len(parcels) == 5
    # A COD order's cash is on its first parcel only: the courier collects it once.
    assert by_tracking[eur_boxes[0]] == ("80.00", "EUR")
    assert by_tracking[eur_boxes[1]] == ("", "")
    assert sorted(by_tracking.values()) == sorted(
        [("249.90", "RON"), ("100.15", "RON"), ("80.00", "EUR"), ("", ""), ("", "")]
    )
    assert [(t["cod_amount"], t["currency"]) for t in totals] == [
        ("80.00", "EUR"),
        ("350.05", "RON"),  # never added to the euros
    ]
    text = _pdf_text(pdf_file)
    assert "COD total EUR: 80.00 EUR" in text
    assert "COD total RON: 350.05 RON" in text
    assert "249.90 RON" in text and "100.15 RON" in text

    with sessions() as s:
        shipped_at = s.scalars(
            select(OrderEvent.at).where(
                OrderEvent.order_id == ron_a, OrderEvent.to_status == "shipped"
            )
        ).one()
    day = shipped_at.date().isoformat()

    report = run_cli("dispatch", "cod", "--carrier", "house", "--date", day, env=env)
    assert report.returncode == 0, report.stderr
    assert "COD total house EUR: 80.00 EUR (1 order(s))" in report.stdout
    assert "COD total house RON: 350.05 RON (2 order(s))" in report.stdout

    as_csv = run_cli("dispatch", "cod", "--carrier", "house", "--date", day, "--csv", env=env)
    assert as_csv.returncode == 0, as_csv.stderr
    day_rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert sorted((r["cod_amount"], r["currency"]) for r in day_rows[:3]) == [
        ("100.15", "RON"),
        ("249.90", "RON"),
        ("80.00", "EUR"),
    ]
    assert [(r["order_number"], r["cod_amount"], r["currency"]) for r in day_rows[3:]] == [
        ("COD total", "80.00", "EUR"),
        ("COD total", "350.05", "RON"),
    ]

    before = (shipped_at.date() - timedelta(days=1)).isoformat()
    empty = run_cli("dispatch", "cod", "--date", before, env=env)
    assert empty.returncode == 0 and "No cash on delivery shipped on" in empty.stdout


def test_bad_input_to_the_cod_report_says_what_to_do_and_changes_nothing(
    service_db: tuple[str, Engine], tmp_path: Path
) -> None:
    url, _engine = service_db
    env = child_env(tmp_path / "keyring.json", url)
    bad_date = run_cli("dispatch", "cod", "--date", "04.12.2026", env=env)
    assert bad_date.returncode != 0
    assert "is not a date; give it as YYYY-MM-DD" in bad_date.stderr
    assert "Traceback" not in bad_date.stderr
    unknown = run_cli("dispatch", "cod", "--carrier", "pigeon", env=env)
    assert unknown.returncode != 0 and "No carrier 'pigeon'" in unknown.stderr
