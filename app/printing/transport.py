"""Byte transports to printers: TCP (port 9100), serial, USB, CUPS raw queues, directories."""

from __future__ import annotations

import itertools
import logging
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from app.printing.errors import PrinterError, PrinterInterrupted, PrinterOffline

log = logging.getLogger(__name__)

Complete = Callable[[bytes], bool]


class Transport(Protocol):
    """Moves one job's bytes to a printer and, where possible, asks it for status."""

    description: str
    can_query: bool

    def send(self, data: bytes, name: str = "job", preview_png: bytes | None = None) -> None:
        """Deliver the whole job or raise a `PrinterError`."""

    def query(self, request: bytes, complete: Complete, timeout: float) -> bytes:
        """Send `request` and collect the answer until `complete` or `timeout` (may be b"")."""


class TcpTransport:
    """Raw TCP (JetDirect, port 9100): one connection per job, as printers expect."""

    can_query = True

    def __init__(self, host: str, port: int, timeout: float = 5.0, drain: float = 0.3) -> None:
        self.host, self.port, self.timeout, self.drain = host, port, timeout, drain
        self.description = f"{host}:{port}"

    def _connect(self) -> socket.socket:
        try:
            return socket.create_connection((self.host, self.port), timeout=self.timeout)
        except socket.gaierror as exc:
            raise PrinterOffline(
                f"Printer address {self.host!r} cannot be found: check the printer address in "
                "settings",
                detail=str(exc),
            ) from exc
        except OSError as exc:
            raise PrinterOffline(
                f"Printer at {self.description} is not reachable: check its power and network "
                "cable; the label prints automatically when it is back",
                detail=str(exc),
            ) from exc

    def send(self, data: bytes, name: str = "job", preview_png: bytes | None = None) -> None:
        with self._connect() as sock:
            try:
                sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)
                # A peer that closed with our bytes unread answers with a reset: that is the
                # only sign a job did not arrive whole when it fits in the socket buffers.
                sock.settimeout(self.drain)
                while sock.recv(4096):
                    pass
            except TimeoutError:
                return  # the printer keeps the connection open; everything was accepted
            except OSError as exc:
                raise PrinterInterrupted(
                    "The printer connection broke while sending: the label is sent again "
                    "when the printer is back",
                    detail=str(exc),
                ) from exc

    def query(self, request: bytes, complete: Complete, timeout: float) -> bytes:
        with self._connect() as sock:
            answer = b""
            deadline = time.monotonic() + timeout
            try:
                sock.sendall(request)
                while not complete(answer):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    sock.settimeout(remaining)
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    answer += chunk
            except TimeoutError:
                log.info("status query to %s timed out after %.1fs", self.description, timeout)
            except OSError as exc:
                log.warning("status query to %s failed: %s", self.description, exc)
            return answer


class SerialTransport:
    """A serial port (pyserial URL or device path); opened per job so a replug recovers."""

    can_query = True

    def __init__(self, port: str, baudrate: int = 9600, timeout: float = 5.0) -> None:
        self.port, self.baudrate, self.timeout = port, baudrate, timeout
        self.description = port

    def _open(self) -> object:
        import serial

        try:
            return serial.serial_for_url(
                self.port, baudrate=self.baudrate, timeout=self.timeout, write_timeout=self.timeout
            )
        except (serial.SerialException, ValueError) as exc:
            raise PrinterOffline(
                f"Printer port {self.port} cannot be opened: check the cable", detail=str(exc)
            ) from exc

    def send(self, data: bytes, name: str = "job", preview_png: bytes | None = None) -> None:
        import serial

        port = self._open()
        assert isinstance(port, serial.SerialBase)
        try:
            port.write(data)
            port.flush()
        except serial.SerialException as exc:
            raise PrinterInterrupted(
                "The printer cable was disconnected while sending: the "
                "label is sent again when it is back",
                detail=str(exc),
            ) from exc
        finally:
            port.close()

    def query(self, request: bytes, complete: Complete, timeout: float) -> bytes:
        import serial

        port = self._open()
        assert isinstance(port, serial.SerialBase)
        answer = b""
        deadline = time.monotonic() + timeout
        try:
            port.write(request)
            while not complete(answer) and time.monotonic() < deadline:
                port.timeout = max(0.01, deadline - time.monotonic())
                chunk = port.read(64)
                if chunk:
                    answer += chunk
        except serial.SerialException as exc:
            log.warning("status query on %s failed: %s", self.port, exc)
        finally:
            port.close()
        return answer


class UsbTransport:
    """USB printer class device through python-escpos (needs pyusb and device access)."""

    can_query = False

    def __init__(self, vendor: int, product: int) -> None:
        self.vendor, self.product = vendor, product
        self.description = f"usb {vendor:04x}:{product:04x}"

    def send(self, data: bytes, name: str = "job", preview_png: bytes | None = None) -> None:
        try:
            from escpos.printer import Usb

            printer = Usb(self.vendor, self.product)
            printer.open()
        except ImportError as exc:
            raise PrinterOffline(
                "USB printing needs the pyusb package on this station", detail=str(exc)
            ) from exc
        except Exception as exc:  # pyusb/escpos raise many unrelated types
            raise PrinterOffline(
                f"USB printer {self.description} not found: check the cable "
                "and that it is switched on",
                detail=str(exc),
            ) from exc
        try:
            printer._raw(data)
        except Exception as exc:  # usb.core.USBError has no common base here
            raise PrinterInterrupted(
                "The USB printer disappeared while sending: the label is "
                "sent again when it is back",
                detail=str(exc),
            ) from exc
        finally:
            printer.close()

    def query(self, request: bytes, complete: Complete, timeout: float) -> bytes:
        return b""


class CupsTransport:
    """A CUPS queue, fed raw bytes with `lp -d QUEUE -o raw`; state from `lpstat -p`."""

    can_query = False

    def __init__(self, queue: str, timeout: float = 30.0) -> None:
        self.queue, self.timeout = queue, timeout
        self.description = f"CUPS queue {queue}"

    def _run(
        self, args: list[str], data: bytes | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(
                args, input=data, capture_output=True, timeout=self.timeout, check=False
            )
        except FileNotFoundError as exc:
            raise PrinterOffline(
                "CUPS is not installed on this station (no lp/lpstat)", detail=str(exc)
            ) from exc
        except subprocess.TimeoutExpired as exc:
            raise PrinterOffline(f"{self.description} does not respond", detail=str(exc)) from exc

    def send(self, data: bytes, name: str = "job", preview_png: bytes | None = None) -> None:
        done = self._run(["lp", "-d", self.queue, "-o", "raw", "-t", name], data)
        if done.returncode != 0:
            raise PrinterError(
                f"{self.description} refused the job",
                detail=done.stderr.decode(errors="replace").strip(),
            )

    def lpstat(self) -> str:
        """The raw `lpstat -p QUEUE` output (empty when the queue is unknown)."""
        done = self._run(["lpstat", "-p", self.queue])
        return done.stdout.decode(errors="replace")

    def query(self, request: bytes, complete: Complete, timeout: float) -> bytes:
        return b""


class DirectoryTransport:
    """Writes each job as a file in a directory: the preview/demo and PDF printers."""

    can_query = False
    _counter = itertools.count(1)
    _lock = threading.Lock()

    def __init__(self, directory: Path, extension: str) -> None:
        self.directory, self.extension = directory, extension
        self.description = str(directory)

    def send(self, data: bytes, name: str = "job", preview_png: bytes | None = None) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with self._lock:
                stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{next(self._counter):05d}-{name}"
            self._write(self.directory / f"{stem}.{self.extension}", data)
            if preview_png is not None:
                self._write(self.directory / f"{stem}.png", preview_png)
        except OSError as exc:
            raise PrinterOffline(
                f"Cannot write to {self.directory}: check the folder exists and is writable",
                detail=str(exc),
            ) from exc

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        # Write then rename, so a watcher never sees half a file.
        temporary = path.with_suffix(path.suffix + ".part")
        temporary.write_bytes(data)
        os.replace(temporary, path)

    def query(self, request: bytes, complete: Complete, timeout: float) -> bytes:
        return b""
