"""Which letters a printer's own font can print, and text drawn as a bitmap when it cannot.

The choice, per printer language (stated here so the preview never promises more than the
printer prints):
- ZPL: resident font 0 (`^A0`, CG Triumvirate) with `^CI28` (UTF-8) for printable ASCII and
  Latin-1 only, which every Zebra-compatible printer has. A line with any other letter
  (Ș ș Ț ț ă ő ű ł č ...) is drawn by the station in DejaVu Sans Condensed and sent as a `^GF`
  graphic: downloadable TrueType fonts (`^A@` + E:TT0003M_.TTF) are not on every printer and
  lack Ș/Ț (comma below) on several firmwares.
- ESC/POS: a code page that holds the letter (`escpos_text`), then a stated transliteration.
- PNG/PDF previews: DejaVu Sans Condensed where a letter is outside Helvetica's Latin-1.
A letter that DejaVu Sans lacks too (e.g. Chinese) is refused with the reason.
"""

from __future__ import annotations

import os
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from app.printing.errors import LabelError
from app.printing.model import LATIN_1 as RESIDENT_LETTERS

_FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/local/share/fonts",
    "C:/Windows/Fonts",
)
# Condensed where installed (fonts-dejavu-extra), else the plain face every Debian has
# (fonts-dejavu-core ships DejaVuSans only): the same letters, a little wider.
_FONT_FILES = {
    False: ("DejaVuSansCondensed.ttf", "DejaVuSans.ttf"),
    True: ("DejaVuSansCondensed-Bold.ttf", "DejaVuSans-Bold.ttf"),
}


def needs_graphic(text: str) -> bool:
    """True when a ZPL printer's resident font may lack a letter of `text`."""
    return not set(text) <= RESIDENT_LETTERS


@lru_cache(maxsize=2)
def font_path(bold: bool) -> str:
    """Path of DejaVu Sans Condensed, else DejaVu Sans (Debian package fonts-dejavu-core)."""
    for name in _FONT_FILES[bold]:
        for folder in _FONT_DIRS:
            path = os.path.join(folder, name)
            if os.path.exists(path):
                return path
    raise LabelError(
        "The station has no font for letters outside Latin-1: install the fonts-dejavu-core "
        "package (DejaVu Sans) and print again"
    )


@lru_cache(maxsize=2)
def _covered(bold: bool) -> frozenset[int]:
    from reportlab.pdfbase.ttfonts import TTFontFile

    return frozenset(TTFontFile(font_path(bold)).charToGlyph)


def missing_letters(text: str, bold: bool = False) -> list[str]:
    """Letters of `text` that neither the printer's font nor the station's font has."""
    if not needs_graphic(text):
        return []
    covered = _covered(bold)
    return sorted({ch for ch in text if ord(ch) not in covered and not ch.isspace()})


def check_printable(text: str, bold: bool = False) -> None:
    """Raise `LabelError` naming the letters no font can print (never a blank or a `?`)."""
    missing = missing_letters(text, bold)
    if missing:
        raise LabelError(
            f"The text {text[:40]!r} has letters no printer font has ({' '.join(missing[:8])}): "
            "enter the name or address in Latin letters and print again"
        )


@lru_cache(maxsize=64)
def _font(px: int, bold: bool) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path(bold), px)


def text_bitmap(text: str, height_px: int, bold: bool, max_width_px: int) -> Image.Image:
    """`text` drawn black on white, `height_px` em high, squeezed to `max_width_px` if wider."""
    check_printable(text, bold)
    rows = max(1, round(height_px * 1.05))
    # Scale the em so ascender to descender (comma below Ș, ogonek of ą) fits the text's box.
    ascent, descent = _font(max(6, height_px), bold).getmetrics()
    font = _font(max(6, height_px * rows // (ascent + descent)), bold)
    _left, _top, right, _bottom = font.getbbox(text, anchor="la")
    width = max(1, int(right) + 1)
    image = Image.new("L", (width, rows), 255)
    ImageDraw.Draw(image).text((0, 0), text, fill=0, font=font, anchor="la")
    if width > max_width_px:
        image = image.resize((max(1, max_width_px), rows), Image.Resampling.LANCZOS)
    return image.point(lambda v: 255 if v >= 128 else 0).convert("1", dither=Image.Dither.NONE)
