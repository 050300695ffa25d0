"""The view tests in a language of choice, and the pseudo-locale pass of `./dev test`.

`PACKBENCH_TEST_LANGUAGE=x-pseudo pytest tests/views` sets the station's site and current
language to the pseudo-locale before every view test (`app.i18n.pseudo`: every translated
sentence accented, 40 % longer, in `[...·]` brackets). After a test that passed, every visible
window is walked and the test FAILS on

* text left untranslated: English from the station's own code shown outside the pseudo
  brackets (`untranslated()` says exactly what counts, data does not), and
* clipped text, by the clipping check of tests/views/test_clipping.py (`clipped()`), now with
  the longer words.

A test that clips on purpose or shows no station text opts out with
`@pytest.mark.any_language`.
"""

from __future__ import annotations

import ast
import html
import itertools
import os
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from app import i18n

LANGUAGE_ENV = "PACKBENCH_TEST_LANGUAGE"
APP = Path(__file__).resolve().parents[2] / "app"


def chosen_language() -> str | None:
    return os.environ.get(LANGUAGE_ENV) or None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "any_language: the pseudo-locale pass does not walk this test's windows "
        "(it clips on purpose or shows no station text)",
    )


@pytest.fixture(autouse=True)
def _station_language(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[None]:
    """The chosen language as the site's: a station built from a config (language "en" by
    default) keeps it; a person's own language at login still wins, as at a real station."""
    lang = chosen_language()
    if lang is None:
        yield
        return
    i18n.set_site_language(lang)
    i18n.set_language(lang)
    # Pinned where every caller's write lands (also `from app.i18n import set_site_language`).
    monkeypatch.setattr(i18n, "_state", _PinnedSite(i18n._state, lang))
    # qtbot keeps only weak references: a test's local widget is gone when the test returns,
    # before the walk. Kept alive here until the test is torn down.
    from pytestqt.qtbot import QtBot

    kept: list[object] = []
    add_widget = QtBot.addWidget

    def keep(self: QtBot, widget: object, **kwargs: object) -> None:
        kept.append(widget)
        add_widget(self, widget, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(QtBot, "addWidget", keep)
    request.node.pseudo_kept = kept
    yield
    monkeypatch.undo()
    i18n.set_site_language(None)
    i18n.set_language(None)


class _PinnedSite(dict[str, str]):
    """app.i18n's state with the site language held at the test's language."""

    def __init__(self, state: dict[str, str], site: str) -> None:
        super().__init__(state)
        self.site = site

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key, self.site if key == "site" else value)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    result = yield
    if chosen_language() is not None and item.get_closest_marker("any_language") is None:
        problems = walk_windows(item)
        if problems:
            raise AssertionError(
                f"{len(problems)} text(s) untranslated or clipped in {chosen_language()} "
                "(tests/views/conftest.py):\n" + "\n".join(problems)
            )
    return result


# ------------------------------------------------------------------ what counts as English


# Data the view tests show (product names, batch descriptions, scale and printer faults the
# fakes make up): text a person typed or a device said, not the station's sentences.
DATA = (
    "Standard parcels, house carrier, afternoon wave",
    "Express before 16:00",
    "Large items, two-person lift",
    "MAIN",  # the stock location code
    # the service's own words in a 409 (test_supervisor_page), shown as the service sent them
    "Order ORD-1 was not changed: it was packed at station bench-2 meanwhile.",
)

_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
# A sentence may hold brackets of its own ("[ok] {check}: {detail}"): one level is allowed.
_PSEUDO = re.compile(r"\[(?:[^\[\]]|\[[^\[\]]*\])*·\]")
_TAG = re.compile(r"<[^>]+>")


def _words(text: str) -> list[list[str]]:
    """Runs of ASCII words, lower case: a run ends at anything but a space or an apostrophe
    between words, so "Box 2 of 3" is two runs and a pseudo-accented word ends a run."""
    runs = []
    for chunk in re.split(r"[^A-Za-z' ]+", text):
        run = [w.strip("'").lower() for w in chunk.split() if w.strip("'")]
        if run:
            runs.append(run)
    return runs


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


@cache
def station_english() -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
    """The English of the station's code: every string literal under app/ (docstrings aside),
    as whole one-word texts and as pairs of neighbouring words. Marked sentences are in it,
    and so are the ones nobody marked yet: both read as English on screen."""
    single: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for path in APP.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            if id(node) in skip:
                continue
            text = re.sub(r"\{[^{}]*\}", " 0 ", node.value)
            runs = _words(text)
            if len(runs) == 1 and len(runs[0]) == 1 and len(runs[0][0]) >= 3:
                single.add(runs[0][0])
            for run in runs:
                for a, b in itertools.pairwise(run):
                    if max(len(a), len(b)) >= 3:
                        pairs.add((a, b))
    return frozenset(single), frozenset(pairs)


def untranslated(text: str) -> str | None:
    """The English part of `text` if it shows station English outside the pseudo brackets:
    two neighbouring words that neighbour in the station's code ("Scan the", "the next"), or
    a whole one-word text that is a whole literal of it ("Skip", "packer"). Data (names,
    SKUs, order and batch numbers, units, the DATA above) does not count."""
    rest = html.unescape(_TAG.sub(" ", text)).replace("&", "")
    for data in DATA:
        rest = re.sub(rf"(?<!\w){re.escape(data)}(?!\w)", " ", rest)
    while True:
        stripped = _PSEUDO.sub(" ", rest)
        if stripped == rest:
            break
        rest = stripped
    single, pairs = station_english()
    runs = _words(rest)
    for run in runs:
        for a, b in itertools.pairwise(run):
            if (a, b) in pairs:
                return " ".join(run)
    one_word = len(runs) == 1 and len(runs[0]) == 1 and runs[0][0] in single
    if one_word and not re.search(r"[^\W\d_]", _WORD.sub("", rest)):  # the word alone
        return runs[0][0]
    return None


def shown_texts(root: object) -> Iterator[tuple[str, str]]:
    """(what, text) for every text a person sees in `root` and its visible children."""
    from PySide6.QtWidgets import (
        QAbstractButton,
        QComboBox,
        QDialogButtonBox,
        QGroupBox,
        QLabel,
        QLineEdit,
        QListWidget,
        QProgressBar,
        QTableWidget,
        QTabWidget,
        QWidget,
    )

    assert isinstance(root, QWidget)
    if root.windowTitle():
        yield "window title", root.windowTitle()
    for widget in [root, *root.findChildren(QWidget)]:
        if widget is not root and not widget.isVisibleTo(root):
            continue
        name = widget.objectName() or type(widget).__name__
        if name.startswith("qt_"):
            continue  # Qt's own parts (a wizard's Cancel), in Qt's translations
        if isinstance(widget, QLabel):
            yield name, widget.text()
        elif isinstance(widget, QAbstractButton):
            box = widget.parent()
            if isinstance(box, QDialogButtonBox) and box.standardButton(widget) != (
                QDialogButtonBox.StandardButton.NoButton
            ):
                continue  # Qt's own words, from Qt's translations
            yield name, widget.text()
        elif isinstance(widget, QGroupBox):
            yield name, widget.title()
        elif isinstance(widget, QTabWidget):
            for i in range(widget.count()):
                yield f"{name} tab", widget.tabText(i)
        elif isinstance(widget, QLineEdit):
            if not widget.text():
                yield f"{name} hint", widget.placeholderText()
        elif isinstance(widget, QComboBox):
            yield name, widget.currentText()
        elif isinstance(widget, QProgressBar) and widget.isTextVisible():
            yield name, widget.text()
        elif isinstance(widget, QTableWidget):
            for col in range(widget.columnCount()):
                head = widget.horizontalHeaderItem(col)
                if head is not None:
                    yield f"{name} heading", head.text()
            for row in range(widget.rowCount()):
                for col in range(widget.columnCount()):
                    cell = widget.item(row, col)
                    if cell is not None:
                        yield f"{name} cell", cell.text()
        elif isinstance(widget, QListWidget):
            for row in range(widget.count()):
                yield f"{name} entry", widget.item(row).text()


def walk_windows(item: pytest.Item) -> list[str]:
    """Untranslated and clipped texts in every visible top-level window, and untranslated
    texts in the test's own widgets (qtbot.addWidget, kept alive by `_station_language`) that
    it never showed; one line each."""
    from PySide6.QtWidgets import QApplication, QDialog, QMainWindow

    from tests.views.test_clipping import clipped

    if QApplication.instance() is None:
        return []
    QApplication.processEvents()  # pending layouts, as a person would see the window
    windows = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    for widget in getattr(item, "pseudo_kept", []):
        if widget not in windows:
            windows.append(widget)
    problems: list[str] = []
    for window in windows:
        try:
            where = window.objectName() or type(window).__name__
            for what, text in shown_texts(window):
                if text and (english := untranslated(text)) is not None:
                    problems.append(f"untranslated in {where} {what}: {text!r} ({english!r})")
            # Clipping is measured on the windows a person sees (the station window, dialogs),
            # shown: a bare part shown alone at its default size is not how it is laid out.
            if window.isVisible() and isinstance(window, QMainWindow | QDialog):
                problems += [f"clipped in {where}: {p}" for p in clipped(window)]
        except RuntimeError:  # deleted on the C++ side by the test
            continue
    return list(dict.fromkeys(problems))
