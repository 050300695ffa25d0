"""Logging for the station: a rotating file in the log directory plus stderr."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(log_dir: Path, level: int = logging.INFO) -> Path:
    """Log to `<log_dir>/packbench.log` (5 x 2 MB, rotated) and to stderr; returns the path."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "packbench.log"
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=2 * 1024 * 1024, backupCount=5, encoding="utf-8"
    )
    file_handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(file_handler)
    stream = logging.StreamHandler()
    stream.setFormatter(logging.Formatter(FORMAT))
    stream.setLevel(logging.WARNING)
    root.addHandler(stream)
    return path
