"""Render the station's screens and dialogs with in-memory fakes into docs/screenshots/*.png.

Every screen of tests/support/screens.py (the same scenes the clipping test measures: the
longest messages of each kind) at 1024x768, 1366x768 and 1920x1080, sized for a 15.6" panel.
Works on the offscreen platform:

    QT_QPA_PLATFORM=offscreen python scripts/screenshots.py
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from app.scanning.classify import classify  # noqa: E402
from tests.support.screens import (  # noqa: E402
    dialogs,
    screens,
    settle,
    station,
    supervisor_station,
)

OUT = ROOT / "docs" / "screenshots"
SIZES = ((1024, 768), (1366, 768), (1920, 1080))


def per_mm(width: int, height: int) -> float:
    """Pixels per millimetre of a 15.6" panel at this resolution."""
    return math.hypot(width, height) / 15.6 / 25.4


def save(widget: QWidget, name: str, size: tuple[int, int]) -> None:
    path = OUT / f"{name}-{size[0]}x{size[1]}.png"
    widget.grab().save(str(path))
    print(path.relative_to(ROOT))


def _log_in_supervisor(window: QWidget) -> None:
    """Scan the supervisor badge and type the PIN into the dialog it opens."""
    from PySide6.QtWidgets import QDialog

    from app.views.dialogs import PinDialog

    def type_pin(dialog: QDialog) -> int:
        dialog.pin.setText("123456")  # type: ignore[attr-defined]
        return int(QDialog.DialogCode.Accepted.value)

    original = PinDialog.exec
    PinDialog.exec = type_pin  # type: ignore[method-assign,assignment]
    try:
        window.on_scan(classify(b"BADGE-S001"))  # type: ignore[attr-defined]
    finally:
        PinDialog.exec = original  # type: ignore[method-assign]


def main() -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    OUT.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        window = station()
        window.apply_sizes(per_mm(*size))
        window.resize(*size)
        window.show()
        settle()
        for name, widget in screens(window):
            window.show_model(window.runtime.model)
            settle()
            save(widget, name, size)
        for name, dialog in dialogs(window):
            save(dialog, name, size)
        empty = station(with_batches=False)
        empty.apply_sizes(per_mm(*size))
        empty.resize(*size)
        empty.show()
        empty.on_scan(classify(b"BADGE-P001"))
        settle()
        save(empty, "batches-empty", size)
        supervisor = supervisor_station()
        supervisor.apply_sizes(per_mm(*size))
        supervisor.resize(*size)
        supervisor.show()
        _log_in_supervisor(supervisor)
        page = supervisor.supervisor_page
        page.tabs.setCurrentWidget(page.counts.parentWidget())
        settle()
        save(supervisor, "supervisor-returns", size)
        for done in (window, empty, supervisor):
            done.close()
            done.deleteLater()
        app.processEvents()


if __name__ == "__main__":
    main()
