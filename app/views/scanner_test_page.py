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
from app.i18n import N_, _, render
from app.scanning.classify import ScanRules, classify
from app.scanning.scan import Scan, ScanKind

# TRANSLATORS: the kind of barcode the scanner read, in capitals as the scanner guide names it
KIND_TEXT = {
    ScanKind.ORDER: N_("ORDER"),
    ScanKind.TOTE: N_("TOTE"),
    ScanKind.TRACKING: N_("TRACKING"),
    ScanKind.SSCC: N_("SSCC"),
    ScanKind.PRODUCT: N_("PRODUCT"),
    ScanKind.GS1: N_("GS1"),
    ScanKind.BADGE: N_("BADGE"),
    ScanKind.COMMAND: N_("COMMAND"),
    ScanKind.UNKNOWN: N_("UNKNOWN"),
    ScanKind.INVALID: N_("INVALID"),
}

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
        self._status: DeviceStatus | None = None
        self._last_scan: Scan | None = None
        self.status_label = QLabel()
        self.hint = QLabel()
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
        self.manual.returnPressed.connect(self._classify_typed)
        self.history = QListWidget()
        self.clear_button = QPushButton()
        self.clear_button.clicked.connect(self.clear)

        self.form = QFormLayout()
        for field in self._fields():
            self.form.addRow("", field)
        layout = QVBoxLayout(self)
        for widget in (self.status_label, self.hint):
            layout.addWidget(widget)
        layout.addLayout(self.form)
        layout.addWidget(self.manual)
        layout.addWidget(self.history)
        layout.addWidget(self.clear_button)
        self.retranslate()

    def _fields(self) -> tuple[QLabel, ...]:
        return (
            self.kind_label,
            self.text_label,
            self.hex_label,
            self.aim_label,
            self.gtin_label,
            self.fields_label,
            self.reason_label,
        )

    def retranslate(self) -> None:
        """Static texts in the current language; the status and last scan shown again."""
        self.hint.setText(_("Scan any barcode to see what the station reads."))
        self.manual.setPlaceholderText(_("Or type a code (write <GS> for a group separator)"))
        self.clear_button.setText(_("Clear"))
        titles = (
            _("Classification"),
            _("Text"),
            _("Raw bytes (hex)"),
            _("AIM symbology"),
            _("GTIN-14"),
            _("GS1 fields"),
            # TRANSLATORS: why the scan was classified as it was
            _("Why"),
        )
        for field, title in zip(self._fields(), titles, strict=True):
            label = self.form.labelForField(field)
            if isinstance(label, QLabel):
                label.setText(title)
        if self._status is None:
            self.status_label.setText(_("Scanner: waiting for status"))
        else:
            self.show_status(self._status)
        if self._last_scan is not None:
            self._show_details(self._last_scan)

    def show_scan(self, scan: Scan) -> None:
        """Display one scan (call on the GUI thread)."""
        kind = self._show_details(scan)
        aim = scan.symbology or "   "
        line = f"{scan.at:%H:%M:%S}  {kind:<8}  {aim}  {visible_text(scan.text)[:60]}"
        self.history.insertItem(0, line)
        while self.history.count() > _HISTORY:
            self.history.takeItem(self.history.count() - 1)

    def _show_details(self, scan: Scan) -> str:
        """The last scan's fields; returns its kind as shown."""
        self._last_scan = scan
        kind = _(KIND_TEXT[scan.kind])
        if scan.duplicate:
            kind = _("{kind} (repeat read, ignored)", kind=kind)
        colour = "#b00020" if scan.kind in (ScanKind.INVALID, ScanKind.UNKNOWN) else "#1b7f3b"
        self.kind_label.setText(kind)
        self.kind_label.setStyleSheet(f"color: {colour}; font-weight: bold")
        self.text_label.setText(visible_text(scan.text) or "–")
        self.hex_label.setText(scan.raw_hex[:3000] or "–")
        self.aim_label.setText(scan.symbology or _("none sent"))
        self.gtin_label.setText(scan.gtin14 or "–")
        fields = [
            f"({ai}) {value}" + (f" = {scan.ai_values[ai]}" if ai in scan.ai_values else "")
            for ai, value in scan.ais.items()
        ]
        self.fields_label.setText("\n".join(fields) or "–")
        self.reason_label.setText(render(scan.reason))
        return kind

    def show_status(self, status: DeviceStatus) -> None:
        """Display the scanner's status line."""
        self._status = status
        self.status_label.setText(_("Scanner: {status}", status=render(status.message)))
        self.status_label.setStyleSheet(f"color: {_STATE_COLOURS[status.state]}")

    def clear(self) -> None:
        """Forget the shown scans."""
        self._last_scan = None
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
