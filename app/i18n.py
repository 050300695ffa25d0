"""The station in its reader's language: gettext catalogues, sentences rendered at the edge.

Every sentence a person reads at the station is an English message id marked for extraction:

* `_("Put box {box} on the scale.", box=2)` renders now, in the current language;
* `Msg("Put box {box} on the scale.", box=2)` keeps the sentence and its parameters and
  renders whenever it is shown (`str(msg)` or `msg.render(lang)`), so the pack-session core
  decides *what* to say and the screen says it in the language of whoever is logged in;
* `plural("{n} item left", "{n} items left", n)` picks the language's plural form;
* `N_("...")` only marks a sentence (tables of codes) for `_()` to look up later.

Parameters are named `{placeholders}`; a parameter that is itself a `Msg` is rendered in the
same language, and `weight()`, `money()`, `number()`, `date()` and `datetime_()` format by
the language's locale through Babel ("1,25 kg" in German, "1.25 kg" in English).

Why gettext for the whole station, Qt widgets included, and not Qt Linguist `.ts` files: the
pack-session core, the printers and the self-test are pure Python with no Qt (an import
contract), the service's console already uses gettext, and translators then get one `.po`
per language in the format every translation tool (Poedit, Weblate, Crowdin, Lokalize)
reads. Qt's own standard texts (dialog buttons) come from the `qtbase_<code>.qm` files that
PySide6 ships, installed by the views when the language changes.

Catalogues: `app/locale/station.pot` (extracted by `./dev strings`, i.e.
`python -m app.i18n extract`), one `app/locale/<code>.po` per language, compiled to
`<code>.mo` by the package build (`python -m app.i18n compile`); a source checkout without
`.mo` files compiles the `.po` in memory. Lookup falls back per sentence: the person's
language -> the site language -> English. An unknown language or an unusable catalogue is
logged once and shows the fallback; a message id is never shown.

`x-pseudo` (tests only) renders every sentence with accents and 40 % longer, so a sentence
that did not come through here stands out on screen and clipping shows up.
"""

from __future__ import annotations

import gettext
import io
import logging
import math
import string
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date as _date
from datetime import datetime as _datetime
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sync.languages import DEFAULT, LANGUAGES, normalise

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog

log = logging.getLogger(__name__)

DOMAIN = "station"
LOCALE_DIR = Path(__file__).parent / "locale"
PSEUDO = "x-pseudo"
# Babel locale used for numbers and dates per language (European formats for English too).
_LOCALES = {
    "en": "en_GB",
    "de": "de_DE",
    "cs": "cs_CZ",
    "sk": "sk_SK",
    "pl": "pl_PL",
    "ro": "ro_RO",
    "hu": "hu_HU",
    "it": "it_IT",
    "es": "es_ES",
    "fr": "fr_FR",
    PSEUDO: "de_DE",  # a comma decimal separator shows numbers that skipped the locale
}
KEYWORDS = {"_": None, "N_": None, "Msg": None, "plural": (1, 2)}

_lock = threading.Lock()
_state = {"language": DEFAULT, "site": DEFAULT}
_warned: set[str] = set()


# ------------------------------------------------------------------ which language


def shipped() -> list[str]:
    """The languages with a catalogue in this build (English always)."""
    have = {p.stem for p in LOCALE_DIR.glob("*.po")} | {p.stem for p in LOCALE_DIR.glob("*.mo")}
    return [code for code in LANGUAGES if code == DEFAULT or code in have]


def _warn_once(key: str, text: str, *args: object) -> None:
    with _lock:
        if key in _warned:
            return
        _warned.add(key)
    log.warning(text, *args)


def resolve(code: str | None) -> str:
    """The language a person set, if the station ships it; else the site's; else English.
    An unknown or unshipped language is logged once, never refused: the person still works."""
    if code == PSEUDO:
        return PSEUDO
    wanted = normalise(code)
    if code and wanted is None:
        _warn_once(
            f"unknown:{code}",
            "language %r is not one Packbench speaks; using %s",
            code,
            _state["site"],
        )
    elif wanted is not None and wanted not in shipped():
        _warn_once(
            f"unshipped:{wanted}", "no %s catalogue in this build; using %s", wanted, _state["site"]
        )
        wanted = None
    return wanted or _state["site"]


def set_site_language(code: str | None) -> str:
    """The station's default (its config's `language`), what anyone without their own sees."""
    site = normalise(code) if code != PSEUDO else PSEUDO
    if code and site is None:
        _warn_once(
            f"site:{code}", "site language %r is not one Packbench speaks; using English", code
        )
    _state["site"] = site or DEFAULT
    return _state["site"]


def set_language(code: str | None) -> str:
    """Switch the station to a person's language (None: the site's); returns the one in use."""
    _state["language"] = resolve(code)
    return _state["language"]


def current() -> str:
    return _state["language"]


def site_language() -> str:
    return _state["site"]


@contextmanager
def using(code: str | None) -> Iterator[str]:
    """Render in another language for a while (a customer's packing slip), then switch back."""
    before = _state["language"]
    _state["language"] = resolve(code)
    try:
        yield _state["language"]
    finally:
        _state["language"] = before


def babel_locale(lang: str | None = None) -> str:
    return _LOCALES.get(lang or current(), _LOCALES[DEFAULT])


@cache
def _babel(locale_name: str) -> Any:
    """Babel's Locale, parsed once: parsing the name on every number cost more than the number."""
    from babel import Locale

    return Locale.parse(locale_name)


@lru_cache(maxsize=4096, typed=True)
def _decimal(value: int | float | Decimal, pattern: str, lang: str) -> str:
    """A number in `lang`'s digits and separators. Remembered: a scan re-renders the same
    counts and weights (the line's 3 of 5, the box's 1.25 kg) on every screen update."""
    from babel.numbers import format_decimal

    return format_decimal(value, format=pattern, locale=_babel(babel_locale(lang)))


# ------------------------------------------------------------------ catalogues


class _Miss(gettext.NullTranslations):
    """The end of a fallback chain: English, and one log line per sentence nobody translated."""

    def __init__(self, chain: str) -> None:
        super().__init__()
        self._chain = chain

    def gettext(self, message: str) -> str:
        _warn_once(
            f"miss:{self._chain}:{message}",
            "no %s translation for %r; showing English",
            self._chain,
            message,
        )
        return message

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        self.gettext(msgid1)
        return msgid1 if n == 1 else msgid2


@cache
def _compiled(code: str) -> bytes | None:
    """The `.mo` bytes of a language: the built file, else the `.po` compiled in memory."""
    mo = LOCALE_DIR / f"{code}.mo"
    po = LOCALE_DIR / f"{code}.po"
    try:
        # A .mo older than its .po was compiled before the last edit: compile the .po. Two
        # seconds of grace: an installer writes the pair in any order, moments apart.
        if mo.is_file() and (not po.is_file() or mo.stat().st_mtime + 2 >= po.stat().st_mtime):
            return mo.read_bytes()
        if po.is_file():
            return _po_to_mo(po, code)
    except Exception as exc:  # noqa: BLE001 - a broken catalogue must not stop the station
        _warn_once(f"broken:{code}", "catalogue %s unusable, using the fallback: %s", code, exc)
    return None


def _po_to_mo(po: Path, code: str) -> bytes:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f, locale=code)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def _one(code: str) -> gettext.NullTranslations | None:
    if code == PSEUDO:
        return _Pseudo()
    data = _compiled(code)
    if data is None:
        return None
    try:
        return gettext.GNUTranslations(io.BytesIO(data))
    except (OSError, ValueError) as exc:
        _warn_once(f"broken:{code}", "catalogue %s unusable, using the fallback: %s", code, exc)
        return None


@cache
def translations(lang: str, site: str) -> gettext.NullTranslations:
    """The chain lang -> site -> English, each level filling what the one before lacks."""
    chain_name = f"{lang}>{site}" if site != lang else lang
    tail: gettext.NullTranslations = _Miss(chain_name)
    if lang == DEFAULT:
        return gettext.NullTranslations()
    head: gettext.NullTranslations | None = None
    for code in dict.fromkeys([lang, site]):
        if code == DEFAULT:
            break
        level = _one(code)
        if level is None:
            continue
        if head is None:
            head = level
        else:
            head.add_fallback(level)
    if head is None:
        return tail if lang not in (DEFAULT,) else gettext.NullTranslations()
    head.add_fallback(tail)
    return head


def reload() -> None:
    """Forget loaded catalogues (a test that writes a new one)."""
    _compiled.cache_clear()
    translations.cache_clear()
    _template_ids.cache_clear()
    with _lock:
        _warned.clear()


# ------------------------------------------------------------------ formatting


@dataclass(frozen=True, slots=True)
class Weight:
    grams: int

    def render(self, lang: str) -> str:
        if abs(self.grams) < 1000:
            return f"{_decimal(self.grams, '#,##0', lang)}\u00a0g"
        kg = Decimal(self.grams) / 1000
        return f"{_decimal(kg, '#,##0.00#', lang)}\u00a0kg"


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def render(self, lang: str) -> str:
        from babel.numbers import format_currency

        return format_currency(
            self.amount, self.currency, format="#,##0.00\u00a0¤¤", locale=_babel(babel_locale(lang))
        )


@dataclass(frozen=True, slots=True)
class Number:
    value: int | float | Decimal
    decimals: int = 0

    def render(self, lang: str) -> str:
        pattern = "#,##0" + ("." + "0" * self.decimals if self.decimals else "")
        return _decimal(self.value, pattern, lang)


@dataclass(frozen=True, slots=True)
class Percent:
    fraction: float | Decimal
    decimals: int = 1

    def render(self, lang: str) -> str:
        from babel.numbers import format_percent

        pattern = "#,##0" + ("." + "0" * self.decimals if self.decimals else "") + "%"
        return format_percent(self.fraction, format=pattern, locale=_babel(babel_locale(lang)))


@dataclass(frozen=True, slots=True)
class When:
    value: _date | _datetime
    part: str  # "date", "time", "datetime" or "medium_date"

    def render(self, lang: str) -> str:
        from babel import dates

        loc = _babel(babel_locale(lang))
        if self.part == "date":
            return dates.format_date(self.value, format="short", locale=loc)
        if self.part == "medium_date":
            return dates.format_date(self.value, format="medium", locale=loc)
        if self.part == "time":
            assert isinstance(self.value, _datetime)
            return dates.format_time(self.value, format="short", locale=loc)
        assert isinstance(self.value, _datetime)
        return dates.format_datetime(self.value, format="short", locale=loc)


def weight(grams: int) -> Weight:
    """A weight as the reader writes it: "440 g", "1.25 kg" / "1,25 kg"."""
    return Weight(int(grams))


def money(amount: Decimal | str | float, currency: str) -> Money:
    """An amount with its ISO currency: "249.90 RON" / "249,90 RON"."""
    return Money(Decimal(str(amount)), currency.upper())


def number(value: int | float | Decimal, decimals: int = 0) -> Number:
    return Number(value, decimals)


def percent(fraction: float | Decimal, decimals: int = 1) -> Percent:
    """0.991 -> "99.1%" / "99,1 %"."""
    return Percent(fraction, decimals)


def date(value: _date) -> When:
    return When(value, "date")


def medium_date(value: _date) -> When:
    """A date a customer reads at a glance: "6 May 2024", "6. 5. 2024", "06.05.2024"."""
    return When(value, "medium_date")


def time(value: _datetime) -> When:
    return When(value, "time")


def datetime_(value: _datetime) -> When:
    return When(value, "datetime")


def format_value(value: object, lang: str | None = None) -> str:
    """A parameter as text in `lang` (a Msg or a formatted quantity in that language)."""
    lang = lang or current()
    render = getattr(value, "render", None)
    if callable(render):
        return str(render(lang))
    return str(value)


# ------------------------------------------------------------------ sentences


class Msg:
    """A sentence and its parameters, rendered in whoever's language reads it, when it is read.

    `str(msg)` renders in the current language. Two messages are equal when their sentence and
    parameters are: tests and events compare what was meant, not a language's words."""

    __slots__ = ("n", "params", "plural_text", "text")

    def __init__(
        self, text: str, /, _plural: str | None = None, _n: int | None = None, **params: object
    ) -> None:
        self.text = text
        self.plural_text = _plural
        self.n = _n
        self.params: Mapping[str, object] = params

    @classmethod
    def of(cls, text: str, params: Mapping[str, object]) -> Msg:
        msg = cls(text)
        msg.params = dict(params)
        return msg

    def render(self, lang: str | None = None) -> str:
        lang = lang or current()
        tr = translations(lang, _state["site"])
        if self.plural_text is not None and self.n is not None:
            pattern = tr.ngettext(self.text, self.plural_text, self.n)
        else:
            pattern = tr.gettext(self.text)
        values = {k: format_value(v, lang) for k, v in self.params.items()}
        if self.n is not None:
            values.setdefault("n", format_value(self.n, lang))
        try:
            return pattern.format(**values)
        except (KeyError, IndexError, ValueError) as exc:
            _warn_once(
                f"fmt:{lang}:{self.text}",
                "translation of %r broken (%s); English shown",
                self.text,
                exc,
            )
            english = self.text if self.n is None or self.n == 1 else (self.plural_text or "")
            return english.format(**values)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        params = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"Msg({self.text!r}{params})"

    def _key(self) -> tuple[object, ...]:
        return (self.text, self.plural_text, self.n, tuple(sorted(self.params.items(), key=str)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Msg):
            return self._key() == other._key()
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.text, self.plural_text, self.n))

    def __add__(self, other: object) -> Joined:
        return Joined((self, other))


@dataclass(frozen=True, slots=True)
class Joined:
    """Sentences shown one after another ("2.3 kg is too heavy." + "A supervisor can override.")."""

    parts: tuple[object, ...]
    sep: str = " "

    def render(self, lang: str | None = None) -> str:
        return self.sep.join(t for t in (format_value(p, lang) for p in self.parts) if t)

    def __str__(self) -> str:
        return self.render()

    def __add__(self, other: object) -> Joined:
        return Joined((*self.parts, other), self.sep)


Text = Msg | Joined | str


def join(*parts: object, sep: str = " ") -> Joined:
    return Joined(tuple(parts), sep)


def plural(singular: str, plural_text: str, n: int, /, **params: object) -> Msg:
    """A sentence whose words depend on a count: `{n}` in it is the count."""
    return Msg(singular, _plural=plural_text, _n=n, **params)


def _(text: str, /, **params: object) -> str:
    """`text` in the current language, its `{placeholders}` filled."""
    return Msg.of(text, params).render()


def N_(text: str) -> str:
    """Mark a sentence for extraction only; `_()` translates it where it is shown."""
    return text


def render(text: object, lang: str | None = None) -> str:
    """Any text a screen or a printer gets (a Msg, a Joined, a plain str) in `lang`."""
    return format_value(text, lang)


# ------------------------------------------------------------------ pseudo-locale

_ACCENTS = dict(
    zip(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "àƀçđéƒĝĥîĵķĺɱñöþǫŕšţûṽŵẋýžÀƁÇĐÉƑĜĤÎĴĶĹṀÑÖÞǪŔŠŢÛṼŴẊÝŽ",
        strict=True,
    )
)


def pseudo(text: str) -> str:
    """ "Put box {box} on the scale." -> "[Ṕûţ ƀöẋ {box} öñ ţĥé šçàļé.·········]": accented,
    placeholders kept, 40 % longer (the bracketed padding)."""
    out: list[str] = []
    for literal, field, spec, conv in string.Formatter().parse(text):
        out.append("".join(_ACCENTS.get(c, c) for c in literal))
        if field is not None:
            out.append(
                "{" + field + ("!" + conv if conv else "") + (":" + spec if spec else "") + "}"
            )
    body = "".join(out)
    pad = max(1, math.ceil(len(text) * 0.4) - 2)
    return f"[{body}{'·' * pad}]"


@cache
def _template_ids() -> frozenset[str] | None:
    """The sentences of the extracted template (None: no template in this build)."""
    pot = LOCALE_DIR / f"{DOMAIN}.pot"
    if not pot.is_file():
        return None
    ids = (m.id for m in _read(pot) if m.id)
    return frozenset(i if isinstance(i, str) else i[0] for i in ids)


class _Pseudo(gettext.NullTranslations):
    """Only a sentence the template holds is accented: one passed through `_()` but never
    extracted (a variable, a call inside an f-string) would reach no translator, so it stays
    plain English here and the pseudo-locale pass finds it."""

    def gettext(self, message: str) -> str:
        ids = _template_ids()
        return pseudo(message) if ids is None or message in ids else message

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        ids = _template_ids()
        chosen = msgid1 if n == 1 else msgid2
        return pseudo(chosen) if ids is None or msgid1 in ids else chosen


# ------------------------------------------------------------------ translator workflow


def placeholders(text: str) -> set[str]:
    """The `{names}` a sentence fills ("{n}" included); a malformed one raises ValueError."""
    return {f for _lit, f, _s, _c in string.Formatter().parse(text) if f is not None}


def extract(root: Path | None = None) -> Catalog:
    """Every marked sentence under app/, as a Babel catalogue (the template)."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    root = root or Path(__file__).parent
    catalog = Catalog(project="Packbench station", fuzzy=False, charset="utf-8")
    found = extract_from_dir(
        str(root),
        method_map=[("**.py", "python")],
        keywords=KEYWORDS,
        comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
    )
    for filename, lineno, message, comments, context in found:
        catalog.add(
            message, None, [(f"app/{filename}", lineno)], auto_comments=comments, context=context
        )
    return catalog


def _write(catalog: Catalog, path: Path) -> None:
    from babel.messages.pofile import write_po

    buffer = io.BytesIO()
    write_po(
        buffer,
        catalog,
        width=100,
        omit_header=False,
        sort_output=True,
        include_lineno=False,
        ignore_obsolete=False,
    )
    text = buffer.getvalue().decode()
    # the creation date changes on every run; keep the file stable when nothing else does
    text = (
        "\n".join(line for line in text.splitlines() if not line.startswith('"POT-Creation-Date:'))
        + "\n"
    )
    path.write_text(text, encoding="utf-8")


def _read(path: Path, code: str | None = None) -> Catalog:
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        return read_po(f, locale=code)


def write_template(locale_dir: Path | None = None, root: Path | None = None) -> Path:
    locale_dir = locale_dir or LOCALE_DIR
    path = locale_dir / f"{DOMAIN}.pot"
    locale_dir.mkdir(exist_ok=True)
    _write(extract(root), path)
    return path


def update_catalogues(
    codes: Iterable[str] | None = None, locale_dir: Path | None = None
) -> list[Path]:
    """Merge the template into each language's `.po`: new sentences come in empty, gone ones
    are dropped (not kept as `#~` obsolete entries, which the check would call stale)."""
    from babel.messages.catalog import Catalog

    locale_dir = locale_dir or LOCALE_DIR
    template = _read(locale_dir / f"{DOMAIN}.pot")
    written = []
    for code in codes or [c for c in LANGUAGES if c != DEFAULT]:
        path = locale_dir / f"{code}.po"
        catalog = _read(path, code) if path.is_file() else Catalog(locale=code, fuzzy=False)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        _write(catalog, path)
        written.append(path)
    return written


def compile_catalogues(out_dir: Path | None = None, locale_dir: Path | None = None) -> list[Path]:
    """`<code>.po` -> `<code>.mo` (packaging/build and packaging/packbench.spec run this; fuzzy
    entries are left out, as gettext would)."""
    locale_dir = locale_dir or LOCALE_DIR
    out_dir = out_dir or locale_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for po in sorted(locale_dir.glob("*.po")):
        target = out_dir / f"{po.stem}.mo"
        target.write_bytes(_po_to_mo(po, po.stem))
        written.append(target)
    return written


def check(locale_dir: Path | None = None, root: Path | None = None) -> list[str]:
    """What a release must not ship (sync/catalogues.py lists the rules): a template that is not
    the extraction of the code under `root`, a language missing a sentence or keeping a stale
    one, a fuzzy translation, a translation that drops or adds a placeholder. Every language of
    `sync.languages` but English must be complete. Empty means complete."""
    from sync import catalogues

    return catalogues.check(
        (m.id for m in extract(root)),
        locale_dir or LOCALE_DIR,
        f"{DOMAIN}.pot",
        [c for c in LANGUAGES if c != DEFAULT],
        catalogues.brace_placeholders,
    )


def length_review(top: int = 10, locale_dir: Path | None = None) -> list[str]:
    """The length review translators and the lead read side by side: per language, how much
    longer than the English it runs overall, and its `top` longest sentences against the
    English and against the longest other language (a screen must hold the longest)."""
    locale_dir = locale_dir or LOCALE_DIR
    per_lang: dict[str, dict[str, str]] = {}
    for code in LANGUAGES:
        path = locale_dir / f"{code}.po"
        if code == DEFAULT or not path.is_file():
            continue
        per_lang[code] = {
            entry.id: entry.string
            for entry in _read(path, code)
            if isinstance(entry.id, str)
            and entry.id
            and isinstance(entry.string, str)
            and entry.string
        }
    lines = []
    for code, table in per_lang.items():
        if not table:
            continue
        english = sum(len(k) for k in table)
        ours = sum(len(v) for v in table.values())
        lines.append(f"{code}: {len(table)} sentences, {ours / english:.2f}x the English length")
        ranked = sorted(
            table.items(), key=lambda kv: len(kv[1]) / max(len(kv[0]), 12), reverse=True
        )
        for msgid, text in ranked[:top]:
            others = [t[msgid] for c, t in per_lang.items() if c != code and msgid in t]
            longest = max((len(o) for o in others), default=0)
            lines.append(
                f"  {len(text) / max(len(msgid), 1):.2f}x ({len(text)} vs {len(msgid)} en, "
                f"longest other {longest}): {text!r}"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    """`python -m app.i18n extract|update|compile|check` (./dev strings runs extract+update)."""
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "check"
    if command == "extract":
        print(write_template())
    elif command == "update":
        for path in update_catalogues(args[1:] or None):
            print(path)
    elif command == "compile":
        for path in compile_catalogues(Path(args[1]) if len(args) > 1 else None):
            print(path)
    elif command == "check":
        problems = check()
        for line in problems:
            print(line)
        print(f"{len(problems)} problem(s)" if problems else "catalogues complete")
        return 1 if problems else 0
    elif command == "lengths":
        for line in length_review(int(args[1]) if len(args) > 1 else 10):
            print(line)
    else:
        print(
            "usage: python -m app.i18n extract|update|compile [dir]|check|lengths [top]",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
