"""The languages Packbench speaks, by ISO 639-1 code: one list for stations, service and console.

Language codes travel on the wire (a user's language in the station's user list, an order's
language in its snapshot), so the list lives beside the wire format and both sides read it.
"""

from __future__ import annotations

DEFAULT = "en"
# code -> the language's own name (how a person finds theirs in a list)
LANGUAGES: dict[str, str] = {
    "en": "English",
    "de": "Deutsch",
    "cs": "Čeština",
    "sk": "Slovenčina",
    "pl": "Polski",
    "ro": "Română",
    "hu": "Magyar",
    "it": "Italiano",
    "es": "Español",
    "fr": "Français",
}

# Where a shop gives no locale, the destination country says which language a customer reads
# (the country's main language among ours; a country not listed reads English).
COUNTRY_LANGUAGE: dict[str, str] = {
    "DE": "de",
    "AT": "de",
    "LI": "de",
    "CZ": "cs",
    "SK": "sk",
    "PL": "pl",
    "RO": "ro",
    "MD": "ro",
    "HU": "hu",
    "IT": "it",
    "SM": "it",
    "VA": "it",
    "ES": "es",
    "FR": "fr",
    "MC": "fr",
    "LU": "fr",
    "GB": "en",
    "IE": "en",
    "MT": "en",
}


def normalise(value: str | None) -> str | None:
    """ "de_AT", "de-at", "DE" -> "de"; a language we do not ship or a malformed value -> None."""
    if not value or not isinstance(value, str):
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


def customer_language(locale: str | None, country: str | None) -> str:
    """The language an order's own papers are printed in: the shop's locale for the order if
    we ship it, else the destination country's language, else English."""
    code = normalise(locale)
    if code is not None:
        return code
    return COUNTRY_LANGUAGE.get((country or "").strip().upper(), DEFAULT)
