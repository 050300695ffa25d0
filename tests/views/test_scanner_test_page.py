"""Scanner test page: what a technician sees after scanning a code."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.device_status import DeviceKind, DeviceState, DeviceStatus
from app.scanning.classify import classify
from app.scanning.guard import ScanGuard
from app.views.scanner_test_page import ScannerTestPage
from tests.support.pseudo import plain


def test_gs1_scan_shows_hex_aim_classification_and_fields(qtbot) -> None:
    page = ScannerTestPage()
    qtbot.addWidget(page)
    page.show_scan(classify(b"]C10109506000134352" + b"10LOT1\x1d17250131"))
    assert plain(page.kind_label.text()) == "GS1"
    assert page.aim_label.text() == "]C1"
    assert page.hex_label.text().startswith("5d 43 31 30 31")
    assert "1d" in page.hex_label.text().split()
    assert "␝" in page.text_label.text()
    assert "(10) LOT1" in page.fields_label.text()
    assert "(17) 250131 = 2025-01-31" in page.fields_label.text()
    assert page.gtin_label.text() == "09506000134352"
    assert page.history.count() == 1


def test_invalid_scan_shows_the_reason(qtbot) -> None:
    page = ScannerTestPage()
    qtbot.addWidget(page)
    page.show_scan(classify(b"]E04006381333932"))
    assert plain(page.kind_label.text()) == "INVALID"
    assert "check digit" in page.reason_label.text()


def test_repeat_read_is_marked(qtbot) -> None:
    page = ScannerTestPage()
    qtbot.addWidget(page)
    guard = ScanGuard(double_scan_s=5)
    guard.check(classify(b"ORD-1001"))
    page.show_scan(guard.check(classify(b"ORD-1001")))
    assert "repeat" in plain(page.kind_label.text())


def test_typed_code_with_gs_token_is_classified(qtbot) -> None:
    page = ScannerTestPage()
    qtbot.addWidget(page)
    qtbot.keyClicks(page.manual, "0109506000134352<GS>10ABC")
    qtbot.keyClick(page.manual, Qt.Key.Key_Return)
    assert plain(page.kind_label.text()) == "GS1"
    assert page.manual.text() == ""


def test_status_line(qtbot) -> None:
    page = ScannerTestPage()
    qtbot.addWidget(page)
    page.show_status(
        DeviceStatus(DeviceKind.SCANNER, DeviceState.DISCONNECTED, "Scanner on COM3 was unplugged.")
    )
    assert "unplugged" in page.status_label.text()
