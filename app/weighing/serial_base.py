"""Shared plumbing for scales on a serial port: settings, framing buffer, timeouts, unplug."""

from __future__ import annotations

import logging
import re
import threading
import time
from abc import abstractmethod
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import serial

from app.i18n import Msg
from app.weighing.driver import ScaleDriver
from app.weighing.errors import ScaleDisconnected, ScaleProtocolError, ScaleTimeout

log = logging.getLogger(__name__)

_port_errors: list[type[BaseException]] = [serial.SerialException, OSError]
try:  # tcflush on a port whose device vanished raises termios.error, not OSError
    import termios

    _port_errors.append(termios.error)
except ImportError:  # Windows has no termios; pyserial raises SerialException there
    pass
PORT_ERRORS: tuple[type[BaseException], ...] = tuple(_port_errors)
# pyserial raises ValueError for settings the port cannot take (bad baud rate, parity).
_OPEN_ERRORS: tuple[type[BaseException], ...] = (ValueError, *PORT_ERRORS)

# How long one blocking read may wait before we look at the deadline again. Short enough
# that stop/timeout are prompt, long enough that a silent port costs ~10 wake-ups a second.
_READ_SLICE_S = 0.1


def split_crlf_frame(buffer: bytes, frame: re.Pattern[bytes]) -> tuple[bytes | None, bytes, bytes]:
    """The first CR LF terminated line of `buffer` in which `frame` matches, from the match on.

    Returns (frame or None, the rest of the buffer, the bytes dropped as noise: whole lines
    without a frame and anything before the frame on its line). For the line protocols
    (MT-SICS, CAS) whose frames are lines, possibly after line noise.
    """
    dropped = b""
    while True:
        end = buffer.find(b"\r\n")
        if end < 0:
            return None, buffer, dropped
        line, buffer = buffer[:end], buffer[end + 2 :]
        found = frame.search(line)
        if found is None:
            dropped += line + b"\r\n"
            continue
        dropped += line[: found.start()]
        return found.group(0), buffer, dropped


@dataclass(frozen=True, slots=True)
class SerialSettings:
    """Line settings for a serial scale (pyserial names and values)."""

    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1
    xonxoff: bool = False
    rtscts: bool = False

    def with_query(self, query: dict[str, str]) -> SerialSettings:
        """Return settings overridden by URL query values (already validated names)."""
        changes: dict[str, Any] = {}
        if "baudrate" in query:
            changes["baudrate"] = int(query["baudrate"])
        if "bytesize" in query:
            changes["bytesize"] = int(query["bytesize"])
        if "parity" in query:
            changes["parity"] = query["parity"].upper()[:1]
        if "stopbits" in query:
            changes["stopbits"] = float(query["stopbits"])
        for flag in ("xonxoff", "rtscts"):
            if flag in query:
                changes[flag] = query[flag].lower() in ("1", "true", "yes", "on")
        return replace(self, **changes)


class SerialScaleDriver(ScaleDriver):
    """A scale behind pyserial. Subclasses supply framing (`split_frame`) and parsing."""

    default_settings: ClassVar[SerialSettings] = SerialSettings()

    def __init__(
        self,
        port: str,
        settings: SerialSettings | None = None,
        *,
        timeout_s: float = 1.0,
        url: str = "",
    ) -> None:
        self.port_name = port
        self.settings = settings or self.default_settings
        self.timeout_s = timeout_s
        self.url = url or f"{self.protocol}+serial://{port}"
        self._port: Any = None
        self._buffer = b""
        # Serialises whole command/answer exchanges between the poller and GUI-initiated
        # zero/tare, so two commands never interleave on the wire.
        self._lock = threading.Lock()

    def open(self) -> None:
        """Open the serial port with this protocol's line settings."""
        s = self.settings
        try:
            self._port = serial.Serial(
                port=self.port_name,
                baudrate=s.baudrate,
                bytesize=s.bytesize,
                parity=s.parity,
                stopbits=s.stopbits,
                xonxoff=s.xonxoff,
                rtscts=s.rtscts,
                timeout=_READ_SLICE_S,
                write_timeout=self.timeout_s,
            )
        except _OPEN_ERRORS as exc:
            raise ScaleDisconnected(
                Msg(
                    "The scale port {port} cannot be opened ({error}); check the cable and the "
                    "port name.",
                    port=self.port_name,
                    error=str(exc),
                )
            ) from exc
        self._buffer = b""

    def use_port(self, port: Any) -> None:
        """Adopt an already open pyserial port (auto-detection shares one per line setting)."""
        self._port, self._buffer = port, b""

    def detach_port(self) -> Any:
        """Give up the port without closing it; returns it."""
        port, self._port = self._port, None
        return port

    def close(self) -> None:
        """Close the port; errors while closing a vanished device are only logged."""
        port, self._port = self._port, None
        if port is None:
            return
        try:
            port.close()
        except PORT_ERRORS as exc:
            log.info("closing scale port %s: %s", self.port_name, exc)

    @staticmethod
    @abstractmethod
    def split_frame(buffer: bytes) -> tuple[bytes | None, bytes, bytes]:
        """Split `buffer` into (frame or None, rest, discarded garbage)."""

    def _disconnected(self, exc: BaseException) -> ScaleDisconnected:
        self.close()
        return ScaleDisconnected(
            f"The scale on {self.port_name} stopped responding at the port level ({exc}); "
            "check that it is plugged in and switched on."
        )

    def exchange(self, command: bytes | None, timeout_s: float | None = None) -> bytes:
        """Send `command` (None for streaming scales) and return the next whole frame."""
        with self._lock:
            port = self._port
            if port is None:
                raise ScaleDisconnected(
                    Msg("The scale port {port} is not open.", port=self.port_name)
                )
            try:
                if command is not None:
                    # Drop stale bytes so an old answer is never taken for this one.
                    port.reset_input_buffer()
                    self._buffer = b""
                    port.write(command)
                return self._read_frame(port, timeout_s or self.timeout_s)
            except PORT_ERRORS as exc:
                raise self._disconnected(exc) from exc

    def _read_frame(self, port: Any, timeout_s: float) -> bytes:
        deadline = time.monotonic() + timeout_s
        junk = b""
        while True:
            frame, self._buffer, dropped = self.split_frame(self._buffer)
            if dropped:
                junk += dropped
                log.debug("scale %s: discarded %r", self.port_name, dropped)
            if frame is not None:
                return frame
            if time.monotonic() >= deadline:
                break
            waiting = port.in_waiting
            chunk = port.read(waiting if waiting > 0 else 1)
            self._buffer += chunk
        if junk or self._buffer:
            raise ScaleProtocolError(
                Msg(
                    "The scale on {port} sends data that is not {protocol} ({data}); check the "
                    "scale's protocol setting.",
                    port=self.port_name,
                    protocol=self.protocol,
                    data=repr((junk + self._buffer)[:40]),
                )
            )
        raise ScaleTimeout(
            Msg(
                "The scale on {port} does not answer; check that it is switched on and set to "
                "the {protocol} protocol at {baud} baud.",
                port=self.port_name,
                protocol=self.protocol,
                baud=self.settings.baudrate,
            )
        )
