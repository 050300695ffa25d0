"""The console in the reader's language: gettext catalogues, one per language, per request.

Templates mark their sentences with `_("...")` (and `{% trans %}`); `pybabel extract`
collects them into `locale/console.pot` (`./dev console-strings`), a translator copies it to
`locale/<code>.po` and translates, and the console reads that `.po` when it starts (no
compiled files to build). A sentence without a translation shows in English.

Whose language: the signed-in person's own choice (saved with their account), else the
best match of the browser's Accept-Language among service.languages.LANGUAGES, else English.
"""

from __future__ import annotations

import gettext
import io
import logging
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.core import UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from service.languages import DEFAULT, LANGUAGES

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).parent / "locale"
_ENGLISH = gettext.NullTranslations()
_current: ContextVar[gettext.NullTranslations | None] = ContextVar(
    "console_translations", default=None
)


@cache
def translations(code: str, where: Path = LOCALE_DIR) -> gettext.NullTranslations:
    """The catalogue of a language (English, or a language without a `.po`: the English)."""
    po = where / f"{code}.po"
    if code == DEFAULT or not po.is_file():
        return gettext.NullTranslations()
    try:
        with po.open("rb") as f:
            catalog = read_po(f, locale=code)
    except (OSError, ValueError, UnknownLocaleError) as exc:
        log.warning("console catalogue %s unusable, showing English: %s", po, exc)
        return gettext.NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def available() -> dict[str, str]:
    """Languages a person may choose (every station language: missing sentences are English)."""
    return dict(LANGUAGES)


def from_browser(accept_language: str) -> str:
    """The best of LANGUAGES for an Accept-Language header ("de-AT,de;q=0.9,en;q=0.5")."""
    wanted: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        code = tag.strip().lower().split("-")[0]
        if code in LANGUAGES and q > 0:
            wanted.append((-q, i, code))
    return min(wanted)[2] if wanted else DEFAULT


def use(code: str) -> str:
    """Translate what this request renders into `code`; returns the code in use."""
    if code not in LANGUAGES:
        code = DEFAULT
    _current.set(translations(code))
    return code


def gettext_(message: str) -> str:
    """`message` in the current request's language."""
    return (_current.get() or _ENGLISH).gettext(message)


def ngettext_(singular: str, plural: str, n: int) -> str:
    """The singular or plural of a message in the current request's language."""
    return (_current.get() or _ENGLISH).ngettext(singular, plural, n)
