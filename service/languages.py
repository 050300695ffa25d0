"""The languages Packbench speaks (sync/languages.py holds the list both sides read).

A code is a lower-case ISO 639-1 code; `None` for a person means "the site's default"
(station) or "the browser's" (console).
"""

from __future__ import annotations

from service.errors import ValidationFailed
from sync.languages import DEFAULT, LANGUAGES

__all__ = ["DEFAULT", "LANGUAGES", "language_code"]


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
