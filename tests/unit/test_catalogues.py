"""Every language ships complete: the catalogue check of the test command, and the checker.

The first two tests are the release gate of issue 20: the station's and the console's template
must be the current extraction of the code and all nine translations complete, with the
placeholders of the English. They print one line per problem (`python -m app.i18n check` and
`python -m service.web.i18n check` print the same). The rest run the checker on small
catalogues written into tmp_path, one fault each, so a checker that lets a fault through fails.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from app import i18n
from service.web import i18n as console_i18n
from sync import catalogues
from sync.languages import DEFAULT, LANGUAGES

TRANSLATED = [c for c in LANGUAGES if c != DEFAULT]


def test_the_station_catalogues_are_current_and_complete() -> None:
    problems = i18n.check()
    assert problems == [], (
        f"{len(problems)} catalogue problem(s); ./dev strings, then translate:\n"
        + "\n".join(problems[:200])
    )


def test_the_console_catalogues_are_current_and_complete() -> None:
    problems = console_i18n.check()
    assert problems == [], (
        f"{len(problems)} console catalogue problem(s); ./dev strings, then translate:\n"
        + "\n".join(problems[:200])
    )


# ------------------------------------------------------------------ the checker itself

SOURCE = """
from app.i18n import Msg, _, plural

def screen(box, n):
    # TRANSLATORS: box = shipping carton
    _("Put box {box} on the scale.", box=box)
    Msg("Scan the next item.")
    return plural("{n} item left", "{n} items left", n)
"""


def fake_translation(text: str) -> str:
    """A stand-in translation keeping the placeholders: "Put box {box}" -> "PUT BOX {box}"."""
    out = []
    for literal, field, _spec, _conv in __import__("string").Formatter().parse(text):
        out.append(literal.upper())
        if field is not None:
            out.append("{" + field + "}")
    return "".join(out)


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    """(code root, locale dir): one module of marked sentences, a template, nine complete .po."""
    root = tmp_path / "src"
    root.mkdir()
    (root / "screen.py").write_text(SOURCE)
    locale = tmp_path / "locale"
    i18n.write_template(locale, root)
    i18n.update_catalogues(locale_dir=locale)
    for code in TRANSLATED:
        edit(locale, code, lambda m: fake_translation(m.id) if isinstance(m.id, str) else None)
        edit(
            locale,
            code,
            lambda m: (
                tuple(
                    fake_translation(m.id[min(i, 1)])
                    for i in range(len(m.string) if isinstance(m.string, tuple) else 2)
                )
                if isinstance(m.id, tuple)
                else None
            ),
        )
    return root, locale


def edit(locale: Path, code: str, change: object) -> None:
    """Rewrite `code.po` with `change(message)` as each message's string (None: unchanged)."""
    path = locale / f"{code}.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale=code)
    for message in catalog:
        if message.id:
            new = change(message)  # type: ignore[operator]
            if new is not None:
                message.string = new
    buffer = io.BytesIO()
    write_po(buffer, catalog)
    path.write_bytes(buffer.getvalue())


def set_string(locale: Path, code: str, msgid: object, value: object) -> None:
    edit(locale, code, lambda m: value if m.id == msgid else None)


def check(tree: tuple[Path, Path]) -> list[str]:
    root, locale = tree
    return i18n.check(locale, root)


def test_a_complete_set_passes_and_plural_forms_follow_the_language(
    tree: tuple[Path, Path],
) -> None:
    assert check(tree) == []
    with (tree[1] / "pl.po").open("rb") as f:
        polish = {m.id: m for m in read_po(f, locale="pl") if m.id}
    assert len(polish["{n} item left", "{n} items left"].string) == 3  # one, few, many
    # and the compiled catalogue speaks: the .po -> .mo the build ships
    (mo,) = [p for p in i18n.compile_catalogues(tree[1] / "mo", tree[1]) if p.stem == "de"]
    import gettext

    german = gettext.GNUTranslations(io.BytesIO(mo.read_bytes()))
    assert german.gettext("Scan the next item.") == "SCAN THE NEXT ITEM."
    assert german.ngettext("{n} item left", "{n} items left", 5) == "{n} ITEMS LEFT"


def test_a_template_that_is_not_the_extraction_is_reported(tree: tuple[Path, Path]) -> None:
    root, _locale = tree
    (root / "screen.py").write_text(
        SOURCE.replace("Scan the next item.", "Scan the next item now.")
    )
    problems = check(tree)
    assert "station.pot: stale 'Scan the next item.' (not in the code): run ./dev strings" in (
        problems
    )
    assert "station.pot: missing 'Scan the next item now.': run ./dev strings" in problems
    # every language too: the new sentence is missing, the old one stale
    assert "de.po: missing 'Scan the next item now.' (not merged: run ./dev strings)" in problems
    assert "hu.po: stale 'Scan the next item.' (not in the code)" in problems


def test_after_dev_strings_only_the_untranslated_sentence_is_left(
    tree: tuple[Path, Path],
) -> None:
    root, locale = tree
    (root / "screen.py").write_text(SOURCE.replace("Scan the next item.", "Scan the next one."))
    i18n.write_template(locale, root)
    i18n.update_catalogues(locale_dir=locale)
    problems = check(tree)
    # the gone sentence is dropped, not kept as a #~ obsolete entry; the new one is empty
    assert problems == [f"{c}.po: missing translation of 'Scan the next one.'" for c in TRANSLATED]


def test_a_missing_language_an_empty_and_a_fuzzy_translation_are_reported(
    tree: tuple[Path, Path],
) -> None:
    _root, locale = tree
    (locale / "sk.po").unlink()
    set_string(locale, "ro", "Scan the next item.", "")
    edit(locale, "it", lambda m: None)
    path = locale / "it.po"
    path.write_text(
        path.read_text().replace(
            'msgid "Scan the next item."', '#, fuzzy\nmsgid "Scan the next item."'
        )
    )
    problems = check(tree)
    assert problems == [
        "sk.po missing: run ./dev strings, then translate it",
        "ro.po: missing translation of 'Scan the next item.'",
        "it.po: fuzzy (unconfirmed) translation of 'Scan the next item.'",
    ]


def test_a_stale_sentence_in_a_language_is_reported(tree: tuple[Path, Path]) -> None:
    _root, locale = tree
    path = locale / "fr.po"
    path.write_text(
        path.read_text()
        + '\nmsgid "Old sentence."\nmsgstr "Vieille phrase."\n'
        + '\n#~ msgid "Older sentence."\n#~ msgstr "Phrase plus vieille."\n'
    )
    assert check(tree) == [
        "fr.po: stale 'Older sentence.' (obsolete #~ entry): delete it",
        "fr.po: stale 'Old sentence.' (not in the code)",
    ]


def test_a_dropped_an_added_and_a_broken_placeholder_are_reported(
    tree: tuple[Path, Path],
) -> None:
    _root, locale = tree
    box = "Put box {box} on the scale."
    set_string(locale, "de", box, "Karton auf die Waage stellen.")
    set_string(locale, "cs", box, "Dejte krabici {box} na váhu {scale}.")
    set_string(locale, "hu", box, "Tegye a(z) {doboz} dobozt a mérlegre.")
    set_string(locale, "es", box, "Ponga la caja {box en la báscula.")
    by_language = {p[:2]: p for p in check(tree)}
    assert by_language["cs"] == (
        "cs.po: translation 'Dejte krabici {box} na váhu {scale}.' of "
        "'Put box {box} on the scale.' adds ['scale']"
    )
    assert by_language["de"] == (
        "de.po: translation 'Karton auf die Waage stellen.' of 'Put box {box} on the scale.' "
        "drops ['box']"
    )
    assert by_language["es"].startswith(
        "es.po: translation 'Ponga la caja {box en la báscula.' of "
        "'Put box {box} on the scale.' malformed:"
    )
    assert by_language["hu"] == (
        "hu.po: translation 'Tegye a(z) {doboz} dobozt a mérlegre.' of "
        "'Put box {box} on the scale.' drops ['box'] and adds ['doboz']"
    )
    assert len(check(tree)) == 4


def test_plural_forms_each_need_a_translation_and_only_the_first_may_leave_out_the_count(
    tree: tuple[Path, Path],
) -> None:
    _root, locale = tree
    key = ("{n} item left", "{n} items left")
    set_string(locale, "pl", key, ("Został {n} element", "Zostały {n} elementy", ""))
    set_string(locale, "cs", key, ("Zbývá jedna položka", "Zbývají {n} položky", "Zbývá {n}"))
    set_string(locale, "ro", key, ("{n} articol", "Au rămas articole", "{n} de articole"))
    problems = check(tree)
    assert problems == [
        "pl.po: missing plural form(s) [2] of '{n} item left'",
        "ro.po: translation 'Au rămas articole' of '{n} item left' drops ['n']",
    ]  # Czech "jedna položka" for one: allowed


def test_a_plural_forms_header_of_another_language_is_reported(tree: tuple[Path, Path]) -> None:
    _root, locale = tree
    path = locale / "cs.po"
    text = path.read_text()
    header = next(line for line in text.splitlines() if line.startswith('"Plural-Forms:'))
    path.write_text(text.replace(header, '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"'))
    problems = check(tree)
    assert problems[0].startswith("cs.po: Plural-Forms has 2 forms, cs needs 3")


def test_the_console_rules_read_percent_placeholders() -> None:
    assert catalogues.percent_placeholders("%(count)s orders, 100%% done, %(name)s") == {
        "count",
        "name",
    }
    assert catalogues.brace_placeholders("Box {box} of {n}") == {"box", "n"}
    with pytest.raises(ValueError):
        catalogues.brace_placeholders("Box {box")


def test_the_console_check_reports_a_dropped_placeholder(tmp_path: Path) -> None:
    with (console_i18n.LOCALE_DIR / "console.pot").open("rb") as f:
        template = read_po(f)
    (tmp_path / "console.pot").write_bytes((console_i18n.LOCALE_DIR / "console.pot").read_bytes())
    ids = [m.id for m in template if m.id]
    with_field = next(
        (i for i in ids if isinstance(i, str) and catalogues.percent_placeholders(i)), None
    )
    for code in TRANSLATED:
        catalog = read_po(io.BytesIO((tmp_path / "console.pot").read_bytes()), locale=code)
        for message in catalog:
            if message.id:
                message.string = (
                    message.id
                    if isinstance(message.id, str)
                    else tuple(message.id[min(i, 1)] for i in range(catalog.num_plurals))
                )
                if code == "de" and message.id == with_field:
                    message.string = "Kein Platzhalter"
        buffer = io.BytesIO()
        write_po(buffer, catalog)
        (tmp_path / f"{code}.po").write_bytes(buffer.getvalue())
    problems = console_i18n.check(tmp_path)
    if with_field is None:  # no console sentence has a field today
        assert problems == []
    else:
        assert len(problems) == 1 and problems[0].startswith(
            "de.po: translation 'Kein Platzhalter'"
        )
        assert "drops" in problems[0]
