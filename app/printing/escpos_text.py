"""Text and Code 128 data for ESC/POS printers: code pages, transliteration, code sets.

Letters: python-escpos's MagicEncode picks, per letter, a code page of the printer's
profile that holds it (CP852/CP1250/ISO 8859-2 for Central Europe, CP1257 Baltic, ...).
A letter no code page of the profile holds is transliterated in this stated order:
1. `TRANSLITERATION` (Romanian comma-below Ș ș Ț ț -> cedilla Ş ş Ţ ţ, which CP852 and
   CP1250 hold and Romanian readers accept; then letters with no decomposition: ł -> l, ...);
2. Unicode decomposition with the accents removed (ő -> o).
A letter still not printable is refused with `LabelError`: never a `?` on the label.
"""

from __future__ import annotations

import unicodedata

from escpos.magicencode import Encoder

from app.printing.errors import LabelError
from app.printing.symbols import FNC1

TRANSLITERATION: dict[str, str] = {
    "Ș": "Ş",
    "ș": "ş",
    "Ț": "Ţ",
    "ț": "ţ",
    "Ł": "L",
    "ł": "l",
    "Đ": "D",
    "đ": "d",
    "Ø": "O",
    "ø": "o",
    "ß": "ss",
    "Æ": "AE",
    "æ": "ae",
    "Œ": "OE",
    "œ": "oe",
    "Þ": "Th",
    "þ": "th",
    "’": "'",
    "‘": "'",
    "“": '"',
    "”": '"',
    "–": "-",
    "—": "-",
    "…": "...",
}


class EscPosLetters:
    """Which letters the printer profile's code pages hold; transliterates the others."""

    def __init__(self, code_pages: dict[str, str]) -> None:
        usable = {name: slot for name, slot in code_pages.items() if name != "Unknown"}
        self.encoder = Encoder(usable)

    def printable(self, char: str) -> bool:
        """True when some code page of the profile has `char` (ASCII always)."""
        if ord(char) < 128:
            return char.isprintable() or char == "\n"
        return self.encoder.find_suitable_encoding(char) is not None

    def prepare(self, text: str) -> str:
        """`text` with each letter no code page holds replaced as stated above."""
        out: list[str] = []
        for char in text:
            if self.printable(char):
                out.append(char)
                continue
            for candidate in (TRANSLITERATION.get(char, ""), _strip_accents(char)):
                if candidate and all(self.printable(c) for c in candidate):
                    out.append(candidate)
                    break
            else:
                raise LabelError(
                    f"The text {text[:40]!r} has a letter ({char}) this receipt printer cannot "
                    "print: enter it in Latin letters and print again"
                )
        return "".join(out)


def _strip_accents(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def code128_data(value: str) -> str:
    """python-escpos CODE128 data (`{A`/`{B`/`{C` code sets, `{1` = FNC1) of least width.

    Runs of four or more digits go in Code Set C (two digits a symbol character), everything
    else in Code Set B; an odd digit before a run stays in B. A GS1 value arrives with FNC1.
    """
    out: list[str] = []
    mode = ""
    index = 0
    while index < len(value):
        char = value[index]
        run = _digit_run(value, index)
        if char == FNC1:
            if not mode:
                mode = "C" if _digit_run(value, index + 1) >= 2 else "B"
                out.append("{" + mode)
            out.append("{1")
            index += 1
            continue
        if run >= 4 or (run >= 2 and run == len(value) - index and mode == "C"):
            if run % 2:
                mode = _switch(out, mode, "B")
                out.append(char)
                index += 1
                run -= 1
            mode = _switch(out, mode, "C")
            out += [chr(int(value[i : i + 2])) for i in range(index, index + run, 2)]
            index += run
            continue
        if not 32 <= ord(char) < 127:
            raise LabelError(f"Code 128 on this printer takes printable ASCII, not {char!r}")
        mode = _switch(out, mode, "B")
        out.append("{{" if char == "{" else char)
        index += 1
    return "".join(out)


def _digit_run(value: str, start: int) -> int:
    end = start
    while end < len(value) and value[end].isdigit() and value[end].isascii():
        end += 1
    return end - start


def _switch(out: list[str], mode: str, wanted: str) -> str:
    if mode != wanted:
        out.append("{" + wanted)
    return wanted
