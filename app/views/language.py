"""The Qt side of a language switch: Qt's own words and formats follow `app.i18n`.

Our sentences come from `app.i18n` (gettext); what Qt writes itself follows here: the
default `QLocale` (numbers and dates Qt formats: spin boxes, chart axes) and Qt's standard
texts (OK/Cancel in a `QMessageBox`, Back/Next in the wizard) from the `qtbase_<code>.qm`
catalogues PySide6 ships. PySide6 ships no `qtbase_ro.qm`: for Romanian those few standard
buttons stay English, so the dialogs we build name their buttons through `_()` themselves
(`name_buttons`).

Views re-render on a switch without being recreated: each has a `retranslate()` that sets
its static texts and re-renders what it shows; the main window calls them when it sees
`app.i18n.current()` change (`StationWindow.show_model`) or when the bridge's
`language_changed` signal fires.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator
from PySide6.QtWidgets import QDialogButtonBox

from app import i18n
from app.i18n import _

log = logging.getLogger(__name__)

_installed: dict[str, QTranslator | str] = {}  # "qt" -> the translator in use, "lang" -> code


def qt_code(lang: str) -> str:
    """The language code Qt's catalogues use ("x-pseudo" has none: English buttons)."""
    return "en" if lang == i18n.PSEUDO else lang


def apply_qt_language(lang: str | None = None) -> str:
    """Make Qt format and word its standard texts in `lang` (default: the current language).

    Idempotent; returns the language applied. A missing `qtbase_<code>.qm` is logged once
    and leaves Qt's English standard buttons."""
    lang = lang or i18n.current()
    QLocale.setDefault(QLocale(i18n.babel_locale(lang)))
    app = QCoreApplication.instance()
    if app is None or _installed.get("lang") == lang:
        _installed["lang"] = lang if app is not None else ""
        return lang
    old = _installed.pop("qt", None)
    if isinstance(old, QTranslator):
        app.removeTranslator(old)
    code = qt_code(lang)
    if code != "en":
        folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        translator = QTranslator(app)
        if translator.load(f"qtbase_{code}", folder):
            app.installTranslator(translator)
            _installed["qt"] = translator
        else:
            log.info("no qtbase_%s.qm in %s: Qt's standard buttons stay English", code, folder)
    _installed["lang"] = lang
    return lang


def name_buttons(buttons: QDialogButtonBox) -> None:
    """Our words on a button box's standard buttons (also where Qt ships no catalogue)."""
    words = {
        QDialogButtonBox.StandardButton.Ok: _("OK"),
        QDialogButtonBox.StandardButton.Cancel: _("Cancel"),
        QDialogButtonBox.StandardButton.Close: _("Close"),
    }
    for which, text in words.items():
        button = buttons.button(which)
        if button is not None:
            button.setText(text)
