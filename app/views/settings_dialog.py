"""Station settings and diagnostics: scanner test, printer test and calibration, command sheet.

Opened with F10. While it is open every scan goes to the scanner test page instead of the
pack flow, so testing a scanner can never change an order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import i18n
from app.i18n import _
from app.scanning.scan import Scan
from app.views.dialogs import fit_placeholders
from app.views.language import name_buttons
from app.views.scanner_test_page import ScannerTestPage
from app.views.theme import named_label
from sync.clock import utcnow
from sync.languages import LANGUAGES

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
    """Tabs: Scanner test, Printer, Devices, Language; device URLs are shown, not edited (the
    wizard edits them). The language tab switches the station at once (as `PB:LANG:<code>`)."""

    def __init__(
        self,
        parent: QWidget | None,
        printer: PrinterActions,
        devices: dict[str, str],
        change_language: Callable[[str], str] | None = None,
    ) -> None:
        super().__init__(parent)
        self.change_language = change_language
        self.resize(900, 600)
        self.scanner_page = ScannerTestPage()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.scanner_page, "")
        self.tabs.addTab(self._printer_tab(printer), "")
        self.devices = devices
        self.tabs.addTab(self._devices_tab(), "")
        self.tabs.addTab(self._language_tab(), "")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.buttons)
        self.retranslate()

    def retranslate(self) -> None:
        """Every text of the dialog in the current language (after a switch on its own tab)."""
        self.setWindowTitle(_("Station settings and tests"))
        for index, title in enumerate(
            (_("Scanner test"), _("Printer"), _("Devices"), _("Language"))
        ):
            self.tabs.setTabText(index, title)
        for button, text in zip(
            self.printer_buttons,
            (
                _("Print a test page"),
                _("Calibrate the label media"),
                _("Print the command barcode sheet"),
            ),
            strict=True,
        ):
            button.setText(text)
        for label, (name, url) in zip(self.device_labels, self.devices.items(), strict=True):
            label.setText(_("{device}: {url}", device=_(name), url=url or _("(not set)")))
        self.devices_hint.setText(_("Change devices with the first-run wizard."))
        self.language_hint.setText(
            _(
                "The station speaks this language until the next badge login (a person's own "
                "language comes with their badge). The {command} command barcodes do the same.",
                command="PB:LANG",
            )
        )
        self.language_button.setText(_("Use this language"))
        self.scanner_page.retranslate()
        name_buttons(self.buttons)

    def showEvent(self, event: QShowEvent) -> None:
        """Each field as wide as its whole hint, in whichever language it is in."""
        fit_placeholders(self)
        super().showEvent(event)

    def _printer_tab(self, actions: PrinterActions) -> QWidget:
        page = QWidget()
        self.printer_result = named_label("", "hint")
        self.printer_result.setWordWrap(True)
        layout = QVBoxLayout(page)
        self.printer_buttons: list[QPushButton] = []
        for action in (actions.test_page, actions.calibrate, actions.command_sheet):
            button = QPushButton()
            button.clicked.connect(lambda _=False, a=action: self._run(a))
            self.printer_buttons.append(button)
            layout.addWidget(button)
        layout.addWidget(self.printer_result)
        layout.addStretch(1)
        return page

    def _run(self, action: Callable[[], str]) -> None:
        try:
            self.printer_result.setText(action())
        except Exception as exc:
            log.exception("printer action failed")
            self.printer_result.setText(_("That did not work: {problem}", problem=exc))

    def _devices_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.device_labels = [QLabel() for _name in self.devices]
        for label in self.device_labels:
            layout.addWidget(label)
        self.devices_hint = named_label("", "hint")
        layout.addWidget(self.devices_hint)
        layout.addStretch(1)
        return page

    def _language_tab(self) -> QWidget:
        """The station's languages by their own names; Enter or the button switches."""
        page = QWidget()
        self.languages = QListWidget()
        for code in i18n.shipped():
            item = QListWidgetItem(f"{LANGUAGES[code]} ({code})")
            item.setData(Qt.ItemDataRole.UserRole, code)
            self.languages.addItem(item)
            if code == i18n.current():
                self.languages.setCurrentItem(item)
        self.languages.itemActivated.connect(lambda _item: self.use_language())
        self.language_hint = named_label("", "hint")
        self.language_hint.setWordWrap(True)
        self.language_button = QPushButton()
        self.language_button.clicked.connect(self.use_language)
        self.language_button.setEnabled(self.change_language is not None)
        layout = QVBoxLayout(page)
        layout.addWidget(self.language_hint)
        layout.addWidget(self.languages, 1)
        layout.addWidget(self.language_button)
        return page

    def use_language(self) -> None:
        """Switch the station to the chosen language; this dialog follows at once."""
        item = self.languages.currentItem()
        if item is None or self.change_language is None:
            return
        self.change_language(str(item.data(Qt.ItemDataRole.UserRole)))
        self.retranslate()

    def show_scan(self, scan: Scan) -> None:
        """A scan while the dialog is open: shown on the scanner test page only."""
        self.scanner_page.show_scan(scan)


def now_utc() -> datetime:
    """The time printed on test pages."""
    return utcnow()
