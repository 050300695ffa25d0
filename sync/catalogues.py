"""Is every language's gettext catalogue complete? One check for the station and the console.

The station (`app/i18n.py`, `{name}` placeholders) and the console (`service/web/i18n.py`,
Jinja's `%(name)s`) each compare the sentences their code marks today with a template (`.pot`)
and with one `.po` per language; this module is the comparison, so both apply the same
rules. It lives beside `sync.languages` because both sides may import it (the service may not
import `app`).

What a release must not ship, each reported as one readable line:

* a template that is not the current extraction (a sentence missing from it or stale in it);
* a language without its `.po`, a sentence without a translation, a fuzzy translation (a
  guess nobody confirmed: gettext does not use it, the reader would see English), a plural
  with an empty form, a `Plural-Forms` header with the wrong number of forms for the language;
* a sentence the code no longer has, still in a `.po` (active or `#~` obsolete);
* a translation that drops or adds a placeholder, or cannot be formatted at all. The one
  freedom: the first plural form may leave out the count ("one item left", "jeden kus").
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog

MsgId = str | tuple[str, ...]
BabelId = str | tuple[str, ...] | list[str] | None


def key(message_id: BabelId) -> MsgId:
    """A message id as a set key: a plural's (singular, plural) as a tuple."""
    if isinstance(message_id, list | tuple):
        return tuple(message_id)
    return message_id or ""


Placeholders = Callable[[str], set[str]]


def brace_placeholders(text: str) -> set[str]:
    """`{names}` of a `str.format` sentence; a malformed one ("{box") raises ValueError."""
    return {
        field for _lit, field, _spec, _conv in string.Formatter().parse(text) if field is not None
    }


_PERCENT = re.compile(r"%(?:\((?P<name>[^)]*)\))?[-#0 +]*\d*(?:\.\d+)?(?P<kind>[a-zA-Z%])")


def percent_placeholders(text: str) -> set[str]:
    """`%(name)s` fields of a Jinja/Python `%` sentence ("%%" is a percent sign, no field)."""
    found = set()
    for match in _PERCENT.finditer(text):
        if match.group("kind") == "%":
            continue
        found.add(match.group("name") if match.group("name") is not None else "%")
    return found


def read(path: Path, code: str | None = None) -> Catalog:
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        return read_po(f, locale=code)


def _label(msgid: MsgId) -> str:
    return repr(msgid[0] if isinstance(msgid, tuple) else msgid)


def check(
    extracted: Iterable[BabelId],
    locale_dir: Path,
    template_name: str,
    languages: Iterable[str],
    placeholders: Placeholders = brace_placeholders,
    refresh: str = "./dev strings",
) -> list[str]:
    """Everything wrong with `locale_dir/<template_name>` and `locale_dir/<code>.po` for each
    of `languages`, compared with the `extracted` message ids; empty means complete."""
    from babel.messages.catalog import Catalog

    ids = {key(m) for m in extracted if m}
    problems: list[str] = []
    pot = locale_dir / template_name
    if not pot.is_file():
        problems.append(f"{template_name} missing: run {refresh}")
    else:
        template = {key(m.id) for m in read(pot) if m.id}
        for gone in sorted(template - ids, key=str):
            problems.append(
                f"{template_name}: stale {_label(gone)} (not in the code): run {refresh}"
            )
        for new in sorted(ids - template, key=str):
            problems.append(f"{template_name}: missing {_label(new)}: run {refresh}")
    for code in languages:
        path = locale_dir / f"{code}.po"
        if not path.is_file():
            problems.append(f"{code}.po missing: run {refresh}, then translate it")
            continue
        try:
            catalog = read(path, code)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is one problem line
            problems.append(f"{code}.po unreadable: {exc}")
            continue
        problems += _check_language(code, catalog, ids, placeholders, Catalog(locale=code))
    return problems


def _check_language(
    code: str, catalog: Catalog, ids: set[MsgId], placeholders: Placeholders, blank: Catalog
) -> list[str]:
    problems: list[str] = []
    if catalog.num_plurals != blank.num_plurals:
        problems.append(
            f"{code}.po: Plural-Forms has {catalog.num_plurals} forms, {code} needs "
            f"{blank.num_plurals} ({blank.plural_forms})"
        )
    have = {key(entry.id): entry for entry in catalog if entry.id}
    for obsolete in catalog.obsolete:
        problems.append(f"{code}.po: stale {_label(key(obsolete))} (obsolete #~ entry): delete it")
    for extra in sorted(set(have) - ids, key=str):
        problems.append(f"{code}.po: stale {_label(extra)} (not in the code)")
    for msgid in sorted(ids, key=str):
        entry = have.get(msgid)
        if entry is None:
            problems.append(f"{code}.po: missing {_label(msgid)} (not merged: run ./dev strings)")
            continue
        is_plural = isinstance(msgid, tuple)
        forms = [
            str(form or "")
            for form in (entry.string if isinstance(entry.string, tuple | list) else [entry.string])
        ]
        if is_plural != isinstance(entry.string, tuple | list):
            problems.append(f"{code}.po: {_label(msgid)} singular/plural does not match the code")
            continue
        if entry.fuzzy:
            problems.append(f"{code}.po: fuzzy (unconfirmed) translation of {_label(msgid)}")
            continue
        if not forms or not all(forms):
            empty = [i for i, form in enumerate(forms) if not form]
            what = (
                f"plural form(s) {empty} of" if is_plural and len(forms) > 1 else "translation of"
            )
            problems.append(f"{code}.po: missing {what} {_label(msgid)}")
            continue
        sources = list(msgid) if isinstance(msgid, tuple) else [msgid]
        try:
            want = set().union(*(placeholders(s) for s in sources))
        except ValueError as exc:
            problems.append(f"{code}.po: the code's sentence {_label(msgid)} is malformed: {exc}")
            continue
        for index, form in enumerate(forms):
            try:
                got = placeholders(form)
            except ValueError as exc:
                problems.append(
                    f"{code}.po: translation {form!r} of {_label(msgid)} malformed: {exc}"
                )
                continue
            may_drop = {"n", "num", "count"} if is_plural and index == 0 else set()
            dropped, added = (want - got) - may_drop, got - want
            if dropped or added:
                parts = []
                if dropped:
                    parts.append(f"drops {sorted(dropped)}")
                if added:
                    parts.append(f"adds {sorted(added)}")
                problems.append(
                    f"{code}.po: translation {form!r} of {_label(msgid)} {' and '.join(parts)}"
                )
    return problems
