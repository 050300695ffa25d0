"""Serial (and USB CDC-ACM) scanners: pyserial on its own thread, reconnecting with backoff."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import serial

from app.device_status import DeviceKind, DeviceState, DeviceStatus
from app.i18n import _
from app.scanning.classify import ScanRules, classify
from app.scanning.errors import ScannerError
from app.scanning.framing import Frame, LineFramer
from app.scanning.guard import ScanGuard
from app.scanning.scan import Scan, ScanKind

log = logging.getLogger(__name__)

OnScan = Callable[[Scan], None]
OnStatus = Callable[[DeviceStatus], None]


def frame_to_scan(frame: Frame, source: str, rules: ScanRules) -> Scan:
    """Classify a frame, or turn a failed frame into an INVALID scan that keeps its bytes."""
    if not frame.problem:
        return classify(frame.data, source, rules)
    return Scan(
        raw=frame.data,
        text=frame.data[:40].decode(rules.encoding, "replace"),
        kind=ScanKind.INVALID,
        source=source,
        reason=frame.problem,
    )


class SerialScanner:
    """Reads scans from a serial port; survives unplug/re-plug by reopening with backoff.

    Subclasses (evdev) override `_open`, `_read_until_error` and `_close`.

    Callbacks run on the reader thread; the Qt bridge in `app/` moves them to the GUI.
    """

    def __init__(
        self,
        port: str,
        *,
        url: str = "",
        baudrate: int = 9600,
        suffix: bytes = b"\r",
        prefix: bytes = b"",
        rules: ScanRules | None = None,
        guard: ScanGuard | None = None,
        backoff_initial_s: float = 0.1,
        backoff_max_s: float = 5.0,
        read_timeout_s: float = 0.05,
        idle_frame_s: float = 0.1,
        stale_partial_s: float = 1.0,
        serial_options: dict[str, Any] | None = None,
    ) -> None:
        self.port = port
        self.url = url or f"serial://{port}"
        self.baudrate = baudrate
        self.rules = rules or ScanRules()
        self.guard = guard if guard is not None else ScanGuard()
        self._suffix = suffix
        self._prefix = prefix
        self._backoff_initial = backoff_initial_s
        self._backoff_max = backoff_max_s
        self._read_timeout = read_timeout_s
        # suffix=NONE: a scan ends when the line goes quiet for idle_frame_s.
        self._idle_frame_s = idle_frame_s
        # With a suffix, a partial scan older than this is reported, not held forever.
        self._stale_partial_s = stale_partial_s
        self._serial_options = serial_options or {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_scan: OnScan = _ignore_scan
        self._on_status: OnStatus = _ignore_status

    def start(self, on_scan: OnScan, on_status: OnStatus) -> None:
        """Start the reader thread; scans and status changes arrive on the callbacks."""
        if self._thread is not None:
            raise RuntimeError("scanner already started")
        self._on_scan, self._on_status = on_scan, on_status
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"scanner {self.port}", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop reading and close the port; returns once the thread has ended."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.error("scanner thread for %s did not stop within %.1f s", self.port, timeout_s)
            self._thread = None

    def probe(self) -> str:
        """Open and close the port once (self-test); raises ScannerError saying what to do."""
        try:
            port = self._open()
        except (serial.SerialException, OSError, ValueError) as exc:
            raise ScannerError(
                f"{self.port} cannot be opened ({exc}). Check the scanner's cable and the "
                "port name (ls /dev/serial/by-id), and that this user may read it "
                "(the dialout or input group)."
            ) from exc
        self._close(port)
        return f"{self.port} opens"

    # -- reader thread -------------------------------------------------------------------

    def _run(self) -> None:
        delay = self._backoff_initial
        connected_before = False
        reported_down = False
        while not self._stop.is_set():
            try:
                port = self._open()
            except (serial.SerialException, OSError, ValueError) as exc:
                if not reported_down:
                    log.warning("scanner %s not available: %s", self.port, exc)
                    self._status(
                        DeviceState.DISCONNECTED,
                        f"Scanner not found at {self.port}. Check its cable; "
                        "it will be used as soon as it is plugged in.",
                    )
                    reported_down = True
                self._stop.wait(delay)
                delay = min(delay * 2, self._backoff_max)
                continue
            delay = self._backoff_initial
            reported_down = False
            if connected_before:
                self._status(
                    DeviceState.WARNING, _("Scanner on {port} reconnected.", port=self.port)
                )
            else:
                self._status(DeviceState.READY, _("Scanner ready on {port}.", port=self.port))
            try:
                self._read_until_error(port, warn_until_scan=connected_before)
            except (serial.SerialException, OSError) as exc:
                log.warning("scanner %s disconnected: %s", self.port, exc)
                if not self._stop.is_set():
                    self._status(
                        DeviceState.DISCONNECTED,
                        f"Scanner on {self.port} was unplugged. Plug it back in; "
                        "it reconnects by itself.",
                    )
                    reported_down = True
            finally:
                self._close(port)
            connected_before = True

    def _open(self) -> Any:
        return serial.Serial(
            self.port, baudrate=self.baudrate, timeout=self._read_timeout, **self._serial_options
        )

    def _read_until_error(self, port: Any, *, warn_until_scan: bool) -> None:
        framer = LineFramer(self._suffix, self.rules.max_length, self._prefix)
        last_data = time.monotonic()
        try:
            while not self._stop.is_set():
                data = port.read(max(1, port.in_waiting))
                now = time.monotonic()
                if data:
                    last_data = now
                    frames = framer.feed(data)
                elif framer.pending and not self._suffix and now - last_data > self._idle_frame_s:
                    frames = framer.flush()
                elif framer.pending and now - last_data > self._stale_partial_s:
                    frames = framer.flush(
                        "A scan started but never ended: check the scanner's suffix "
                        "setting, then scan again."
                    )
                else:
                    continue
                warn_until_scan = self._deliver_frames(frames, warn_until_scan)
        except (serial.SerialException, OSError):
            for frame in framer.flush(
                _("The scanner was unplugged in the middle of a scan. Scan the code again.")
            ):
                self._deliver(frame_to_scan(frame, self.url, self.rules))
            raise

    def _deliver_frames(self, frames: list[Frame], warn_until_scan: bool) -> bool:
        """Deliver frames; the first one after a reconnect clears the warning."""
        for frame in frames:
            self._deliver(frame_to_scan(frame, self.url, self.rules))
            if warn_until_scan:
                self._status(DeviceState.READY, _("Scanner ready on {port}.", port=self.port))
                warn_until_scan = False
        return warn_until_scan

    def _close(self, port: Any) -> None:
        try:
            port.close()
        except (serial.SerialException, OSError) as exc:
            log.info("closing %s after disconnect: %s", self.port, exc)

    def _deliver(self, scan: Scan) -> None:
        if scan.kind is ScanKind.INVALID:
            log.warning(
                "invalid scan from %s: %s raw=%s", self.url, scan.reason, scan.raw_hex[:200]
            )
        try:
            self._on_scan(self.guard.check(scan))
        except Exception:  # a consumer bug must not stop the scanner
            log.exception("on_scan callback failed for scan from %s", self.url)

    def _status(self, state: DeviceState, message: str) -> None:
        status = DeviceStatus(DeviceKind.SCANNER, state, message, url=self.url)
        try:
            self._on_status(status)
        except Exception:  # a consumer bug must not stop the scanner
            log.exception("on_status callback failed for %s", self.url)


def _ignore_scan(scan: Scan) -> None:
    log.warning("scan before start(): %s", scan.text)


def _ignore_status(status: DeviceStatus) -> None:
    log.info("status before start(): %s", status.message)
