"""Logging for the station: a rotating file in the log directory plus stderr.

The GUI thread only puts a record on a queue; a listener thread formats it and writes the
file (and rotates it). A scan logs a line, and the write, the rotation check and the
formatting took about 0.2 ms of the scan's time to a verdict on screen. The listener is
stopped (its queue written out) at exit, and again whenever logging is set up anew.
"""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_listener: list[logging.handlers.QueueListener] = []


def stop_logging() -> None:
    """Write out what is queued and stop the writer thread (idempotent)."""
    while _listener:
        _listener.pop().stop()


atexit.register(stop_logging)


def setup_logging(log_dir: Path, level: int = logging.INFO) -> Path:
    """Log to `<log_dir>/packbench.log` (5 x 2 MB, rotated) and to stderr; returns the path."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "packbench.log"
    stop_logging()
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=2 * 1024 * 1024, backupCount=5, encoding="utf-8"
    )
    file_handler.setFormatter(logging.Formatter(FORMAT))
    stream = logging.StreamHandler()
    stream.setFormatter(logging.Formatter(FORMAT))
    stream.setLevel(logging.WARNING)
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    root.addHandler(logging.handlers.QueueHandler(records))
    listener = logging.handlers.QueueListener(
        records, file_handler, stream, respect_handler_level=True
    )
    listener.start()
    _listener.append(listener)
    return path
