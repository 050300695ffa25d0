"""First-run wizard: enroll with the service (or demo mode), try the devices, self-test, save.

The pages only show what `app.wizard_logic.FirstRunWizard` answers; nothing is written to
the config file before Finish. Every check that fails keeps the person on the page with a
sentence saying what is wrong, and Back always works.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import Enum

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from app.config import StationPaths, StationSettings
from app.i18n import _, render
from app.wizard_logic import (
    DevicePort,
    FirstRunWizard,
    ScannerProbe,
    StepResult,
    list_hid_devices,
    list_serial_ports,
)

log = logging.getLogger(__name__)

GREEN, RED = "#1b7a35", "#b3261e"


class WizardOutcome(Enum):
    """How the wizard ended."""

    SAVED = "saved"
    DEMO = "demo"
    CANCELLED = "cancelled"


def _show(label: QLabel, result: StepResult) -> None:
    label.setText(render(result.message))
    label.setToolTip(render(result.message))
    label.setStyleSheet(f"color: {GREEN if result.ok else RED};")


def _busy(fn: Callable[[], StepResult]) -> StepResult:
    """Run a short blocking check with a wait cursor (enrolment, scale, printer: seconds)."""
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        return fn()
    finally:
        QGuiApplication.restoreOverrideCursor()


def _message_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class ServerPage(QWizardPage):
    """Page 1: service address and one-time enrolment code, or demo mode."""

    def __init__(self, model: FirstRunWizard) -> None:
        super().__init__()
        self.model = model
        self.setTitle(_("Connect this station"))
        self.setSubTitle(
            _(
                "Enter the address of the Packbench service and the one-time enrolment code "
                "from your supervisor (packbench-service enroll-code --station NAME)."
            )
        )
        self.server = QLineEdit(model.settings.server_url)
        self.server.setPlaceholderText("https://oms.example.com")
        self.code = QLineEdit()
        self.code.setPlaceholderText(_("one-time code"))
        self.message = _message_label()
        self.demo_button = QPushButton(_("Try demo mode instead (no server, simulated devices)"))
        self.demo_button.clicked.connect(self._demo)
        form = QFormLayout()
        form.addRow(_("Service address:"), self.server)
        form.addRow(_("Enrolment code:"), self.code)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addStretch(1)
        layout.addWidget(self.demo_button)

    def _demo(self) -> None:
        self.model.choose_demo()
        wizard = self.wizard()
        if wizard is not None:
            # Rejected: Qt's done(Accepted) would validate this page (an empty code) first.
            wizard.done(int(QWizard.DialogCode.Rejected))

    def validatePage(self) -> bool:
        result = _busy(lambda: self.model.connect(self.server.text(), self.code.text()))
        _show(self.message, result)
        return result.ok


class DevicesPage(QWizardPage):
    """Page 2: list ports, try the scanner, the scale and the label printer."""

    def __init__(
        self,
        model: FirstRunWizard,
        list_ports: Callable[[], list[DevicePort]],
        scanner_probe: Callable[[str], ScannerProbe],
        scan_timeout_s: float,
    ) -> None:
        super().__init__()
        self.model = model
        self._list_ports = list_ports
        self._make_probe = scanner_probe
        self.scan_timeout_s = scan_timeout_s
        self.probe: ScannerProbe | None = None
        self._waited_ms = 0
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._poll_scan)
        self.setTitle(_("Scanner, scale and label printer"))
        self.setSubTitle(
            _(
                "Pick a port, then try each device. Leave the scanner as 'wedge' for a USB "
                "keyboard scanner and the scale as 'manual' when there is none."
            )
        )
        s = model.settings
        self.ports = QListWidget()
        self.ports.setMaximumHeight(140)  # leave room for the messages under each device
        refresh = QPushButton(_("Refresh ports"))
        refresh.clicked.connect(self.refresh_ports)
        self.scanner = QLineEdit(s.scanner)
        self.scale = QLineEdit(s.scale)
        self.printer = QLineEdit(s.label_printer)
        self.printer.setPlaceholderText(_("zpl+tcp://10.0.0.5:9100 or file:///path/to/dir"))
        # The hint is the only example of a printer address: the field is never narrower.
        self.printer.setMinimumWidth(
            self.printer.fontMetrics().horizontalAdvance(self.printer.placeholderText()) + 24
        )
        self.scan_button = QPushButton(_("Scan something now"))
        self.scan_button.clicked.connect(self.start_scan)
        self.use_port_button = QPushButton(_("Scanner on selected port"))
        self.use_port_button.clicked.connect(self._scanner_from_port)
        self.detect_button = QPushButton(_("Detect scale on selected port"))
        self.detect_button.clicked.connect(self.detect_scale)
        self.weigh_button = QPushButton(_("Weigh now (put a parcel on it first)"))
        self.weigh_button.clicked.connect(self.read_scale)
        self.print_button = QPushButton(_("Print a test label"))
        self.print_button.clicked.connect(self.print_test)
        self.scanner_message = _message_label()
        self.scale_message = _message_label()
        self.printer_message = _message_label()

        grid = QGridLayout()
        rows: tuple[tuple[str, QLineEdit, tuple[QPushButton, ...], QLabel], ...] = (
            (
                _("Scanner:"),
                self.scanner,
                (self.use_port_button, self.scan_button),
                self.scanner_message,
            ),
            (
                _("Scale:"),
                self.scale,
                (self.detect_button, self.weigh_button),
                self.scale_message,
            ),
            (_("Label printer:"), self.printer, (self.print_button,), self.printer_message),
        )
        for i, (title, edit, buttons, message) in enumerate(rows):
            grid.addWidget(QLabel(title), 2 * i, 0)
            grid.addWidget(edit, 2 * i, 1)
            box = QHBoxLayout()
            for button in buttons:
                box.addWidget(button)
            holder = QWidget()
            holder.setLayout(box)
            grid.addWidget(holder, 2 * i, 2)
            grid.addWidget(message, 2 * i + 1, 1, 1, 2)
        top = QHBoxLayout()
        top.addWidget(QLabel(_("Ports and devices found:")))
        top.addStretch(1)
        top.addWidget(refresh)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.ports)
        layout.addLayout(grid)

    def initializePage(self) -> None:
        self.refresh_ports()

    def refresh_ports(self) -> None:
        """Fill the list with the serial ports and HID devices present now."""
        self.ports.clear()
        try:
            found = self._list_ports()
        except OSError as exc:
            log.warning("listing ports failed: %s", exc)
            found = []
        for port in found:
            item = QListWidgetItem(port.label())
            item.setData(Qt.ItemDataRole.UserRole, port)
            self.ports.addItem(item)
        if not found:
            self.ports.addItem(_("(no serial ports or HID devices found)"))
        elif self.ports.currentRow() < 0:
            self.ports.setCurrentRow(0)

    def selected_port(self) -> DevicePort | None:
        """The port picked in the list, if any."""
        item = self.ports.currentItem()
        port = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return port if isinstance(port, DevicePort) else None

    def _need_port(self, label: QLabel, kind: str) -> DevicePort | None:
        port = self.selected_port()
        if port is None or port.kind != kind:
            text = (
                _("Pick a serial port in the list first.")
                if kind == "serial"
                else _("Pick a HID device in the list first.")
            )
            _show(label, StepResult(False, text))
            return None
        return port

    def _scanner_from_port(self) -> None:
        port = self._need_port(self.scanner_message, "serial")
        if port is not None:
            self.scanner.setText(port.scanner_url())

    # -- scanner: polled, so a wedge scanner (GUI thread) can deliver while we wait

    def start_scan(self) -> None:
        """Open the scanner and wait (without blocking) for one scan."""
        self.stop_scan()
        self.probe = self._make_probe(self.scanner.text().strip() or "wedge")
        result = self.probe.start()
        _show(self.scanner_message, result)
        if not result.ok:
            self.probe = None
            return
        self._waited_ms = 0
        self._timer.start()

    def _poll_scan(self) -> None:
        if self.probe is None:
            self._timer.stop()
            return
        text = self.probe.poll()
        self._waited_ms += self._timer.interval()
        if text is not None:
            _show(self.scanner_message, StepResult(True, _("Scanned: {code}", code=text)))
            self.stop_scan()
        elif self._waited_ms >= self.scan_timeout_s * 1000:
            _show(
                self.scanner_message,
                StepResult(False, self.probe.timeout_message(self.scan_timeout_s)),
            )
            self.stop_scan()

    def stop_scan(self) -> None:
        """Stop waiting and release the scanner."""
        self._timer.stop()
        probe, self.probe = self.probe, None
        if probe is not None:
            probe.stop()

    # -- scale and printer: short blocking checks

    def detect_scale(self) -> None:
        """Probe the selected serial port for a scale; fills the scale URL when one answers."""
        port = self.selected_port()
        if port is not None and port.kind == "hid":
            self.scale.setText(port.scale_url())
            _show(
                self.scale_message,
                StepResult(True, _("HID scale chosen: now weigh something.")),
            )
            return
        port = self._need_port(self.scale_message, "serial")
        if port is None:
            return
        device = port.device
        result = _busy(lambda: self.model.detect_scale(device))
        if result.ok:
            self.scale.setText(self.model.settings.scale)
        _show(self.scale_message, result)

    def read_scale(self) -> None:
        """Read the scale once and show the weight or what is wrong."""
        url = self.scale.text()
        _show(self.scale_message, _busy(lambda: self.model.read_scale(url)))

    def print_test(self) -> None:
        """Send the test label and show whether the printer took it."""
        url = self.printer.text()
        _show(self.printer_message, _busy(lambda: self.model.print_test_label(url)))

    def validatePage(self) -> bool:
        self.stop_scan()
        self.model.use_devices(self.scanner.text(), self.scale.text(), self.printer.text())
        return True

    def cleanupPage(self) -> None:  # Back from this page
        self.stop_scan()
        super().cleanupPage()


class SummaryPage(QWizardPage):
    """Page 3: what will be saved and the self-test report; Finish writes the config."""

    def __init__(self, model: FirstRunWizard) -> None:
        super().__init__()
        self.model = model
        self.setTitle(_("Check and save"))
        self.setSubTitle(_("Finish saves these settings. Go Back to change anything."))
        self.settings_label = QLabel()
        self.report = QListWidget()
        self.report.setWordWrap(True)
        self.report.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.verdict = _message_label()
        layout = QVBoxLayout(self)
        layout.addWidget(self.settings_label)
        layout.addWidget(QLabel(_("Self-test:")))
        layout.addWidget(self.report)
        layout.addWidget(self.verdict)

    def initializePage(self) -> None:
        self.settings_label.setText(
            "\n".join(
                _("{setting}: {value}", setting=render(name), value=render(value))
                for name, value in self.model.summary()
            )
        )
        self.report.clear()
        self.report.addItem(_("running the self-test…"))
        QApplication.processEvents()
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            results = self.model.self_test()
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.report.clear()
        for r in results:
            item = QListWidgetItem(
                _("[ok] {check}: {detail}", check=render(r.name), detail=render(r.detail))
                if r.ok
                else _("[FAIL] {check}: {detail}", check=render(r.name), detail=render(r.detail))
            )
            item.setForeground(Qt.GlobalColor.darkGreen if r.ok else Qt.GlobalColor.red)
            self.report.addItem(item)
        failed = [render(r.name) for r in results if not r.ok]
        _show(
            self.verdict,
            StepResult(True, _("Every check passed."))
            if not failed
            else StepResult(
                False,
                _(
                    "Failed: {checks}. Go Back to fix it, or Finish to save anyway "
                    "(the station shows that device in red until it works).",
                    checks=", ".join(failed),
                ),
            ),
        )


class FirstRunWizardDialog(QWizard):
    """The three pages; `outcome` says whether settings were saved, demo chosen or cancelled."""

    def __init__(
        self,
        model: FirstRunWizard,
        *,
        list_ports: Callable[[], list[DevicePort]] | None = None,
        scanner_probe: Callable[[str], ScannerProbe] | None = None,
        scan_timeout_s: float = 15.0,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.outcome = WizardOutcome.CANCELLED
        self.setWindowTitle(_("Packbench — first start"))
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.server_page = ServerPage(model)
        self.devices_page = DevicesPage(
            model,
            list_ports or (lambda: [*list_serial_ports(), *list_hid_devices()]),
            scanner_probe or self._real_probe,
            scan_timeout_s,
        )
        self.summary_page = SummaryPage(model)
        for page in (self.server_page, self.devices_page, self.summary_page):
            self.addPage(page)
        self.resize(820, 600)

    @staticmethod
    def _real_probe(url: str) -> ScannerProbe:
        app = QApplication.instance()
        return ScannerProbe(url, install=lambda source: source.install(app))

    def done(self, result: int) -> None:
        """Finish saves (once); demo and cancel write nothing."""
        self.devices_page.stop_scan()
        if self.model.demo:
            self.outcome = WizardOutcome.DEMO
        elif result == int(QWizard.DialogCode.Accepted):
            try:
                self.model.finish()
            except OSError as exc:
                log.error("saving the configuration failed: %s", exc)
                _show(
                    self.summary_page.verdict,
                    StepResult(False, _("Cannot save the configuration: {problem}", problem=exc)),
                )
                return
            self.outcome = WizardOutcome.SAVED
        super().done(result)


def run_first_run_wizard(model: FirstRunWizard) -> WizardOutcome:
    """Show the wizard modally (making the QApplication if needed) and say how it ended."""
    import sys

    from app.views.language import apply_qt_language

    _app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_qt_language()  # Back / Next / Finish in the site's language
    dialog = FirstRunWizardDialog(model)
    dialog.exec()
    return dialog.outcome


def first_run(
    paths: StationPaths, settings: StationSettings
) -> tuple[WizardOutcome, StationSettings]:
    """The wizard for a station with no server: how it ended and the settings to run with."""
    from app import __version__

    model = FirstRunWizard(paths, settings, app_version=__version__)
    outcome = run_first_run_wizard(model)
    return outcome, model.settings if outcome is WizardOutcome.SAVED else settings
