"""The scale driver interface and the polling thread that reports readings by callback."""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable

from app.device_status import DeviceKind, DeviceState, DeviceStatus
from app.i18n import Msg, _
from app.weighing.errors import (
    ScaleCommandRejected,
    ScaleCommandUnsupported,
    ScaleDisconnected,
    ScaleError,
    ScaleTimeout,
)
from app.weighing.reading import ScaleReading

log = logging.getLogger(__name__)


class ScaleDriver(ABC):
    """One scale. `read()` returns one reading; `zero()`/`tare()` where the protocol has them.

    Drivers are not thread-safe by themselves beyond what their docstring says; serial
    drivers serialise transactions with a lock so `zero()` from the GUI thread and `read()`
    from the poller never interleave on the wire.
    """

    url: str = ""
    protocol: str = ""
    #: True when the scale streams frames on its own (no command is sent to read).
    continuous: bool = False

    @abstractmethod
    def open(self) -> None:
        """Open the connection (may be called again after `close()` to reconnect)."""

    @abstractmethod
    def close(self) -> None:
        """Release the port; safe to call twice."""

    @abstractmethod
    def read(self) -> ScaleReading:
        """Return the current reading or raise a `ScaleError` saying why there is none."""

    def zero(self) -> None:
        """Set the empty platter to zero."""
        raise ScaleCommandUnsupported(
            Msg(
                "This scale ({protocol}) cannot be zeroed from the station; press Zero on the "
                "scale.",
                protocol=self.protocol,
            )
        )

    def tare(self) -> None:
        """Subtract what is on the platter (an empty box) from further readings."""
        raise ScaleCommandUnsupported(
            Msg(
                "This scale ({protocol}) cannot be tared from the station; press Tare on the "
                "scale.",
                protocol=self.protocol,
            )
        )

    def __enter__(self) -> ScaleDriver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


ReadingCallback = Callable[[ScaleReading], None]
StatusCallback = Callable[[DeviceStatus], None]


class ScalePoller:
    """Polls a driver on its own thread; readings and status changes go to callbacks.

    Callbacks run on the polling thread: keep them short (the Qt bridge re-emits them as
    queued signals). On unplug the poller closes the driver and retries `open()` with a
    growing back-off, reporting `DISCONNECTED` meanwhile.
    """

    def __init__(
        self,
        driver: ScaleDriver,
        on_reading: ReadingCallback,
        on_status: StatusCallback | None = None,
        *,
        interval_s: float = 0.1,
        reconnect_s: tuple[float, float] = (0.5, 5.0),
    ) -> None:
        self._driver = driver
        self._on_reading = on_reading
        self._on_status = on_status
        # A streaming scale paces itself: waiting between frames would only add latency.
        self._interval_s = 0.0 if driver.continuous else interval_s
        self._reconnect_s = reconnect_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_status: tuple[DeviceState, str] | None = None
        #: CPU seconds spent by the polling thread so far (for the benchmark).
        self.cpu_seconds = 0.0

    def start(self) -> None:
        """Start polling on a daemon thread."""
        if self._thread is not None:
            raise RuntimeError("poller already started")
        self._thread = threading.Thread(
            target=self._run, name=f"scale-poller {self._driver.url}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop polling and close the driver."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("scale poller for %s did not stop in time", self._driver.url)
        self._driver.close()

    def _report(self, state: DeviceState, message: str) -> None:
        # Only changes are reported: a status bar that flickers every 100 ms helps nobody.
        if self._on_status is None or self._last_status == (state, message):
            return
        self._last_status = (state, message)
        self._on_status(DeviceStatus(DeviceKind.SCALE, state, message, self._driver.url))

    def _run(self) -> None:
        backoff = self._reconnect_s[0]
        while not self._stop.is_set():
            try:
                reading = self._driver.read()
            except ScaleDisconnected as exc:
                log.warning("scale %s disconnected: %s", self._driver.url, exc)
                self._report(DeviceState.DISCONNECTED, str(exc))
                backoff = self._reconnect(backoff)
                continue
            except ScaleTimeout as exc:
                log.info("scale %s timed out: %s", self._driver.url, exc)
                self._report(DeviceState.ERROR, str(exc))
            except ScaleCommandRejected as exc:
                log.info("scale %s busy: %s", self._driver.url, exc)
                self._report(DeviceState.WARNING, str(exc))
            except ScaleError as exc:
                log.warning("scale %s error: %s", self._driver.url, exc)
                self._report(DeviceState.ERROR, str(exc))
            else:
                backoff = self._reconnect_s[0]
                self._report(DeviceState.READY, _("Scale ready."))
                try:
                    self._on_reading(reading)
                except Exception:  # a broken callback must not kill the scale thread
                    log.exception("scale reading callback failed")
            self.cpu_seconds = time.thread_time()
            if self._interval_s:
                self._stop.wait(self._interval_s)
        self.cpu_seconds = time.thread_time()

    def _reconnect(self, backoff: float) -> float:
        self._driver.close()
        if self._stop.wait(backoff):
            return backoff
        try:
            self._driver.open()
        except ScaleError as exc:
            log.info("scale %s still unavailable: %s", self._driver.url, exc)
            return min(backoff * 2, self._reconnect_s[1])
        log.info("scale %s reconnected", self._driver.url)
        self._report(DeviceState.WARNING, _("The scale was reconnected."))
        return self._reconnect_s[0]
