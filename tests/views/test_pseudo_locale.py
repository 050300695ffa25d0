"""The pseudo-locale pass's own rule (tests/views/conftest.py): station English outside the
pseudo brackets is found, translated text and data are not."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)
from pytestqt.qtbot import QtBot

from app import i18n
from tests.views.conftest import untranslated, walk_windows

pytestmark = [
    pytest.mark.any_language,  # shows raw English on purpose
    pytest.mark.qt_log_ignore("propagateSizeHints"),
]


def test_english_of_the_station_is_found_and_data_is_not() -> None:
    found = i18n.pseudo("Scan the next item.")
    assert untranslated(found) is None
    assert untranslated("Scan the next item.") == "scan the next item"
    # a sentence with a pseudo parameter inside another pseudo sentence
    nested = i18n.pseudo("Order {order} is on hold ({reason}).").format(
        order="ORD-1", reason=i18n.pseudo("damaged item")
    )
    assert untranslated(nested) is None
    # English half-way: the pseudo part is fine, the rest is not
    assert untranslated(found + " Scan your badge.") == "scan your badge"
    # one-word texts: a station word alone counts, data does not
    assert untranslated("Exceptions") == "exceptions"
    for data in (
        "ORD-100001",
        "KITCH-THERMO-500-MIDNIGHT-BLUE",
        "Alexandra Papadopoulou-Wojciechowska",
        "Stainless steel insulated travel mug with leak-proof lid and handle, 500 ml",
        "1,25\u00a0kg",
        "MAIN",
        "Standard parcels, house carrier, afternoon wave",
        "",
    ):
        assert untranslated(data) is None, data


def test_the_walk_names_each_english_widget_and_a_clipped_one(
    qtbot: QtBot, request: pytest.FixtureRequest
) -> None:
    i18n.set_language(i18n.PSEUDO)
    try:
        root = QDialog()
        root.setObjectName("probe")
        qtbot.addWidget(root)
        layout = QVBoxLayout(root)
        layout.addWidget(QLabel(i18n._("Scan your badge to start.")))
        layout.addWidget(QPushButton("Refresh now"))
        table = QTableWidget(1, 1)
        table.setHorizontalHeaderLabels([i18n._("Order")])
        table.setItem(0, 0, QTableWidgetItem("Not started"))
        layout.addWidget(table)
        cut = QLabel(i18n._("Put box {box} on the scale.", box=1), root)
        cut.setObjectName("cut")
        root.resize(400, 300)
        root.show()
        qtbot.waitExposed(root)
        cut.setGeometry(0, 0, 40, 20)
        problems = walk_windows(request.node)
    finally:
        i18n.set_language(None)
    mine = [p for p in problems if " probe " in p or "probe:" in p]
    assert "untranslated in probe QPushButton: 'Refresh now' ('refresh now')" in mine
    assert "untranslated in probe QTableWidget cell: 'Not started' ('not started')" in mine
    assert any(p.startswith("clipped in probe: cut too narrow") for p in mine)
    assert len(mine) == 3, mine


def test_plain_reads_pseudo_text_back_as_english() -> None:
    from tests.support.pseudo import plain

    nested = i18n.pseudo("Order {order} is on hold ({reason}).").format(
        order="ORD-1", reason=i18n.pseudo("damaged item")
    )
    assert plain(nested) == "Order ORD-1 is on hold (damaged item)."
    assert plain("Scan the next item.") == "Scan the next item."
    assert plain("[x] Box 1") == "[x] Box 1"  # brackets without the padding are text
