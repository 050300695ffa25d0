"""Split a byte stream from a scanner into scans: by suffix, with a maximum length.

Used by the serial and evdev readers. A frame that cannot be a whole scan (over-long,
cut off by an unplug, never terminated) comes out with a `problem` sentence instead of
being dropped, so the packer sees that a read failed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from app.scanning.errors import ScannerError

log = logging.getLogger(__name__)

# Byte names accepted in device URLs (suffix=CR, prefix=STX, ...).
BYTE_NAMES: dict[str, bytes] = {
    "NONE": b"",
    "CR": b"\r",
    "LF": b"\n",
    "CRLF": b"\r\n",
    "TAB": b"\t",
    "STX": b"\x02",
    "ETX": b"\x03",
    "EOT": b"\x04",
    "GS": b"\x1d",
    "RS": b"\x1e",
}


def parse_byte_name(value: str, what: str) -> bytes:
    """Turn "CR", "CRLF", "0x02" or literal text from a device URL into bytes."""
    upper = value.strip().upper()
    if upper in BYTE_NAMES:
        return BYTE_NAMES[upper]
    if upper.startswith("0X"):
        try:
            return bytes.fromhex(upper[2:].replace(",", "").replace(" ", ""))
        except ValueError as exc:
            raise ScannerError(f"{what}={value!r} is not valid hex; write e.g. 0x0d.") from exc
    if value:
        return value.encode("utf-8")
    raise ScannerError(f"{what} is empty; use one of {', '.join(BYTE_NAMES)} or hex like 0x0d.")


@dataclass(frozen=True, slots=True)
class Frame:
    """One scan's bytes (prefix and suffix removed), or a failed read with a problem."""

    data: bytes
    problem: str = ""


class LineFramer:
    """Accumulates bytes and yields frames. Not thread-safe: one per reader thread."""

    def __init__(self, suffix: bytes = b"\r", max_length: int = 4096, prefix: bytes = b"") -> None:
        # CR, LF and CR+LF scanners all end a scan at either byte, and an empty frame between
        # CR and LF is skipped, so a scanner set to CR+LF but configured here as CR still
        # gives one scan per read.
        if suffix in (b"\r", b"\n", b"\r\n"):
            self._terminators = b"\r\n"
        else:
            self._terminators = suffix[-1:] if suffix else b""
        self._suffix = suffix
        self._prefix = prefix
        self._max = max_length
        self._buf = bytearray()
        # 1 + bytes thrown away after an over-long frame, until the next terminator; 0 = off
        self._discarding = 0

    @property
    def pending(self) -> bool:
        """True when a partial scan is waiting for its suffix."""
        return bool(self._buf) or self._discarding > 0

    def feed(self, data: bytes) -> list[Frame]:
        """Add bytes; return the frames they complete."""
        frames: list[Frame] = []
        if not self._terminators:
            self._buf += data
            if len(self._buf) > self._max:
                frames.append(self._overflow())
            return frames
        for byte in data:
            if byte in self._terminators:
                if self._discarding:
                    log.warning("discarded %d bytes of an over-long scan", self._discarding - 1)
                    self._discarding = 0
                elif self._buf:
                    frames.append(self._take())
                continue
            if self._discarding:
                self._discarding += 1
                continue
            self._buf.append(byte)
            if len(self._buf) > self._max:
                frames.append(self._overflow())
        return frames

    def flush(self, problem: str = "") -> list[Frame]:
        """End the pending partial scan (idle timeout, unplug); `problem` marks it failed."""
        self._discarding = 0
        if not self._buf:
            return []
        if problem:
            frame = Frame(bytes(self._buf), problem)
            self._buf.clear()
            return [frame]
        return [self._take()]

    def _take(self) -> Frame:
        data = bytes(self._buf)
        self._buf.clear()
        if self._prefix and data.startswith(self._prefix):
            data = data[len(self._prefix) :]
        if self._suffix and len(self._suffix) > 1 and data.endswith(self._suffix[:-1]):
            data = data[: -(len(self._suffix) - 1)]  # multi-byte suffix other than CR+LF
        return Frame(data)

    def _overflow(self) -> Frame:
        data = bytes(self._buf)
        self._buf.clear()
        self._discarding = 1 if self._terminators else 0
        return Frame(
            data,
            f"More than {self._max:,} bytes arrived with no end-of-scan: the scanner is stuck "
            "or its suffix setting is wrong. Scan one code at a time.",
        )
