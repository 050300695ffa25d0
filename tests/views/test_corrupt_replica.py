"""A damaged station database: the station says so and re-syncs only if the person agrees."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from app.config import StationPaths
from app.views.run import _open_replica
from sync.errors import ReplicaCorrupt


def _damaged(tmp_path: Path) -> StationPaths:
    paths = StationPaths.for_data_dir(tmp_path)
    paths.database.write_bytes(b"not a database, a broken disk block" * 100)
    return paths


def test_refusing_keeps_the_damaged_file_and_never_starts_empty(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _damaged(tmp_path)
    asked: list[str] = []

    def answer(_parent: object, title: str, text: str) -> QMessageBox.StandardButton:
        asked.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", answer)
    with pytest.raises(ReplicaCorrupt):
        _open_replica(paths)
    assert (asked and "damaged" in asked[0].lower()) or "corrupt" in asked[0].lower()
    assert paths.database.read_bytes().startswith(b"not a database")  # untouched


def test_agreeing_moves_the_file_aside_and_opens_a_fresh_replica(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _damaged(tmp_path)
    monkeypatch.setattr(QMessageBox, "question", lambda *_a: QMessageBox.StandardButton.Yes)
    replica = _open_replica(paths)
    try:
        assert replica.needs_counter_seed()  # fresh: asks the service where its ids stand
        kept = [p for p in tmp_path.iterdir() if ".corrupt-" in p.name]
        assert kept and kept[0].read_bytes().startswith(b"not a database")
    finally:
        replica.close()
