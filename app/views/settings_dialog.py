"""Station settings and diagnostics: scanner test, printer test and calibration, command sheet.

Opened with F10. While it is open every scan goes to the scanner test page instead of the
pack flow, so testing a scanner can never change an order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.scanning.scan import Scan
from app.views.scanner_test_page import ScannerTestPage
from app.views.theme import named_label
from sync.clock import utcnow

log = logging.getLogger(__name__)


class PrinterActions:
    """What the printer tab can ask for; each returns a sentence saying what happened."""

    def __init__(
        self,
        test_page: Callable[[], str],
        calibrate: Callable[[], str],
        command_sheet: Callable[[], str],
    ) -> None:
        self.test_page = test_page
        self.calibrate = calibrate
        self.command_sheet = command_sheet


class SettingsDialog(QDialog):
    """Tabs: Scanner test, Printer; device URLs are shown, not edited (the wizard edits them)."""

    def __init__(
        self, parent: QWidget | None, printer: PrinterActions, devices: dict[str, str]
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Station settings and tests")
        self.resize(900, 600)
        self.scanner_page = ScannerTestPage()
        tabs = QTabWidget()
        tabs.addTab(self.scanner_page, "Scanner test")
        tabs.addTab(self._printer_tab(printer), "Printer")
        tabs.addTab(self._devices_tab(devices), "Devices")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(buttons)

    def _printer_tab(self, actions: PrinterActions) -> QWidget:
        page = QWidget()
        self.printer_result = named_label("", "hint")
        self.printer_result.setWordWrap(True)
        layout = QVBoxLayout(page)
        for text, action in (
            ("Print a test page", actions.test_page),
            ("Calibrate the label media", actions.calibrate),
            ("Print the command barcode sheet", actions.command_sheet),
        ):
            button = QPushButton(text)
            button.clicked.connect(lambda _=False, a=action: self._run(a))
            layout.addWidget(button)
        layout.addWidget(self.printer_result)
        layout.addStretch(1)
        return page

    def _run(self, action: Callable[[], str]) -> None:
        try:
            self.printer_result.setText(action())
        except Exception as exc:
            log.exception("printer action failed")
            self.printer_result.setText(f"That did not work: {exc}")

    @staticmethod
    def _devices_tab(devices: dict[str, str]) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        for name, url in devices.items():
            layout.addWidget(QLabel(f"{name}: {url or '(not set)'}"))
        layout.addWidget(named_label("Change devices with the first-run wizard.", "hint"))
        layout.addStretch(1)
        return page

    def show_scan(self, scan: Scan) -> None:
        """A scan while the dialog is open: shown on the scanner test page only."""
        self.scanner_page.show_scan(scan)


def now_utc() -> datetime:
    """The time printed on test pages."""
    return utcnow()
