"""The languages Packbench speaks: one list for the station users, the console and its users.

Issue 20 brings the translations; until a language has a catalogue its texts show in English
(the console falls back per sentence, service/web/i18n.py). A code is a lower-case ISO 639-1
code; `None` for a person means "the site's default" (station) or "the browser's" (console).
"""

from __future__ import annotations

from service.errors import ValidationFailed

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


def language_code(value: str | None) -> str | None:
    """A language code as stored ("" or None: the default), or ValidationFailed saying which."""
    code = (value or "").strip().lower().replace("_", "-").split("-")[0]
    if not code:
        return None
    if code not in LANGUAGES:
        raise ValidationFailed(
            f"Unknown language {value!r}: use one of {', '.join(LANGUAGES)}.", field="language"
        )
    return code
