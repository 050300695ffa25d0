"""The one bridge from device and sync threads to the GUI thread.

Devices and the sync engine call plain callbacks on their own threads; this QObject turns
each call into a queued Qt signal, so every widget is touched on the GUI thread only. It
also runs background operations (claims) and hands their results back the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from app import i18n
from app.scanning.scan import Scan, ScanKind
from app.station import runtime as station_runtime
from app.station.runtime import StationRuntime

log = logging.getLogger(__name__)


class _Job(QRunnable):
    def __init__(self, bridge: DeviceBridge, fn: Callable[[], object], token: int) -> None:
        super().__init__()
        self.bridge, self.fn, self.token = bridge, fn, token

    def run(self) -> None:
        try:
            result: object = self.fn()
        except Exception as exc:  # noqa: BLE001  (handed to the GUI thread, which decides)
            log.info("background operation failed: %r", exc)
            result = exc
        self.bridge.job_done.emit(self.token, result)


class DeviceBridge(QObject):
    """Signals carrying device, sync and background results to the GUI thread."""

    scan = Signal(object)  # app.scanning.scan.Scan
    reading = Signal(object)  # app.weighing.reading.ScaleReading
    device_status = Signal(object)  # app.device_status.DeviceStatus
    sync_status = Signal(object)  # sync.engine.SyncStatus
    label_done = Signal(int, bool, str)  # job id, ok, message
    document_job = Signal(object)  # app.printing.queue.PrintJob of the document printer
    job_done = Signal(int, object)
    # The station switched language (code): open views re-render their texts. The runtime's
    # language hook (login, logout, PB:LANG) emits it from any thread.
    language_changed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self._pool = QThreadPool()
        self._pool.setMaxThreadCount(2)
        self._callbacks: dict[int, Callable[[object], None]] = {}
        self._next = 0
        self.job_done.connect(self._finish)

    def run_in_background(self, fn: Callable[[], object], done: Callable[[object], None]) -> None:
        """Run `fn` on a worker thread; call `done(result or exception)` on the GUI thread."""
        self._next += 1
        self._callbacks[self._next] = done
        self._pool.start(_Job(self, fn, self._next))

    def _finish(self, token: int, result: object) -> None:
        done = self._callbacks.pop(token, None)
        if done is not None:
            done(result)

    def wait_for_background(self, msecs: int = 5000) -> bool:
        """Wait for running background operations (shutdown and tests)."""
        return bool(self._pool.waitForDone(msecs))


def change_language(runtime: StationRuntime, code: str) -> str:
    """Switch the station to `code` now: the language picker's call. Returns the language
    in use (an unknown or unshipped code keeps the one before, logged by `app.i18n`).

    With someone logged in it is exactly the `PB:LANG:<code>` command barcode, through the
    runtime's own handling of it (which also remembers the language for that person), when
    this runtime has that command. At the login screen it is the station's language until
    the next badge brings its person's. The window re-renders when it sees the change."""
    prefix = getattr(station_runtime, "LANGUAGE_PREFIX", None)
    if runtime.user is not None and isinstance(prefix, str):
        text = f"{prefix}{code}"
        runtime.handle_scan(
            Scan(raw=text.encode(), text=text, kind=ScanKind.COMMAND, source="keyboard")
        )
        return i18n.current()
    lang = i18n.set_language(code)
    runtime.refresh()
    return lang
