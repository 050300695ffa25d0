"""Render the station's screens with in-memory fakes into docs/screenshots/*.png.

Login, batches and the pack screen (mid-order with a green banner, with a red one, and with
the first box of two weighed, its label waiting for the last box), at 1366x768 and 1920x1080.
Works on the offscreen platform:

    QT_QPA_PLATFORM=offscreen python scripts/screenshots.py
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from app.scanning.classify import classify  # noqa: E402
from app.station.ports import BatchRow, UserRecord  # noqa: E402
from app.station.runtime import StationRuntime  # noqa: E402
from app.views.main_window import StationWindow  # noqa: E402
from app.weighing.reading import ScaleReading, WeightUnit  # noqa: E402
from tests.support.station_fakes import (  # noqa: E402
    MUG,
    PHONES,
    PLATE,
    FakeClaims,
    FakeLabels,
    FakeStore,
    order,
    run_now,
)

OUT = ROOT / "docs" / "screenshots"
SIZES = ((1366, 768), (1920, 1080))
PACKER = UserRecord(1, "Alex Packer", "packer", "BADGE-P001", None)
NOW = datetime.now(UTC).replace(second=0, microsecond=0)
BATCHES = [
    BatchRow(11, "B-0411", "Standard parcels, house carrier", 24, 17, 1, NOW + timedelta(hours=2)),
    BatchRow(12, "B-0412", "Express before 16:00", 8, 2, 0, NOW + timedelta(minutes=45)),
    BatchRow(13, "B-0413", "Large items, two-person lift", 5, 0, 2, None),
]


def station() -> StationWindow:
    store = FakeStore(users={PACKER.badge: PACKER})
    record = order(1, (MUG, 2), (PLATE, 3), (PHONES, 1))
    record = replace(
        record,
        view=replace(record.view, tote="T-0042"),
        priority=2,
        cutoff_at=NOW + timedelta(minutes=45),
    )
    store.orders[1] = record
    runtime = StationRuntime(store, FakeClaims(store), FakeLabels(), run_now, lambda _m: None)
    window = StationWindow(runtime, "bench-7", lambda: BATCHES)
    return window


def shoot(window: StationWindow, name: str, size: tuple[int, int]) -> Path:
    window.resize(*size)
    window.show()
    QApplication.processEvents()
    path = OUT / f"{name}-{size[0]}x{size[1]}.png"
    window.grab().save(str(path))
    print(path.relative_to(ROOT))
    return path


def main() -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    OUT.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        window = station()
        shoot(window, "login", size)
        window.on_scan(classify(b"BADGE-P001"))
        shoot(window, "batches", size)
        window.on_scan(classify(b"ORD-100001"))
        for code in (b"4006381333931", b"4006381333931", b"5012345678900"):
            window.on_scan(classify(code))
        shoot(window, "pack-green", size)
        window.on_scan(classify(b"ZZZ-UNKNOWN-1"))
        shoot(window, "pack-red", size)
        window.on_scan(classify(b"PB:NEW-BOX"))
        # Box 1: two mugs and a plate in an M box (2 x 350 + 600 + 250 g).
        window.runtime.scale_reading(ScaleReading(Decimal(1550), WeightUnit.G, True))
        shoot(window, "pack-second-box", size)
        window.close()
        window.deleteLater()
        app.processEvents()


if __name__ == "__main__":
    main()
