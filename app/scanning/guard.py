"""ScanGuard: a blanking period and a same-code double-scan window, shared by all sources.

Choice: a rejected read is *not* dropped. `check` returns it flagged `duplicate=True` with a
`reason`, so the pack flow can ignore it while the log and the scanner test page show it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

from app import i18n
from app.i18n import _
from app.scanning.scan import Scan, ScanKind


class ScanGuard:
    """Flags reads that come too soon after an accepted one (thread-safe, clock injectable).

    - blanking: any code within `blanking_s` of the last accepted scan (a scanner that fired
      twice, or caught a neighbouring barcode on the same label).
    - double scan: the same code within `double_scan_s` of the last read of that code. The
      window slides with each repeat, so a scanner held over a label in continuous mode
      stays quiet until the label is taken away.
    INVALID reads neither start nor extend either window: a misread must not hide the good
    read that follows it.
    """

    def __init__(
        self,
        blanking_s: float = 0.1,
        double_scan_s: float = 0.8,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if blanking_s < 0 or double_scan_s < 0:
            raise ValueError("guard windows must not be negative")
        self.blanking_s = blanking_s
        self.double_scan_s = double_scan_s
        self._clock = clock
        self._lock = threading.Lock()
        self._last_accepted_at: float | None = None
        self._last_text: str | None = None
        self._last_text_at = 0.0

    def check(self, scan: Scan) -> Scan:
        """Return `scan` unchanged if accepted, or a copy flagged duplicate with a reason."""
        if scan.kind is ScanKind.INVALID or scan.duplicate:
            return scan
        now = self._clock()
        with self._lock:
            if scan.text == self._last_text and now - self._last_text_at <= self.double_scan_s:
                self._last_text_at = now
                return replace(
                    scan,
                    duplicate=True,
                    reason=_(
                        "Same code read twice within {seconds} s; counted "
                        "once. To count another one, wait a moment and scan again.",
                        seconds=i18n.number(self.double_scan_s, 1),
                    ),
                )
            if (
                self._last_accepted_at is not None
                and now - self._last_accepted_at < self.blanking_s
            ):
                return replace(
                    scan,
                    duplicate=True,
                    reason=_(
                        "Read within {ms} ms of the previous scan; ignored. "
                        "Scan it again on its own.",
                        ms=i18n.number(round(self.blanking_s * 1000)),
                    ),
                )
            self._last_accepted_at = now
            self._last_text = scan.text
            self._last_text_at = now
            return scan

    def reset(self) -> None:
        """Forget the last scan, e.g. when a new order is opened."""
        with self._lock:
            self._last_accepted_at = None
            self._last_text = None
