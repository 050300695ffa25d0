"""Read pseudo-locale text back as English, for view tests that check what a screen says.

In the pseudo-locale pass (`PACKBENCH_TEST_LANGUAGE=x-pseudo`, tests/views/conftest.py) the
screen shows "[Šçàñ ţĥé ñéẋţ îţéɱ.······]" where the English run shows "Scan the next item.".
A test that asserts on words writes `assert "Scan the next item" in plain(label.text())` and
passes in both runs; the conftest's walk still proves the sentence went through a catalogue.
"""

from __future__ import annotations

import re

from app.i18n import _ACCENTS

_BACK = str.maketrans({accented: ascii_ for ascii_, accented in _ACCENTS.items()})
# A sentence may hold brackets of its own ("[ok] {check}: {detail}"): one level is allowed.
_PADDED = re.compile(r"\[((?:[^\[\]]|\[[^\[\]]*\])*?)·+\]")


def plain(text: str) -> str:
    """`text` with every pseudo sentence turned back into its English ("" stays "")."""
    while True:
        stripped = _PADDED.sub(r"\1", text)
        if stripped == text:
            break
        text = stripped
    return text.translate(_BACK)
