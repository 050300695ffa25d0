"""The settings dialog: scans go to the scanner test page (never to the order); printer tests."""

from __future__ import annotations

from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from pytestqt.qtbot import QtBot
from sqlalchemy import create_engine

from app.printing.printer import open_printer
from app.printing.queue import PrintQueue
from app.scanning.classify import classify
from app.station.diagnostics import PrinterDiagnostics
from app.views.settings_dialog import PrinterActions, SettingsDialog
from tests.support.pseudo import plain


@pytest.fixture
def diagnostics(tmp_path: Path) -> PrinterDiagnostics:
    queue = PrintQueue(create_engine(f"sqlite:///{tmp_path / 'q.sqlite3'}"))
    printer = open_printer(f"file://{tmp_path / 'labels'}?lang=zpl")
    return PrinterDiagnostics(queue, printer, f"pdf://{tmp_path / 'docs'}")


def test_scan_in_the_dialog_shows_its_details(
    qtbot: QtBot, diagnostics: PrinterDiagnostics
) -> None:
    actions = PrinterActions(
        diagnostics.test_page, diagnostics.calibrate, diagnostics.command_sheet
    )
    dialog = SettingsDialog(None, actions, {"Scanner": "wedge"})
    qtbot.addWidget(dialog)
    dialog.show_scan(classify(b"]E04006381333931"))
    assert plain(dialog.scanner_page.kind_label.text()).startswith("PRODUCT")
    assert dialog.scanner_page.aim_label.text() == "]E0"
    dialog.show_scan(classify(b"4006381333932"))  # wrong check digit
    assert plain(dialog.scanner_page.kind_label.text()).startswith("INVALID")


def test_test_page_and_calibration_are_queued(diagnostics: PrinterDiagnostics) -> None:
    assert "queued" in plain(diagnostics.test_page())
    assert "queued" in plain(diagnostics.calibrate())
    jobs = diagnostics.queue.jobs()
    assert [j.document_type for j in jobs] == ["test_page", "calibration"]
    assert jobs[1].payload.startswith(b"~JC")  # media calibration first, then the page
    assert b"^XA" in jobs[0].payload


def test_command_sheet_carries_decodable_override_barcodes(
    diagnostics: PrinterDiagnostics, tmp_path: Path
) -> None:
    message = plain(diagnostics.command_sheet())
    assert "sent" in message
    pdfs = list((tmp_path / "docs").glob("*.pdf"))
    assert len(pdfs) == 1
    found: set[str] = set()
    pdf = pypdfium2.PdfDocument(pdfs[0])
    for page in pdf:
        image = page.render(scale=200 / 72).to_pil()
        found |= {r.text for r in zxingcpp.read_barcodes(image)}
    assert "PB:CLOSE" in found
    assert "PB:OVR:CHECKED" in found


def test_no_document_printer_says_so(tmp_path: Path) -> None:
    queue = PrintQueue(create_engine(f"sqlite:///{tmp_path / 'q.sqlite3'}"))
    d = PrinterDiagnostics(queue, open_printer(f"file://{tmp_path}?lang=zpl"), "")
    assert "No document printer" in plain(d.command_sheet())
