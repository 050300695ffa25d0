"""The status bar says connection, queue and device state in words and colour."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pytestqt.qtbot import QtBot

from app.station.screen import StatusInfo
from app.views.status_bar import StationStatusBar
from tests.support.pseudo import plain


def test_online_offline_queue_and_devices(qtbot: QtBot) -> None:
    bar = StationStatusBar()
    qtbot.addWidget(bar)
    synced = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
    bar.show_status(StatusInfo(online=True, last_sync=synced, scanner_tone="green"), "Alex")
    assert plain(bar.server.text()).startswith("Online · synced")
    assert plain(bar.queue.text()) == "To send: 0"
    assert plain(bar.scanner.text()) == "Scanner ✔"
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
    assert plain(bar.server.text()).startswith("OFFLINE since")
    assert plain(bar.queue.text()) == "To send: 12"
    assert plain(bar.scale.text()) == "Scale: Scale is moving: wait until it settles."
    assert "c62828" in bar.server.styleSheet()  # red


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform, on show()
def test_the_document_printer_has_a_line_when_the_station_has_one(qtbot: QtBot) -> None:
    bar = StationStatusBar()
    qtbot.addWidget(bar)
    bar.show()
    bar.show_status(StatusInfo(), "Alex")
    assert not bar.documents.isVisible()  # no document printer: nothing to say
    waiting = "Document printer out of paper: load paper · 2 slip(s) waiting"
    bar.show_status(StatusInfo(documents=waiting, documents_tone="red"), "Alex")
    assert bar.documents.isVisible() and plain(bar.documents.text()) == waiting
    assert "c62828" in bar.documents.styleSheet()  # red
    bar.show_status(StatusInfo(documents="Document printer ready", documents_tone="green"), "A")
    assert plain(bar.documents.text()) == "Document printer ✔"
