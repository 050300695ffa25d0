"""Every sentence of the console goes through its catalogues: templates have no unmarked text,
each shipped `.po` holds exactly the extracted sentences, and a page in another language shows
the translations (of the templates and of the messages the console's Python makes)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from fastapi.testclient import TestClient

from service.languages import DEFAULT, LANGUAGES
from service.web import i18n
from tests.integration.console.conftest import Floor, sign_in

TEMPLATES = Path(i18n.__file__).parent / "templates"
PLACEHOLDER = re.compile(r"(%\([a-z_]+\)[0-9]*[a-z]|\{[a-z_]+\}|<[^>]*>)")
# What a template may show without a catalogue: the product's name and units.
NOT_SENTENCES = {"Packbench", "g", "mm"}


def _template() -> Catalog:
    with (i18n.LOCALE_DIR / "console.pot").open("rb") as f:
        return read_po(f)


def _pseudo(text: str) -> str:
    """A visibly different "translation" that keeps placeholders and markup working."""
    parts = PLACEHOLDER.split(text)
    return "⟦" + "".join(p if PLACEHOLDER.fullmatch(p) else p.upper() for p in parts) + "⟧"


def test_no_template_shows_text_outside_the_catalogue() -> None:
    unmarked = []
    for path in sorted(TEMPLATES.glob("*.html")):
        bare = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", " ", path.read_text(), flags=re.S)
        for attr in re.findall(r'(?:placeholder|aria-label|title|alt)="([^"]*)"', bare):
            if re.search(r"[A-Za-z]", attr):
                unmarked.append(f"{path.name}: attribute {attr!r}")
        text = re.sub(r"<[^>]*>", " ", bare)
        words = set(re.findall(r"[A-Za-z][A-Za-z'’]*", text)) - NOT_SENTENCES
        if words:
            unmarked.append(f"{path.name}: {sorted(words)}")
    assert not unmarked, "mark these with _() / ngettext():\n" + "\n".join(unmarked)


@pytest.mark.parametrize("code", sorted(set(LANGUAGES) - {DEFAULT}))
def test_each_catalogue_holds_exactly_the_extracted_sentences(code: str) -> None:
    template = {m.id if isinstance(m.id, str) else m.id[0]: m for m in _template() if m.id}
    with (i18n.LOCALE_DIR / f"{code}.po").open("rb") as f:
        catalog = read_po(f, locale=code)
    ids = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
    assert ids.keys() == template.keys(), "run `./dev strings`"
    for key, message in ids.items():
        assert message.pluralizable == template[key].pluralizable, key
    assert catalog.obsolete == {}
    # A translation that drops or renames a placeholder would fail when shown.
    broken = [(m.id, errors) for m, errors in catalog.check() if errors]
    assert not broken, broken
    assert f"Language: {code}" in (i18n.LOCALE_DIR / f"{code}.po").read_text(encoding="utf-8")


def test_a_german_reader_gets_the_german_catalogue(app_client: TestClient, floor: Floor) -> None:
    sign_in(app_client, "admin")
    app_client.headers["Accept-Language"] = "de-DE,de;q=0.9"
    page = app_client.get("/console/orders")
    assert page.status_code == 200 and '<html lang="de">' in page.text
    assert ">Aufträge<" in page.text and ">Orders<" not in page.text
    app_client.headers["Accept-Language"] = "en"
    assert ">Orders<" in app_client.get("/console/orders").text


PAGES = [
    "/console/",
    "/console/orders",
    "/console/exceptions",
    "/console/jobs?done=retried&n=3",
    "/console/batches?made=2",
    "/console/stations",
    "/console/dispatch",
    "/console/catalogue",
    "/console/catalogue/import",
    "/console/channels?released=1",
    "/console/users",
    "/console/audit",
    "/console/orders/999999",
]


def test_every_sentence_on_the_main_pages_comes_from_the_catalogue(
    app_client: TestClient, floor: Floor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _template()
    catalog.locale = "hu"  # type: ignore[assignment]
    for message in catalog:
        if isinstance(message.id, tuple):
            message.string = (_pseudo(message.id[0]), _pseudo(message.id[1]))
        elif message.id:
            message.string = _pseudo(message.id)
    with (tmp_path / "hu.po").open("wb") as f:
        write_po(f, catalog)
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    sign_in(app_client, "admin")
    app_client.headers["Accept-Language"] = "hu"
    english = sorted(
        (m.id if isinstance(m.id, str) else m.id[1] for m in catalog if m.id),
        key=len,
        reverse=True,
    )
    for path in [*PAGES, f"/console/orders/{floor.held_id}"]:
        page = app_client.get(path)
        assert page.status_code in (200, 404), path
        shown = html.unescape(re.sub(r"<[^>]*>", " ", page.text))
        outside = re.sub(r"⟦[^⟧]*⟧", " ", shown)
        # Any catalogue sentence of three words or more left in English was not translated.
        left = [e for e in english if e.count(" ") >= 2 and "%" not in e and e in outside]
        assert not left, (path, left)
    # The console's Python messages are translated when the page shows them.
    assert "⟦3 JOBS QUEUED AGAIN" in app_client.get("/console/jobs?done=retried&n=3").text
    assert "⟦2 BATCHES MADE.⟧" in app_client.get("/console/batches?made=2").text
    # An exception's sentence (a code and parameters) too, the data kept as it came.
    held = app_client.get(f"/console/orders/{floor.held_id}").text
    assert "⟦THE POSTCODE &#39;1011&#39; IS NOT VALID FOR DE.⟧" in held
    missing = app_client.get("/console/orders/999999")
    assert missing.status_code == 404 and "⟦NO ORDER 999999.⟧" in missing.text
