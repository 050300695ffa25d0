"""What a person reads, for tests that compare English sentences."""

from __future__ import annotations

from app import i18n


def en(text: object) -> str:
    """`text` (a Msg, joined sentences or a str) as an English reader sees it, with the
    no-break space a weight keeps before its unit shown as a plain space."""
    return i18n.render(text, "en").replace("\u00a0", " ")


def grams(value: int) -> str:
    """A weight as an English reader sees it: "440 g", "1.25 kg"."""
    return en(i18n.weight(value))
