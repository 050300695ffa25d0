"""Scanners -> `Scan` values: classification (biip), guard, serial/evdev readers, wedge.

Qt-free exports only; the keyboard wedge lives in `app.scanning.wedge` (QtCore/QtGui).
"""

from app.scanning.classify import ScanRules, classify
from app.scanning.errors import ScannerError
from app.scanning.guard import ScanGuard
from app.scanning.scan import Scan, ScanKind
from app.scanning.source import ScannerSource, open_scanner

__all__ = [
    "Scan",
    "ScanGuard",
    "ScanKind",
    "ScanRules",
    "ScannerError",
    "ScannerSource",
    "classify",
    "open_scanner",
]
