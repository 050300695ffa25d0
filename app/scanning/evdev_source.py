"""Linux only, optional: read a USB HID scanner exclusively through evdev.

The device is grabbed, so its keys never reach the desktop or Qt, and keycodes are read
as a US keyboard whatever the host layout (set the scanner to US). Needs the optional
`evdev` package; the wedge stays the default.
"""

from __future__ import annotations

import logging
import select
from collections.abc import Callable
from typing import Any

from app.scanning.errors import ScannerError
from app.scanning.framing import LineFramer
from app.scanning.serial_source import SerialScanner

try:  # optional dependency: only needed for evdev:// scanners
    import evdev
except ImportError:  # pragma: no cover - depends on the installation
    evdev = None

log = logging.getLogger(__name__)

EV_KEY = 1
KEY_DOWN, KEY_HOLD = 1, 2
_SHIFT = {42, 54}
_CTRL = {29, 97}
_ALT = {56, 100}
# Linux input keycodes -> (plain, shifted) characters on a US layout.
_US: dict[int, tuple[str, str]] = {
    **{
        code: (ch, sh)
        for code, ch, sh in zip(range(2, 12), "1234567890", "!@#$%^&*()", strict=True)
    },
    12: ("-", "_"),
    13: ("=", "+"),
    15: ("\t", "\t"),
    **{code: (ch, ch.upper()) for code, ch in zip(range(16, 26), "qwertyuiop", strict=True)},
    26: ("[", "{"),
    27: ("]", "}"),
    28: ("\r", "\r"),
    **{code: (ch, ch.upper()) for code, ch in zip(range(30, 39), "asdfghjkl", strict=True)},
    39: (";", ":"),
    40: ("'", '"'),
    41: ("`", "~"),
    43: ("\\", "|"),
    **{code: (ch, ch.upper()) for code, ch in zip(range(44, 51), "zxcvbnm", strict=True)},
    51: (",", "<"),
    52: (".", ">"),
    53: ("/", "?"),
    55: ("*", "*"),
    57: (" ", " "),
    74: ("-", "-"),
    78: ("+", "+"),
    83: (".", "."),
    96: ("\r", "\r"),
    98: ("/", "/"),
}
_KEYPAD_DIGITS = {
    82: "0",
    79: "1",
    80: "2",
    81: "3",
    75: "4",
    76: "5",
    77: "6",
    71: "7",
    72: "8",
    73: "9",
}


class KeyTranslator:
    """Turns key-down/up codes into characters: Shift, Ctrl+letter, Alt+numpad codes."""

    def __init__(self) -> None:
        self._held: set[int] = set()
        self._alt_digits = ""

    def key(self, code: int, value: int) -> str:
        """Feed one EV_KEY event (value 1 down, 0 up, 2 repeat); return the text it types."""
        if value == 0:
            self._held.discard(code)
            if code in _ALT and self._alt_digits and not self._held & _ALT:
                digits, self._alt_digits = self._alt_digits, ""
                return chr(int(digits) % 256) if int(digits) % 256 < 128 else ""
            return ""
        self._held.add(code)
        if self._held & _ALT and code in _KEYPAD_DIGITS:
            self._alt_digits += _KEYPAD_DIGITS[code]
            return ""
        if code in _KEYPAD_DIGITS:
            return _KEYPAD_DIGITS[code]
        pair = _US.get(code)
        if pair is None:
            return ""
        char = pair[1] if self._held & _SHIFT else pair[0]
        if self._held & _CTRL:
            upper = char.upper()  # Ctrl+] is GS (0x1d), Ctrl+J is LF, Ctrl+B is STX
            return chr(ord(upper) - 64) if "@" <= upper <= "_" else ""
        return char


class EvdevScanner(SerialScanner):
    """A `ScannerSource` reading a HID scanner's input device exclusively (grab)."""

    def __init__(
        self,
        path: str,
        *,
        grab: bool = True,
        device_factory: Callable[[str], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if device_factory is None:
            if evdev is None:
                raise ScannerError(
                    "evdev:// scanners need the optional 'evdev' package (pip install evdev) "
                    "on Linux. Use 'wedge' instead, or install it."
                )
            device_factory = evdev.InputDevice
        kwargs.setdefault("url", f"evdev://{path}")
        super().__init__(path, **kwargs)
        self._grab = grab
        self._factory = device_factory

    def _open(self) -> Any:
        device = self._factory(self.port)
        if self._grab:
            device.grab()  # exclusive: keys stop reaching the desktop and Qt
        return device

    def _close(self, port: Any) -> None:
        try:
            if self._grab:
                port.ungrab()
        except OSError as exc:
            log.info("ungrab %s after disconnect: %s", self.port, exc)
        try:
            port.close()
        except OSError as exc:
            log.info("closing %s after disconnect: %s", self.port, exc)

    def _read_until_error(self, port: Any, *, warn_until_scan: bool) -> None:
        framer = LineFramer(self._suffix, self.rules.max_length, self._prefix)
        keys = KeyTranslator()
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([port.fd], [], [], self._read_timeout)
                if not ready:
                    continue
                text = "".join(keys.key(e.code, e.value) for e in port.read() if e.type == EV_KEY)
                if text:
                    frames = framer.feed(text.encode(self.rules.encoding, "backslashreplace"))
                    warn_until_scan = self._deliver_frames(frames, warn_until_scan)
        except OSError:
            self._deliver_frames(
                framer.flush(_("The scanner was unplugged in the middle of a scan. Scan again.")),
                False,
            )
            raise
