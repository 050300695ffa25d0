"""The wedge event filter in a real Qt application: scans go to the pack flow, typing to
the focused field. Key events enter at the window, as the platform delivers them."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QVBoxLayout, QWidget

from app.device_status import DeviceState, DeviceStatus
from app.scanning.guard import ScanGuard
from app.scanning.scan import Scan, ScanKind
from app.scanning.source import open_scanner
from app.scanning.wedge import WedgeScanner

# Showing a window on the offscreen platform logs this warning; it is not about scanning.
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

KEYS = {"\r": Qt.Key.Key_Return, "\t": Qt.Key.Key_Tab, "-": Qt.Key.Key_Minus}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Station:
    """A window with a PIN field, the wedge filter installed and a fake clock."""

    def __init__(self, qtbot, **wedge_kwargs) -> None:
        self.clock = Clock()
        self.scans: list[Scan] = []
        self.statuses: list[DeviceStatus] = []
        self.form = QWidget()
        self.pin = QLineEdit(self.form)
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.entered: list[str] = []
        self.pin.returnPressed.connect(lambda: self.entered.append(self.pin.text()))
        QVBoxLayout(self.form).addWidget(self.pin)
        qtbot.addWidget(self.form)
        self.form.show()
        self.pin.setFocus()
        self.scanner = WedgeScanner(
            clock=self.clock, guard=ScanGuard(blanking_s=0, double_scan_s=0), **wedge_kwargs
        )
        self.scanner.install(QApplication.instance())
        self.scanner.start(self.scans.append, self.statuses.append)
        self.window = self.form.windowHandle()

    def key(
        self, ch: str, dt: float, key: int | None = None, mods=Qt.KeyboardModifier.NoModifier
    ) -> None:
        self.clock.now += dt
        if key is None:
            key = KEYS.get(ch) or (ord(ch.upper()) if ch.isalnum() else 0)
        for etype in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QCoreApplication.sendEvent(self.window, QKeyEvent(etype, key, mods, ch))

    def type(self, text: str, dt: float) -> None:
        for ch in text:
            self.key(ch, dt)

    def settle(self) -> None:
        self.clock.now += 1.0
        self.scanner.poll()


@pytest.fixture
def station(qtbot) -> Iterator[Station]:
    s = Station(qtbot)
    yield s
    s.scanner.stop()


def test_scan_goes_to_pack_flow_not_into_the_focused_pin_field(station: Station) -> None:
    station.type("ORD-100123\r", 0.01)
    station.settle()
    assert [s.text for s in station.scans] == ["ORD-100123"]
    assert station.scans[0].kind is ScanKind.ORDER
    assert station.pin.text() == "" and station.entered == []


def test_human_typing_a_pin_is_never_taken_for_a_scan(station: Station) -> None:
    station.type("4711", 0.15)
    station.key("\r", 0.2)
    station.settle()
    assert station.scans == []
    assert station.entered == ["4711"]


def test_fast_pin_typing_with_rollover_still_reaches_the_field(station: Station) -> None:
    for ch, dt in zip("2580\r", (0.0, 0.09, 0.035, 0.1, 0.12), strict=True):
        station.key(ch, dt)
    station.settle()
    assert station.scans == []
    assert station.entered == ["2580"]


def test_crlf_suffix_leaves_nothing_in_the_field(station: Station) -> None:
    station.type("T-A17\r", 0.005)
    station.key("\n", 0.005, key=Qt.Key.Key_J, mods=Qt.KeyboardModifier.ControlModifier)
    station.settle()
    assert [s.text for s in station.scans] == ["T-A17"]
    assert station.pin.text() == "" and station.entered == []


def test_alt_029_gs_in_a_gs1_scan(station: Station) -> None:
    station.type("0109506000134352", 0.005)
    # Alt stays down while the keypad digits are typed, so send its press and release apart.
    alt = Qt.KeyboardModifier.AltModifier
    station.clock.now += 0.005
    QCoreApplication.sendEvent(
        station.window, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Alt, alt, "")
    )
    for digit in "029":
        station.key(
            "", 0.005, key=Qt.Key.Key_0 + int(digit), mods=alt | Qt.KeyboardModifier.KeypadModifier
        )
    station.clock.now += 0.005
    QCoreApplication.sendEvent(
        station.window,
        QKeyEvent(QEvent.Type.KeyRelease, Qt.Key.Key_Alt, Qt.KeyboardModifier.NoModifier, ""),
    )
    station.type("10LOT1\r", 0.005)
    station.settle()
    assert len(station.scans) == 1
    scan = station.scans[0]
    assert (scan.kind, scan.gtin14, scan.ais["10"]) == (ScanKind.GS1, "09506000134352", "LOT1")
    assert station.pin.text() == ""


def test_stop_hands_keys_back_to_widgets(station: Station) -> None:
    station.scanner.stop()
    station.type("ORD-100123\r", 0.01)
    assert station.scans == []
    assert station.entered == ["ORD-100123"]


def test_open_scanner_wedge_reports_ready(qtbot) -> None:
    source = open_scanner("wedge:?gap_ms=40&suffix=CR")
    assert isinstance(source, WedgeScanner)
    assert source.config.gap_s == 0.04
    statuses: list[DeviceStatus] = []
    source.install(QApplication.instance())
    source.start(lambda scan: None, statuses.append)
    source.stop()
    assert statuses[0].state is DeviceState.READY


class StalledStation:
    """A real window, the real clock and timer; key events carry their original stamps."""

    def __init__(self, qtbot) -> None:
        self.qtbot = qtbot
        self.scans: list[Scan] = []
        self.form = QWidget()
        self.pin = QLineEdit(self.form)
        QVBoxLayout(self.form).addWidget(self.pin)
        qtbot.addWidget(self.form)
        self.form.show()
        self.pin.setFocus()
        self.scanner = WedgeScanner(guard=ScanGuard(blanking_s=0, double_scan_s=0))
        self.scanner.install(QApplication.instance())
        self.scanner.start(self.scans.append, lambda status: None)
        self.window = self.form.windowHandle()
        self.stamp_ms = 7_000_000  # the window system's clock has its own zero

    def post(self, text: str, per_key_ms: int) -> None:
        """Queue keys as the keyboard produced them, each stamped when it was typed."""
        for ch in text:
            key = KEYS.get(ch) or (ord(ch.upper()) if ch.isalnum() else 0)
            for etype in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                event = QKeyEvent(etype, key, Qt.KeyboardModifier.NoModifier, ch)
                event.setTimestamp(self.stamp_ms)
                QCoreApplication.postEvent(self.window, event)
            self.stamp_ms += per_key_ms

    def stall(self, seconds: float) -> None:
        """Block the event loop: nothing is handled, the scanner's timer falls due."""
        time.sleep(seconds)


@pytest.fixture
def stalled(qtbot) -> Iterator[StalledStation]:
    s = StalledStation(qtbot)
    yield s
    s.scanner.stop()


@pytest.mark.parametrize("stall_s", [0.3, 1.0])
@pytest.mark.parametrize("timer_first", [False, True])
def test_scan_typed_while_the_loop_is_stalled_comes_out_whole_once(
    stalled: StalledStation, qtbot, stall_s: float, timer_first: bool
) -> None:
    stalled.post("SPK-B", 8)  # the start is handled at once ...
    QCoreApplication.processEvents()
    stalled.stall(stall_s)  # ... then the loop blocks while the scanner types the rest
    if timer_first:  # the overdue timer runs before the queued keys arrive
        QTimer.singleShot(0, lambda: stalled.post("T-MINI\r", 8))
    else:
        stalled.post("T-MINI\r", 8)
    qtbot.waitUntil(lambda: len(stalled.scans) == 1, timeout=2000)
    qtbot.wait(200)  # nothing else may follow: no second half, no fragment
    assert [s.text for s in stalled.scans] == ["SPK-BT-MINI"]
    assert stalled.pin.text() == ""


def test_typing_during_a_stall_still_reaches_the_field_in_order(
    stalled: StalledStation, qtbot
) -> None:
    stalled.post("47", 180)
    QCoreApplication.processEvents()
    stalled.stall(0.5)
    stalled.post("11", 180)
    qtbot.waitUntil(lambda: stalled.pin.text() == "4711", timeout=2000)
    assert stalled.scans == []
