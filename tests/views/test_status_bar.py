"""The status bar says connection, queue and device state in words and colour."""

from __future__ import annotations

from datetime import UTC, datetime

from pytestqt.qtbot import QtBot

from app.station.screen import StatusInfo
from app.views.status_bar import StationStatusBar


def test_online_offline_queue_and_devices(qtbot: QtBot) -> None:
    bar = StationStatusBar()
    qtbot.addWidget(bar)
    synced = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
    bar.show_status(StatusInfo(online=True, last_sync=synced, scanner_tone="green"), "Alex")
    assert bar.server.text().startswith("Online · synced")
    assert bar.queue.text() == "To send: 0"
    assert bar.scanner.text() == "Scanner ✔"
    bar.show_status(
        StatusInfo(
            online=False,
            offline_since=synced,
            queue_depth=12,
            scale="Scale is moving: wait until it settles.",
            scale_tone="amber",
        ),
        "Alex",
    )
    assert bar.server.text().startswith("OFFLINE since")
    assert bar.queue.text() == "To send: 12"
    assert bar.scale.text() == "Scale: Scale is moving: wait until it settles."
    assert "c62828" in bar.server.styleSheet()  # red
