"""Keyboard-wedge scanners: an application-wide Qt event filter (QtCore/QtGui only).

Keys are judged where they first arrive, at the QWindow, before any widget sees them:
a scanner burst is consumed and delivered whole to `on_scan` (on the GUI thread),
whatever has focus; human typing is handed back to the window unchanged.

Keys are timed by their own timestamps (`QKeyEvent.timestamp()`), not by when the event
loop got round to them, so a burst delivered late by a busy loop is still one scan.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent, QWindow

from app.device_status import DeviceKind, DeviceState, DeviceStatus
from app.i18n import _
from app.scanning.classify import ScanRules, classify
from app.scanning.guard import ScanGuard
from app.scanning.scan import Scan, ScanKind
from app.scanning.wedge_decoder import KeyClock, KeyStroke, WedgeConfig, WedgeDecoder

log = logging.getLogger(__name__)

_MODIFIER_KEYS = {
    Qt.Key.Key_Shift,
    Qt.Key.Key_Control,
    Qt.Key.Key_Alt,
    Qt.Key.Key_AltGr,
    Qt.Key.Key_Meta,
    Qt.Key.Key_CapsLock,
}
_COMMAND_MODS = (
    Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.MetaModifier
)


class WedgeScanner(QObject):
    """A `ScannerSource` for USB keyboard scanners; call `install(app)` once, then `start`."""

    def __init__(
        self,
        config: WedgeConfig | None = None,
        *,
        rules: ScanRules | None = None,
        guard: ScanGuard | None = None,
        url: str = "wedge",
        clock: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.config = config or WedgeConfig()
        self.rules = rules or ScanRules()
        self.guard = guard if guard is not None else ScanGuard(clock=clock)
        self.url = url
        self._clock = clock
        self._decoder = WedgeDecoder(self.config, self._scan_text, self._replay, self._problem)
        self._key_clock = KeyClock()
        self._app: QCoreApplication | None = None
        self._window: QWindow | None = None
        self._replaying = False
        self._on_scan: Callable[[Scan], None] | None = None
        self._on_status: Callable[[DeviceStatus], None] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self.poll)

    # -- ScannerSource ---------------------------------------------------------------------

    def install(self, app: QCoreApplication) -> None:
        """Install the filter on the application (it sees every key before any widget)."""
        if self._app is None:
            app.installEventFilter(self)
            self._app = app

    def start(
        self, on_scan: Callable[[Scan], None], on_status: Callable[[DeviceStatus], None]
    ) -> None:
        """Begin routing scans to `on_scan`; keys pass untouched until this is called."""
        self._on_scan, self._on_status = on_scan, on_status
        if self._app is None:
            log.error("wedge scanner started before install(app): no scans will arrive")
            on_status(self._status(DeviceState.ERROR, _("Keyboard scanner is not set up.")))
            return
        on_status(self._status(DeviceState.READY, _("Keyboard scanner ready.")))

    def probe(self) -> str:
        """Self-test: a keyboard scanner has no port to open; say how to try it."""
        return "keyboard scanner (no port to open); try a scan in the scanner test (F10)"

    def stop(self) -> None:
        """Stop routing scans; held keys go back to the window, the filter is removed."""
        self._decoder.flush()
        self._on_scan = None
        self._timer.stop()
        if self._app is not None:
            self._app.removeEventFilter(self)
            self._app = None

    def poll(self) -> None:
        """Judge held keys against the clock (the timer calls this; tests may too)."""
        self._decoder.poll(self._clock())
        self._arm_timer()

    # -- Qt --------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Judge key events at the window, before widgets and shortcuts act on them."""
        if self._replaying or self._on_scan is None:
            return False
        etype = event.type()
        if etype == QEvent.Type.ShortcutOverride:
            # Mid-burst, claim the key so a shortcut on a scanned character cannot fire.
            if self._decoder.busy and isinstance(event, QKeyEvent) and event.text():
                event.accept()
                return True
            return False
        if etype not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            return False
        if not isinstance(watched, QWindow) or not isinstance(event, QKeyEvent):
            return False  # the same event again on its way to a widget: judged already
        stroke = _stroke(event)
        self._window = watched
        now = self._clock()
        at = self._key_clock.at(event.timestamp(), now)
        if etype == QEvent.Type.KeyPress:
            consumed = self._decoder.press(stroke, now, at)
        else:
            consumed = self._decoder.release(stroke, now, at)
        self._arm_timer()
        return consumed

    def _arm_timer(self) -> None:
        deadline = self._decoder.deadline()
        if deadline is None:
            self._timer.stop()
            return
        remaining_ms = max(1, math.ceil((deadline - self._clock()) * 1000) + 1)
        self._timer.start(remaining_ms)

    # -- decoder outputs -------------------------------------------------------------------

    def _scan_text(self, text: str) -> None:
        raw = text.encode(self.rules.encoding, "backslashreplace")
        self._deliver(classify(raw, self.url, self.rules))

    def _problem(self, text: str, reason: str) -> None:
        raw = text.encode(self.rules.encoding, "backslashreplace")
        self._deliver(Scan(raw, text, ScanKind.INVALID, self.url, reason=reason))

    def _deliver(self, scan: Scan) -> None:
        if scan.kind is ScanKind.INVALID:
            log.warning("invalid scan from keyboard: %s raw=%s", scan.reason, scan.raw_hex[:200])
        if self._on_scan is None:
            log.info("scan after stop() not delivered: %r", scan.text[:80])
            return
        try:
            self._on_scan(self.guard.check(scan))
        except Exception:  # a consumer bug must not break keyboard input
            log.exception("on_scan callback failed for a keyboard scan")

    def _replay(self, items: list[KeyStroke | str]) -> None:
        window = self._window
        if window is None or not shiboken6.isValid(window):
            log.warning("typed keys dropped: their window closed (%d keys)", len(items))
            return
        self._replaying = True
        try:
            for item in items:
                for event in _events_for(item):
                    QCoreApplication.sendEvent(window, event)
        finally:
            self._replaying = False

    def _status(self, state: DeviceState, message: str) -> DeviceStatus:
        return DeviceStatus(DeviceKind.SCANNER, state, message, url=self.url)


def _stroke(event: QKeyEvent) -> KeyStroke:
    key = event.key()
    mods = event.modifiers()
    keypad_digit = ""
    if mods & Qt.KeyboardModifier.KeypadModifier and Qt.Key.Key_0 <= key <= Qt.Key.Key_9:
        keypad_digit = str(key - Qt.Key.Key_0)
    text = event.text()
    if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
        text = "\r"
    elif key == Qt.Key.Key_Tab:
        text = "\t"
    elif key == Qt.Key.Key_J and mods & Qt.KeyboardModifier.ControlModifier:
        text = "\n"  # a wedge scanner's LF suffix arrives as Ctrl+J
    return KeyStroke(
        text=text,
        command=bool(mods & _COMMAND_MODS),
        alt=bool(mods & Qt.KeyboardModifier.AltModifier),
        keypad_digit=keypad_digit,
        modifier_key=key in _MODIFIER_KEYS,
        alt_key=key == Qt.Key.Key_Alt,
        auto_repeat=event.isAutoRepeat(),
        native=(key, mods, event.text()),
    )


def _events_for(item: KeyStroke | str) -> list[QKeyEvent]:
    """A fresh press that retypes a held key (its release already passed through)."""
    if isinstance(item, str):  # a character composed from Alt+numpad digits
        key, mods, text = 0, Qt.KeyboardModifier.NoModifier, item
    else:
        key, mods, text = item.native  # type: ignore[misc]
    return [QKeyEvent(QEvent.Type.KeyPress, key, mods, text)]
