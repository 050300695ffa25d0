"""A serial barcode scanner emulated on a pseudo-terminal, with unplug and re-plug.

The scanner appears at a stable symlink (like /dev/serial/by-id/...); `unplug` closes the
pty and removes the link, `plug` creates a new pty behind the same link.
"""

from __future__ import annotations

import fcntl
import os
import struct
import termios
import time
import tty
from pathlib import Path


class PtyScanner:
    """Emulated serial scanner: `send(b"ORD-1001\\r")` is what the reader will receive."""

    def __init__(self, directory: Path, name: str = "ttyScanner") -> None:
        self.path = directory / name
        self._master: int | None = None
        self._slave: int | None = None
        self.plug()

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def plug(self) -> None:
        if self.plugged:
            return
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no CR->LF translation before the reader sets raw mode
        self._master, self._slave = master, slave
        if self.path.is_symlink() or self.path.exists():
            self.path.unlink()
        self.path.symlink_to(os.ttyname(slave))

    def unplug(self) -> None:
        if self._master is None:
            return
        os.close(self._master)
        if self._slave is not None:
            os.close(self._slave)
        self._master = self._slave = None
        if self.path.is_symlink():
            self.path.unlink()

    def send(self, data: bytes) -> None:
        assert self._master is not None, "scanner is unplugged"
        view = memoryview(data)
        while view:
            written = os.write(self._master, view)
            view = view[written:]

    def wait_drained(self, timeout_s: float = 3.0) -> None:
        """Wait until the reader has taken every byte sent so far (polls the tty queue)."""
        assert self._slave is not None, "scanner is unplugged"
        # The kernel moves pty bytes to the slave side asynchronously, so an empty queue
        # right after a write can mean "not arrived yet": require it empty several times.
        deadline = time.monotonic() + timeout_s
        empty_polls = 0
        while empty_polls < 4:
            assert time.monotonic() < deadline, "reader did not read the bytes"
            empty_polls = 0 if self._pending() else empty_polls + 1
            time.sleep(0.02)

    def _pending(self) -> int:
        assert self._slave is not None
        raw = fcntl.ioctl(self._slave, termios.FIONREAD, b"\0\0\0\0")
        return int(struct.unpack("i", raw)[0])

    def close(self) -> None:
        self.unplug()
