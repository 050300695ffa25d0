"""Small real gettext catalogues for tests, so a test can prove a sentence went through the
catalogue of a language (the shipped `.po` files are translated later, by the lead's round).

`station_catalogues(monkeypatch, tmp_path, {"pl": {...}})` writes `<code>.po` files with the
given translations into a temporary locale directory, points `app.i18n` at it and resets the
station to English; the fixture user resets it again afterwards.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from app import i18n

# Translations of the sentences the language tests walk through (a translator's work, not
# generated: a test comparing against these proves the catalogue was used).
SENTENCES: dict[str, dict[str, str]] = {
    "pl": {
        "Hello {name}. Scan an order or tote barcode.": (
            "Cześć {name}. Zeskanuj kod zamówienia lub pojemnika."
        ),
        "Scan your badge to start.": "Zeskanuj swój identyfikator, aby zacząć.",
    },
    "ro": {
        "Hello {name}. Scan an order or tote barcode.": (
            "Salut {name}. Scanează codul unei comenzi sau al unei lăzi."
        ),
        "Scan your badge to start.": "Scanează ecusonul pentru a începe.",
    },
    "de": {
        "This station now speaks {language} to you.": (
            "Diese Station spricht jetzt {language} mit dir."
        ),
        "Scan your badge to start.": "Scanne deinen Ausweis, um zu beginnen.",
    },
}


def write_catalogue(directory: Path, code: str, sentences: dict[str, str]) -> Path:
    catalog = Catalog(locale=code, fuzzy=False, charset="utf-8")
    for msgid, text in sentences.items():
        catalog.add(msgid, text)
    path = directory / f"{code}.po"
    with path.open("wb") as f:
        write_po(f, catalog)
    return path


def station_catalogues(
    monkeypatch: pytest.MonkeyPatch,
    directory: Path,
    languages: dict[str, dict[str, str]] | None = None,
) -> Path:
    """Point the station's i18n at `directory` holding these catalogues; English to start."""
    directory.mkdir(parents=True, exist_ok=True)
    for code, sentences in (languages or SENTENCES).items():
        write_catalogue(directory, code, sentences)
    monkeypatch.setattr(i18n, "LOCALE_DIR", directory)
    i18n.reload()
    i18n.set_site_language(None)
    i18n.set_language(None)
    return directory


def reset_station_language() -> None:
    i18n.set_site_language(None)
    i18n.set_language(None)
    i18n.reload()
