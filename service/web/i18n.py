"""The console in the reader's language: gettext catalogues, one per language, per request.

Templates mark their sentences with `_("...")` (and `{% trans %}`); `pybabel extract`
collects them into `locale/console.pot` (`./dev console-strings`), a translator copies it to
`locale/<code>.po` and translates, and the console reads that `.po` the first time someone
asks for the language (no compiled files to build). A sentence without a translation shows
in English. `python -m service.web.i18n` extracts the template again, `... update` merges it
into every language's `.po` (both run by `./dev strings`), `... check` says what is missing:
tests/unit/test_catalogues.py fails unless the template is current and all ten languages
are complete (sync/catalogues.py, the same rules as the station's).

Whose language: the signed-in person's own choice (saved with their account), else the
best match of the browser's Accept-Language among service.languages.LANGUAGES, else English.
"""

from __future__ import annotations

import gettext
import io
import logging
import sys
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Self

from babel.core import UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from markupsafe import escape

from service.languages import DEFAULT, LANGUAGES

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).parent / "locale"
_ENGLISH = gettext.NullTranslations()
_current: ContextVar[gettext.NullTranslations | None] = ContextVar(
    "console_translations", default=None
)


def translations(code: str) -> gettext.NullTranslations:
    """The catalogue of a language (English, or a language without a `.po`: the English)."""
    return _load(code, LOCALE_DIR)


@cache
def _load(code: str, where: Path) -> gettext.NullTranslations:
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


class N_(str):
    """A sentence from the console's Python, shown in the language of the page it lands on.

    Handlers make messages before `page()` knows the reader's language, so they mark them
    `N_("No order %(number)s.", number=n)`: the value is the English (it compares, joins and
    logs as before) and the template, which renders after `use()`, prints the translation.
    """

    _message: str
    _values: dict[str, object]

    def __new__(cls, message: str, **values: object) -> Self:
        made = super().__new__(cls, message % values if values else message)
        made._message = message
        made._values = values
        return made

    def __str__(self) -> str:
        said = gettext_(self._message)
        return said % self._values if self._values else said

    def __html__(self) -> str:
        return str(escape(str(self)))


class Np_(N_):
    """A sentence with a number, translated later: `Np_("%(num)s job", "%(num)s jobs", n)`."""

    _plural: str
    _n: int

    def __new__(cls, singular: str, plural: str, n: int, **values: object) -> Self:
        values = {"num": n, **values}
        made = super().__new__(cls, singular if n == 1 else plural, **values)
        made._message, made._plural, made._n = singular, plural, n
        return made

    def __str__(self) -> str:
        return ngettext_(self._message, self._plural, self._n) % self._values


METHODS = [("templates/**.html", "jinja2"), ("**.py", "python")]


def extract() -> Catalog:
    """Every sentence the console's templates and code mark for translation."""
    catalog = Catalog(project="Packbench console", charset="utf-8")
    here = Path(__file__).parent
    keywords = {**DEFAULT_KEYWORDS, "N_": None, "Np_": (1, 2)}
    for filename, lineno, message, comments, context in extract_from_dir(
        here,
        METHODS,
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
        keywords=keywords,
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def write_template(path: Path = LOCALE_DIR / "console.pot") -> int:
    """Write the extraction as a .pot (no dates, sorted: diffs show only real changes)."""
    catalog = extract()
    with path.open("wb") as f:
        write_po(f, catalog, omit_header=True, sort_output=True, width=100)
    return len(catalog)


def update_catalogues(locale_dir: Path | None = None) -> list[Path]:
    """Merge console.pot into each language's `.po`: new sentences empty, gone ones dropped."""
    locale_dir = locale_dir or LOCALE_DIR
    with (locale_dir / "console.pot").open("rb") as f:
        template = read_po(f)
    written = []
    for code in [c for c in LANGUAGES if c != DEFAULT]:
        path = locale_dir / f"{code}.po"
        if path.is_file():
            with path.open("rb") as f:
                catalog = read_po(f, locale=code)
        else:
            catalog = Catalog(locale=code, project="Packbench console", fuzzy=False)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        buffer = io.BytesIO()
        write_po(buffer, catalog, sort_output=True, width=100, omit_header=False)
        lines = buffer.getvalue().decode().splitlines()
        # the creation date changes on every run; keep the file stable when nothing else does
        text = "\n".join(x for x in lines if not x.startswith('"POT-Creation-Date:'))
        path.write_text(text + "\n", encoding="utf-8")
        written.append(path)
    return written


def check(locale_dir: Path | None = None) -> list[str]:
    """The console's catalogues against its code (sync/catalogues.py): empty means complete."""
    from sync import catalogues

    return catalogues.check(
        (m.id for m in extract()),
        locale_dir or LOCALE_DIR,
        "console.pot",
        [c for c in LANGUAGES if c != DEFAULT],
        catalogues.percent_placeholders,
        refresh="./dev strings",
    )


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "extract"
    if command == "extract":
        print(f"{write_template()} sentences in {LOCALE_DIR / 'console.pot'}")
    elif command == "update":
        for path in update_catalogues():
            print(path)
    elif command == "check":
        problems = check()
        print("\n".join(problems) or "console catalogues complete")
        return 1 if problems else 0
    else:
        print("usage: python -m service.web.i18n [extract|update|check]", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
