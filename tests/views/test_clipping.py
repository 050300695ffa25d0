"""Nothing on screen is clipped or elided: every screen and dialog, at 1024x768, 1366x768 and
1920x1080 (a 15.6" panel each), with the longest message of each kind, measured with
QFontMetrics against the widget that shows it.
"""

from __future__ import annotations

import itertools
import math

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app.scanning.classify import classify
from app.views.dialogs import PinDialog
from app.views.theme import SIZES_MM, size_px
from tests.support.screens import dialogs, screens, settle, station, supervisor_station

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen platform, on show()

SIZES = ((1024, 768), (1366, 768), (1920, 1080))
PANEL_INCHES = 15.6


def per_mm(width: int, height: int) -> float:
    return math.hypot(width, height) / PANEL_INCHES / 25.4


def _plain(text: str) -> str:
    return text.replace("&", "") if "&&" not in text else text


def clipped(root: QWidget) -> list[str]:
    """Every visible text in `root` that does not fit its widget, described."""
    problems: list[str] = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisibleTo(root) and widget is not root:
            continue
        if (
            isinstance(widget, QLabel)
            and widget.text()
            and widget.textFormat() != Qt.TextFormat.RichText
        ):
            rect = widget.contentsRect()
            margin = (
                widget.margin() * 2 + widget.indent()
                if widget.indent() > 0
                else widget.margin() * 2
            )
            width = rect.width() - margin
            metrics = QFontMetrics(widget.font())
            text = widget.text()
            if widget.wordWrap():
                needed = metrics.boundingRect(0, 0, width, 100000, Qt.TextFlag.TextWordWrap, text)
                if needed.width() > width or needed.height() > rect.height() + 1:
                    problems.append(f"{widget.objectName() or 'label'} wraps out: {text!r}")
            elif max(metrics.horizontalAdvance(line) for line in text.split("\n")) > width + 1:
                problems.append(f"{widget.objectName() or 'label'} too narrow: {text!r}")
        elif isinstance(widget, QAbstractButton) and widget.text():
            metrics = QFontMetrics(widget.font())
            if metrics.horizontalAdvance(_plain(widget.text())) > widget.width():
                problems.append(f"button too narrow: {widget.text()!r}")
        elif isinstance(widget, QProgressBar) and widget.isTextVisible():
            metrics = QFontMetrics(widget.font())
            if metrics.horizontalAdvance(widget.text()) > widget.width():
                problems.append(f"progress bar too narrow: {widget.text()!r}")
        elif isinstance(widget, QTableWidget):
            problems += _table_problems(widget)
        elif isinstance(widget, QLineEdit) and widget.placeholderText() and not widget.text():
            metrics = QFontMetrics(widget.font())
            room = widget.contentsRect().width() - 8  # the line edit's own text margins
            if metrics.horizontalAdvance(widget.placeholderText()) > room:
                problems.append(f"field hint cut: {widget.placeholderText()!r}")
        elif isinstance(widget, QListWidget):
            viewport = widget.viewport().rect()
            for row in range(widget.count()):
                item = widget.item(row)
                rect = widget.visualItemRect(item)
                metrics = QFontMetrics(item.font() if item.font() != QFont() else widget.font())
                if widget.wordWrap():  # wrapped at word boundaries or anywhere, as Qt draws it
                    flags = Qt.TextFlag.TextWordWrap | Qt.TextFlag.TextWrapAnywhere
                    needed = metrics.boundingRect(
                        0, 0, rect.width() - 8, 100000, flags, item.text()
                    )
                    too_big = needed.height() > rect.height() + 1
                else:
                    too_big = metrics.horizontalAdvance(item.text()) > rect.width()
                if not viewport.contains(rect) or too_big:
                    problems.append(f"list entry cut or scrolled away: {item.text()!r}")
    return problems


def _table_problems(table: QTableWidget) -> list[str]:
    problems = []
    for col in range(table.columnCount()):
        head = table.horizontalHeaderItem(col)
        if head is not None:
            metrics = QFontMetrics(table.horizontalHeader().font())
            if metrics.horizontalAdvance(head.text()) > table.columnWidth(col):
                problems.append(f"column heading cut: {head.text()!r}")
    for row in range(table.rowCount()):
        for col in range(table.columnCount()):
            item = table.item(row, col)
            if item is None or not item.text():
                continue
            # An item without a font of its own is drawn in the table's (styled) font.
            metrics = QFontMetrics(item.font() if item.font() != QFont() else table.font())
            # Qt's text margins in an item (focus frame + 1, both sides) and the grid line.
            width = (
                table.columnWidth(col)
                - 2
                * (
                    table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, table)
                    + 1
                )
                - 1
            )
            needed = metrics.boundingRect(
                0, 0, width, 100000, Qt.TextFlag.TextWordWrap, item.text()
            )
            fits_line = metrics.horizontalAdvance(item.text()) <= width
            fits_wrapped = (
                table.wordWrap()
                and needed.width() <= width
                and needed.height() <= table.rowHeight(row)
            )
            if not (fits_line or fits_wrapped):
                problems.append(f"cell ({row}, {col}) cut: {item.text()!r}")
    return problems


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_no_screen_clips_its_text(qtbot: QtBot, size: tuple[int, int]) -> None:
    window = station()
    qtbot.addWidget(window)
    window.apply_sizes(per_mm(*size))
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    found: dict[str, list[str]] = {}
    for name, widget in screens(window):
        window.apply_sizes(per_mm(*size))
        window.show_model(window.runtime.model)
        settle()
        problems = clipped(widget)
        if window.width() > size[0]:  # wider than the screen: the right side is cut off
            problems.append(f"window {window.width()} px wide on a {size[0]} px screen")
        if problems:
            found[name] = problems
    assert found == {}


# Translations run longer than English: the pseudo-locale (every sentence 40 % longer and
# accented) must fit too, at the common panel and the large one. (At 1024x768 the supervisor's
# batch names elide in the pseudo-locale: its progress bars take the room.)
PSEUDO_SIZES = ((1366, 768), (1920, 1080))


@pytest.mark.parametrize("size", PSEUDO_SIZES, ids=[f"{w}x{h}" for w, h in PSEUDO_SIZES])
def test_no_screen_clips_its_text_in_a_longer_language(qtbot: QtBot, size: tuple[int, int]) -> None:
    from app import i18n
    from app.views.language import apply_qt_language

    site = i18n.site_language()
    i18n.set_site_language(i18n.PSEUDO)  # the runtime starts in the site's language
    i18n.set_language(i18n.PSEUDO)
    try:
        window = station()
        qtbot.addWidget(window)
        window.apply_sizes(per_mm(*size))
        window.resize(*size)
        window.show()
        qtbot.waitExposed(window)
        found: dict[str, list[str]] = {}
        for name, widget in itertools.chain(screens(window), dialogs(window)):  # each as shown
            window.show_model(window.runtime.model)
            settle()
            if problems := clipped(widget):
                found[name] = problems
        assert window.login.title.text().startswith("[")  # the pseudo-locale is on
        assert found == {}
    finally:
        i18n.set_site_language(site)
        i18n.set_language(None)
        apply_qt_language(site)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_no_dialog_clips_its_text(qtbot: QtBot, size: tuple[int, int]) -> None:
    window = station()
    qtbot.addWidget(window)
    window.apply_sizes(per_mm(*size))
    window.resize(*size)
    window.show()
    found: dict[str, list[str]] = {}
    for name, dialog in dialogs(window):
        if problems := clipped(dialog):
            found[name] = problems
    assert found == {}


def test_sizes_are_millimetres_turned_into_pixels(qapp: QApplication) -> None:
    """The banner is 7.6 mm high whatever the panel: 30 px at 1366x768, 42 px at 1920x1080."""
    assert SIZES_MM["banner"] == 7.6
    assert size_px("banner", per_mm(1366, 768)) == 30
    assert size_px("banner", per_mm(1920, 1080)) == 42
    assert QApplication.instance() is not None


@pytest.mark.any_language  # cuts English text on purpose
def test_the_measure_finds_a_cut_label_a_cut_cell_and_a_cut_status(qtbot: QtBot) -> None:
    """The detector itself: what the issue saw ("Scale: not available: T") is found."""
    from app.views.status_bar import StationStatusBar

    root = QWidget()
    qtbot.addWidget(root)
    label = QLabel("Logged in: Alexandra Papadopoulou-Wojciechowska", root)
    label.setGeometry(0, 0, 120, 30)
    table = QTableWidget(1, 1, root)
    table.setGeometry(0, 40, 200, 100)
    table.setWordWrap(False)
    table.setItem(0, 0, QTableWidgetItem("Stainless steel insulated travel mug, 500 ml"))
    table.setColumnWidth(0, 80)
    root.resize(300, 200)
    root.show()
    settle()
    problems = clipped(root)
    assert any("too narrow" in p and "Logged in" in p for p in problems)
    assert any("cell (0, 0) cut" in p for p in problems)
    bar = StationStatusBar()
    qtbot.addWidget(bar)
    bar.resize(1024, 20)  # squeezed to one line: the wrapped scale error cannot fit
    bar.show()
    from app.station.screen import StatusInfo

    bar.show_status(StatusInfo(scale="not available: " + "T" * 80, scale_tone="red"), "Alex")
    bar.resize(1024, 20)
    settle()
    assert any("wraps out" in p for p in clipped(bar))


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_the_supervisor_returns_and_stock_tab_clips_nothing(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    """Returns waiting, dispositions per day, low stock, oversold and count differences."""

    def type_pin(dialog: QDialog) -> int:
        dialog.pin.setText("123456")  # type: ignore[attr-defined]
        return int(QDialog.DialogCode.Accepted.value)

    monkeypatch.setattr(PinDialog, "exec", type_pin)
    window = supervisor_station()
    qtbot.addWidget(window)
    window.apply_sizes(per_mm(*size))
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    window.on_scan(classify(b"BADGE-S001"))
    page = window.supervisor_page
    assert window.stack.currentWidget() is page
    page.tabs.setCurrentWidget(page.counts.parentWidget())
    settle()
    assert page.counts.rowCount() == 2 and page.dispositions.rowCount() == 7
    problems = clipped(page.tabs.currentWidget()) + clipped(page.tabs.tabBar())
    for table in (page.dispositions, page.low_stock, page.oversold, page.counts):
        if table.horizontalScrollBar().isVisible():  # columns hidden to the right
            problems.append(f"{table.horizontalHeaderItem(0).text()} table scrolls sideways")
    if window.width() > size[0]:
        problems.append(f"window {window.width()} px wide on a {size[0]} px screen")
    assert problems == []
