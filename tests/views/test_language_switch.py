"""A language switch on a live station window: every open view says its texts in the new
language at once, the same window and widgets, nothing recreated (issue 20).

The pseudo-locale stands in for a translation (accented and longer), so a text that did not
follow the switch stays plain English and fails the comparison.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, Qt
from pytestqt.qtbot import QtBot

from app import i18n
from app.i18n import pseudo, render, weight
from app.scanning.classify import classify
from app.views.language import apply_qt_language
from app.views.main_window import StationWindow
from app.views.settings_dialog import PrinterActions, SettingsDialog
from tests.support.screens import settle, station
from tests.support.screens import weigh as put_on_scale

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen platform, on show()


@pytest.fixture(autouse=True)
def english_after() -> Iterator[None]:
    yield
    i18n.set_site_language(None)
    i18n.set_language(None)
    apply_qt_language("en")


def _texts(window: StationWindow) -> dict[str, str]:
    """What a person reads on the open order, the status bar and the supervisor page."""
    pack, sup = window.pack, window.supervisor_page
    header = pack.lines.horizontalHeaderItem(2)
    return {
        "title": window.windowTitle(),
        "scanned header": header.text() if header else "",
        "box": pack.box_title.text(),
        "expected": pack.expected.text(),
        "who": window.status.user.text(),
        "queue": window.status.queue.text(),
        "supervisor tab": sup.tabs.tabText(2),
        "refresh": sup.refresh_button.text(),
        "login prompt": window.login.title.text(),
        "batches title": window.batch_page.batches_title.text(),
    }


def _in_english(window: StationWindow) -> None:
    """Start from English, whatever the run's language (the pseudo pass of tests/views)."""
    i18n.set_language("en")
    window.retranslate()


def _packing(qtbot: QtBot) -> StationWindow:
    window = station()
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.on_scan(classify(b"BADGE-P001"))
    window.on_scan(classify(b"ORD-100001"))
    settle()
    return window


def test_switching_language_rerenders_the_open_window_in_place(qtbot: QtBot) -> None:
    window = _packing(qtbot)
    _in_english(window)
    widgets = (window.pack, window.pack.lines, window.status, window.supervisor_page)
    english = _texts(window)
    assert english["scanned header"] == "Scanned"
    assert english["box"].startswith("Box 1 of 1")

    # what the runtime's language hook (DeviceBridge.language_changed) does on a switch
    i18n.set_language(i18n.PSEUDO)
    window.retranslate()
    switched = _texts(window)

    assert (window.pack, window.pack.lines, window.status, window.supervisor_page) == widgets
    for what, before in english.items():
        assert switched[what] != before, f"{what} still {before!r}"
    assert switched["scanned header"] == pseudo("Scanned")
    assert switched["refresh"] == pseudo("Refresh now")
    assert switched["supervisor tab"] == pseudo("Exceptions")
    assert switched["login prompt"] == pseudo("Scan your badge")
    box = window.runtime.model.box
    assert box is not None
    assert switched["box"] == pseudo("Box {box} of {boxes} · {type}").format(
        box=box.box_no, boxes=box.boxes, type=box.box_type
    )
    # numbers and dates Qt formats follow the language's locale (x-pseudo writes like German)
    assert QLocale().name() == "de_DE"
    assert QLocale().toString(1234.5, "f", 1) == "1.234,5"

    i18n.set_language("en")
    window.retranslate()
    assert _texts(window) == english
    assert QLocale().name() == "en_GB"
    # back to the site's language: in the pseudo pass the walk then checks every text again
    i18n.set_language(i18n.site_language())
    window.retranslate()


def test_a_login_that_switches_app_i18n_rerenders_without_a_call_from_the_runtime(
    qtbot: QtBot,
) -> None:
    """The runtime switches `app.i18n` at a badge login and shows its next model: the window
    sees the language changed and re-renders everything, the weight in the new format."""
    window = _packing(qtbot)
    _in_english(window)
    put_on_scale(window, 1250)
    settle()
    assert window.pack.weight.text().startswith("1.25\u00a0kg")
    i18n.set_language(i18n.PSEUDO)
    window.runtime.refresh()  # what any next model does
    assert window.pack.weight.text().startswith(render(weight(1250), i18n.PSEUDO))
    assert window.pack.weight.text().startswith("1,25\u00a0kg")
    assert window.status.queue.text().startswith("[Ţö šéñđ:")


def test_the_bridge_signal_rerenders_the_window(qtbot: QtBot) -> None:
    from app.bridge import DeviceBridge

    window = _packing(qtbot)
    bridge = DeviceBridge()
    bridge.language_changed.connect(window.retranslate)
    i18n.set_language(i18n.PSEUDO)
    bridge.language_changed.emit(i18n.PSEUDO)
    assert window.pack.lines.horizontalHeaderItem(0).text() == pseudo("SKU")  # type: ignore[union-attr]


def test_the_picker_at_the_login_screen_switches_the_station(qtbot: QtBot) -> None:
    window = station()
    qtbot.addWidget(window)
    window.show()
    _in_english(window)
    assert window.login.title.text() == "Scan your badge"
    assert window.change_language(i18n.PSEUDO) == i18n.PSEUDO
    assert window.login.title.text() == pseudo("Scan your badge")
    assert window.status.user.text() == pseudo("nobody logged in")


@pytest.mark.any_language  # ends in English on purpose: what it checks is the switch
def test_the_language_picker_switches_the_station_and_itself(qtbot: QtBot) -> None:
    """A packer at work picks English in F10 (the PB:LANG:en command when the runtime has
    it): the station and the open dialog say everything in English again."""
    window = _packing(qtbot)
    i18n.set_language(i18n.PSEUDO)
    window.retranslate()
    done = lambda: "done"  # noqa: E731
    dialog = SettingsDialog(
        window, PrinterActions(done, done, done), {"Scanner": "wedge"}, window.change_language
    )
    qtbot.addWidget(dialog)
    assert dialog.tabs.tabText(3) == pseudo("Language")
    codes = [
        dialog.languages.item(i).data(Qt.ItemDataRole.UserRole)
        for i in range(dialog.languages.count())
    ]
    assert codes == i18n.shipped() and "en" in codes
    assert dialog.languages.item(codes.index("en")).text() == "English (en)"
    dialog.languages.setCurrentRow(codes.index("en"))
    dialog.language_button.click()

    assert i18n.current() == "en"
    assert dialog.tabs.tabText(3) == "Language"
    assert dialog.device_labels[0].text() == "Scanner: wedge"
    assert window.pack.lines.horizontalHeaderItem(2).text() == "Scanned"  # type: ignore[union-attr]


def test_an_unknown_language_from_the_picker_keeps_the_site_language(qtbot: QtBot) -> None:
    window = _packing(qtbot)
    before = _texts(window)
    site = i18n.site_language()  # English, or the pseudo pass's language
    assert window.change_language("tlh") == site  # Klingon: logged once, the site's stays
    assert _texts(window) == before


def test_qt_standard_buttons_follow_from_the_shipped_qtbase_catalogue(qtbot: QtBot) -> None:
    folder = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))
    if not (folder / "qtbase_de.qm").is_file():
        pytest.skip(f"this PySide6 ships no qtbase_de.qm in {folder}")
    apply_qt_language("de")
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Abbrechen"
    apply_qt_language("en")
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Cancel"
