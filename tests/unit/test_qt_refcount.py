"""Guard against a Qt binding that leaks references to None (PySide6 6.12.0 did).

Every void Qt call then lowers None's reference count by one; on Python 3.11, where None is
not immortal, the station aborts ("deallocating None") after some thousand screen updates.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel, QTableWidget, QTableWidgetItem
from pytestqt.qtbot import QtBot


def test_void_qt_calls_do_not_consume_references_to_none(qtbot: QtBot) -> None:
    label = QLabel()
    table = QTableWidget(1, 1)
    table.setItem(0, 0, QTableWidgetItem("x"))
    qtbot.addWidget(label)
    qtbot.addWidget(table)
    before = sys.getrefcount(None)
    for i in range(2000):
        label.setText(str(i))
        item = table.item(0, 0)
        assert item is not None
        item.setText(str(i))
    lost = before - sys.getrefcount(None)
    assert lost < 100, f"{lost} references to None lost in 4000 Qt calls: a binding bug"
