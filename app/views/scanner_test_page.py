"""Scanner test page: scan anything and see its bytes, AIM id, classification and fields.

Embedded in the station settings; the station feeds it scans and status on the GUI thread
(`show_scan`, `show_status`). A field also lets a person type a code, with <GS> for GS.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.device_status import DeviceState, DeviceStatus
from app.scanning.classify import ScanRules, classify
from app.scanning.scan import Scan, ScanKind

_STATE_COLOURS = {
    DeviceState.READY: "#1b7f3b",
    DeviceState.WARNING: "#a86b00",
    DeviceState.ERROR: "#b00020",
    DeviceState.DISCONNECTED: "#b00020",
}
_HISTORY = 50


def visible_text(text: str) -> str:
    """Show control characters as Unicode control pictures (GS -> ␝) so they can be seen."""
    return "".join(chr(0x2400 + ord(c)) if ord(c) < 32 else c for c in text)


class ScannerTestPage(QWidget):
    """Shows the last scan in detail and a short history; for checking a scanner's setup."""

    def __init__(self, rules: ScanRules | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rules = rules or ScanRules()
        self.status_label = QLabel(self.tr("Scanner: waiting for status"))
        self.hint = QLabel(self.tr("Scan any barcode to see what the station reads."))
        self.kind_label = QLabel("–")
        self.text_label = QLabel("–")
        self.hex_label = QLabel("–")
        self.aim_label = QLabel("–")
        self.gtin_label = QLabel("–")
        self.fields_label = QLabel("–")
        self.reason_label = QLabel("")
        self.reason_label.setWordWrap(True)
        for label in (self.text_label, self.hex_label, self.fields_label):
            label.setWordWrap(True)
        self.manual = QLineEdit()
        self.manual.setPlaceholderText(self.tr("Or type a code (write <GS> for a group separator)"))
        self.manual.returnPressed.connect(self._classify_typed)
        self.history = QListWidget()
        clear = QPushButton(self.tr("Clear"))
        clear.clicked.connect(self.clear)

        form = QFormLayout()
        form.addRow(self.tr("Classification"), self.kind_label)
        form.addRow(self.tr("Text"), self.text_label)
        form.addRow(self.tr("Raw bytes (hex)"), self.hex_label)
        form.addRow(self.tr("AIM symbology"), self.aim_label)
        form.addRow(self.tr("GTIN-14"), self.gtin_label)
        form.addRow(self.tr("GS1 fields"), self.fields_label)
        form.addRow(self.tr("Why"), self.reason_label)
        layout = QVBoxLayout(self)
        for widget in (self.status_label, self.hint):
            layout.addWidget(widget)
        layout.addLayout(form)
        layout.addWidget(self.manual)
        layout.addWidget(self.history)
        layout.addWidget(clear)

    def show_scan(self, scan: Scan) -> None:
        """Display one scan (call on the GUI thread)."""
        kind = scan.kind.value.upper()
        if scan.duplicate:
            kind += self.tr(" (repeat read, ignored)")
        colour = "#b00020" if scan.kind in (ScanKind.INVALID, ScanKind.UNKNOWN) else "#1b7f3b"
        self.kind_label.setText(kind)
        self.kind_label.setStyleSheet(f"color: {colour}; font-weight: bold")
        self.text_label.setText(visible_text(scan.text) or "–")
        self.hex_label.setText(scan.raw_hex[:3000] or "–")
        self.aim_label.setText(scan.symbology or self.tr("none sent"))
        self.gtin_label.setText(scan.gtin14 or "–")
        fields = [
            f"({ai}) {value}" + (f" = {scan.ai_values[ai]}" if ai in scan.ai_values else "")
            for ai, value in scan.ais.items()
        ]
        self.fields_label.setText("\n".join(fields) or "–")
        self.reason_label.setText(scan.reason)
        aim = scan.symbology or "   "
        line = f"{scan.at:%H:%M:%S}  {kind:<8}  {aim}  {visible_text(scan.text)[:60]}"
        self.history.insertItem(0, line)
        while self.history.count() > _HISTORY:
            self.history.takeItem(self.history.count() - 1)

    def show_status(self, status: DeviceStatus) -> None:
        """Display the scanner's status line."""
        self.status_label.setText(self.tr("Scanner: ") + status.message)
        self.status_label.setStyleSheet(f"color: {_STATE_COLOURS[status.state]}")

    def clear(self) -> None:
        """Forget the shown scans."""
        self.history.clear()
        for label in (self.kind_label, self.text_label, self.hex_label, self.aim_label):
            label.setText("–")
        self.gtin_label.setText("–")
        self.fields_label.setText("–")
        self.reason_label.setText("")

    def _classify_typed(self) -> None:
        text = self.manual.text().replace("<GS>", "\x1d")
        self.manual.clear()
        if text:
            self.show_scan(classify(text.encode("utf-8"), "typed", self._rules))
