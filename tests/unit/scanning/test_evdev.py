"""evdev scanner reading with a fake input device (no evdev package or /dev/input needed)."""

from __future__ import annotations

import os
import queue
from dataclasses import dataclass

import pytest

from app.device_status import DeviceState
from app.scanning.evdev_source import EvdevScanner, KeyTranslator
from app.scanning.guard import ScanGuard
from app.scanning.scan import ScanKind

SHIFT, CTRL, ALT, ENTER, RBRACE = 42, 29, 56, 28, 27
CODES = {
    **{ch: 2 + i for i, ch in enumerate("1234567890")},
    "-": 12,
    "o": 24,
    "r": 19,
    "d": 32,
    "t": 20,
}


def strokes(text: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for ch in text:
        code = CODES[ch.lower()]
        if ch.isupper():
            out += [(SHIFT, 1), (code, 1), (code, 0), (SHIFT, 0)]
        else:
            out += [(code, 1), (code, 0)]
    return out


@dataclass
class Event:
    type: int
    code: int
    value: int


class FakeInputDevice:
    def __init__(self) -> None:
        self._r, self._w = os.pipe()
        self.fd = self._r
        self.events: queue.Queue[Event] = queue.Queue()
        self.grabbed = False

    def press(self, pairs: list[tuple[int, int]]) -> None:
        for code, value in pairs:
            self.events.put(Event(1, code, value))
        os.write(self._w, b"x")

    def read(self) -> list[Event]:
        os.read(self._r, 1)
        out = []
        while not self.events.empty():
            out.append(self.events.get())
        return out

    def grab(self) -> None:
        self.grabbed = True

    def ungrab(self) -> None:
        self.grabbed = False

    def close(self) -> None:
        os.close(self._r)
        os.close(self._w)


def test_translator_shift_ctrl_gs_and_alt_numpad() -> None:
    keys = KeyTranslator()
    typed = "".join(
        keys.key(c, v)
        for c, v in [*strokes("ORD-1"), (CTRL, 1), (RBRACE, 1), (RBRACE, 0), (CTRL, 0)]
    )
    assert typed == "ORD-1\x1d"
    alt = [(ALT, 1), (82, 1), (82, 0), (80, 1), (80, 0), (73, 1), (73, 0), (ALT, 0)]  # Alt+029
    assert "".join(keys.key(c, v) for c, v in alt) == "\x1d"


def test_grabbed_device_delivers_scans() -> None:
    device = FakeInputDevice()
    scanner = EvdevScanner(
        "/dev/input/by-id/fake-event-kbd",
        device_factory=lambda path: device,
        guard=ScanGuard(blanking_s=0, double_scan_s=0),
        read_timeout_s=0.02,
    )
    scans: queue.Queue = queue.Queue()
    statuses: queue.Queue = queue.Queue()
    scanner.start(scans.put, statuses.put)
    try:
        assert statuses.get(timeout=3).state is DeviceState.READY
        assert device.grabbed
        device.press([*strokes("ORD-1001"), (ENTER, 1), (ENTER, 0)])
        scan = scans.get(timeout=3)
        assert (scan.kind, scan.text, scan.source) == (
            ScanKind.ORDER,
            "ORD-1001",
            "evdev:///dev/input/by-id/fake-event-kbd",
        )
    finally:
        scanner.stop()
    assert not device.grabbed


def test_without_evdev_package_the_error_says_what_to_do(monkeypatch) -> None:
    import app.scanning.evdev_source as module
    from app.scanning.errors import ScannerError
    from app.scanning.source import open_scanner

    monkeypatch.setattr(module, "evdev", None)
    with pytest.raises(ScannerError, match="pip install evdev"):
        open_scanner("evdev:///dev/input/by-id/usb-scanner-event-kbd")
