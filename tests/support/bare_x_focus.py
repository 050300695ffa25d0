"""Run under a bare X server (no window manager): after every dialog, does an F-key reach
the station window? Prints one JSON line per dialog; run by tests/views/test_focus_bare_x.py.

Keys are real X key events (XTest), sent with the pointer away from the window, so only the
X input focus decides where they go, as on a kiosk X session.
"""

from __future__ import annotations

import ctypes
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

from app.scanning.classify import classify
from app.station.ports import UserRecord
from app.station.runtime import StationRuntime
from app.views.main_window import StationWindow
from app.views.settings_dialog import PrinterActions, SettingsDialog
from tests.support.pins import checker, sealed_pin
from tests.support.station_fakes import (
    MUG,
    PLATE,
    FakeClaims,
    FakeLabels,
    FakeStore,
    order,
    run_now,
)

PACKER = UserRecord(1, "Alex Packer", "packer", "BADGE-P001", None)
SUPERVISOR = UserRecord(9, "Sam Super", "supervisor", "BADGE-S001", sealed_pin("123456"))


class XKeys:
    """Real key presses and pointer moves through the XTest extension."""

    def __init__(self) -> None:
        self.x11 = ctypes.cdll.LoadLibrary("libX11.so.6")
        self.xtst = ctypes.cdll.LoadLibrary("libXtst.so.6")
        self.x11.XOpenDisplay.restype = ctypes.c_void_p
        self.x11.XStringToKeysym.restype = ctypes.c_ulong
        self.x11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        self.x11.XFlush.argtypes = [ctypes.c_void_p]
        self.xtst.XTestFakeKeyEvent.argtypes = [
            ctypes.c_void_p,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_ulong,
        ]
        self.xtst.XTestFakeMotionEvent.argtypes = [
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_ulong,
        ]
        self.dpy = self.x11.XOpenDisplay(None)
        if not self.dpy:
            raise SystemExit("no X display")

    def move_pointer(self, x: int, y: int) -> None:
        self.xtst.XTestFakeMotionEvent(self.dpy, -1, x, y, 0)
        self.x11.XFlush(self.dpy)

    def press(self, name: str) -> None:
        code = self.x11.XKeysymToKeycode(self.dpy, self.x11.XStringToKeysym(name.encode()))
        self.xtst.XTestFakeKeyEvent(self.dpy, code, 1, 0)
        self.xtst.XTestFakeKeyEvent(self.dpy, code, 0, 0)
        self.x11.XFlush(self.dpy)


def pump(ms: int) -> None:
    end = time.monotonic() + ms / 1000
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)


def close_dialog_soon() -> None:
    """Answer the modal dialog the way a person pressing Esc would, once it is up."""

    def close() -> None:
        modal = QApplication.activeModalWidget()
        if modal is None:
            QTimer.singleShot(50, close)
            return
        modal.reject()

    QTimer.singleShot(300, close)


def main() -> None:
    app = QApplication(sys.argv)
    keys = XKeys()
    store = FakeStore(users={u.badge: u for u in (PACKER, SUPERVISOR)})
    store.orders[1] = order(1, (MUG, 2), (PLATE, 1))
    runtime = StationRuntime(
        store, FakeClaims(store), FakeLabels(), run_now, lambda _m: None, pin_checker=checker()
    )
    window = StationWindow(runtime, "bench-7", store.batches)
    window.settings_factory = lambda parent: SettingsDialog(
        parent, PrinterActions(lambda: "", lambda: "", lambda: ""), {}
    )
    window.setGeometry(0, 0, 1024, 700)
    window.show()
    for _ in range(30):  # the window takes the keyboard by itself once it is mapped
        pump(100)
        if window.isActiveWindow():
            break
    keys.move_pointer(1270, 780)  # off the window: only the input focus routes keys

    def f9_reaches_the_window() -> bool:
        runtime._show("amber", "probe")  # F9 (close order) always answers with a new sentence
        keys.press("F9")
        pump(300)
        return runtime.model.message != "probe"

    def login_pin() -> None:
        window.on_scan(classify(b"BADGE-S001"))  # opens the PIN dialog; Esc cancels it

    def log_in_and_open() -> None:
        window.on_scan(classify(b"BADGE-P001"))
        window.on_scan(classify(b"ORD-100001"))

    opened: list[tuple[str, Callable[[], None]]] = [
        ("pin", login_pin),
        ("about", window.action_about),
        ("settings", window.action_settings),
        ("hold", window.action_hold),
        ("override", window.action_override),
        ("reprint", window.action_reprint),
    ]
    results = {"before any dialog": f9_reaches_the_window()}
    for name, open_dialog in opened:
        if name == "hold":
            log_in_and_open()
            pump(200)
        close_dialog_soon()
        open_dialog()
        pump(300)
        active = QApplication.activeWindow()
        results[name] = (
            f9_reaches_the_window() and isinstance(active, QWidget) and (active is window)
        )
    print(json.dumps(results))
    window.close()
    app.quit()


if __name__ == "__main__":
    main()
