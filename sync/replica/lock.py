"""One writer process per station database: an OS lock on `<db>.lock` for the process lifetime.

The OS drops the lock when the process dies (even by SIGKILL), so a crash never leaves a
stale lock behind. The holder writes its PID into the file so a second instance can say who
holds it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO

from sync.errors import ReplicaLocked


class StationLock:
    """An exclusive, non-blocking lock on `<db>.lock`; `release()` or process exit frees it."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.path = db_path.with_name(db_path.name + ".lock")
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock or raise ReplicaLocked naming the PID that holds it."""
        handle = open(self.path, "a+")  # noqa: SIM115 - held open for the process lifetime
        try:
            _lock(handle)
        except OSError:
            handle.seek(0)
            text = handle.read().strip()
            handle.close()
            pid = int(text) if text.isdigit() else None
            raise ReplicaLocked(str(self.db_path), pid) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        """Give the lock up (closing the file releases it)."""
        if self._file is not None:
            self._file.close()
            self._file = None


if sys.platform == "win32":  # pragma: no cover - stations also run Windows
    import msvcrt

    def _lock(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

else:
    import fcntl

    def _lock(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
