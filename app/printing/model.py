"""The one label model every renderer draws: elements at millimetre positions on a medium.

Coordinates start at the top-left corner of the medium and grow right and down, like ZPL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from PIL import Image
from reportlab.pdfbase.pdfmetrics import stringWidth

from app.printing.errors import LabelError, LabelTooLarge

MM_PER_INCH = 25.4
PT_PER_MM = 72 / MM_PER_INCH


@dataclass(frozen=True, slots=True)
class Media:
    """A page or label size in millimetres."""

    name: str
    width_mm: float
    height_mm: float

    def dots(self, dpi: int) -> tuple[int, int]:
        """Width and height in printer dots at `dpi`."""
        return mm_to_dots(self.width_mm, dpi), mm_to_dots(self.height_mm, dpi)


MEDIA_4X6 = Media("4x6", 101.6, 152.4)
MEDIA_4X3 = Media("4x3", 101.6, 76.2)
MEDIA_A6 = Media("A6", 105.0, 148.0)
MEDIA_A4 = Media("A4", 210.0, 297.0)
MEDIA_100X150 = Media("100x150", 100.0, 150.0)
MEDIA_BY_NAME = {
    m.name.lower(): m for m in (MEDIA_4X6, MEDIA_4X3, MEDIA_A6, MEDIA_A4, MEDIA_100X150)
}


def mm_to_dots(mm: float, dpi: int) -> int:
    """Millimetres to whole printer dots."""
    return round(mm * dpi / MM_PER_INCH)


class Symbology(StrEnum):
    CODE128 = "code128"
    GS1_128 = "gs1_128"
    QR = "qr"
    DATAMATRIX = "datamatrix"

    @property
    def is_2d(self) -> bool:
        return self in (Symbology.QR, Symbology.DATAMATRIX)


@dataclass(frozen=True, slots=True)
class Text:
    """One line of text; `size_mm` is the font size (em height)."""

    x_mm: float
    y_mm: float
    text: str
    size_mm: float = 3.5
    bold: bool = False

    @property
    def font(self) -> str:
        """PDF font: Helvetica for Latin-1, else DejaVu Sans Condensed (app/printing/glyphs)."""
        if not set(self.text) <= LATIN_1:
            from app.printing.glyphs import check_printable

            check_printable(self.text, self.bold)
            return _fallback_font(self.bold)
        return "Helvetica-Bold" if self.bold else "Helvetica"

    def width_mm(self) -> float:
        """Width of the text when set in the label font."""
        return text_width_mm(self.text, self.size_mm, self.bold)


@dataclass(frozen=True, slots=True)
class Barcode:
    """A barcode. For 1D codes `height_mm` is the bar height; `module_mm` is the narrow bar
    (1D) or cell size (2D). GS1-128 values are written with AIs in brackets: (01)...(10)...
    """

    x_mm: float
    y_mm: float
    value: str
    symbology: Symbology = Symbology.CODE128
    height_mm: float = 15.0
    module_mm: float = 0.375
    show_text: bool = True

    def size_mm(self) -> tuple[float, float]:
        """Width and height of the symbol (without quiet zones, without the caption)."""
        from app.printing.symbols import symbol_size

        columns, rows = symbol_size(self.symbology, self.value)
        width = columns * self.module_mm
        if self.symbology.is_2d:
            return width, rows * self.module_mm
        return width, self.height_mm

    def quiet_zone_mm(self) -> float:
        """Blank margin each side that a scanner needs (10 modules 1D, 4 QR, 1 DataMatrix)."""
        modules = {Symbology.QR: 4, Symbology.DATAMATRIX: 1}.get(self.symbology, 10)
        return modules * self.module_mm

    def caption_mm(self) -> float:
        """Height of the human-readable line under a 1D code (0 when hidden)."""
        return 0.0 if self.symbology.is_2d or not self.show_text else CAPTION_SIZE_MM + 1.0


CAPTION_SIZE_MM = 3.0


@dataclass(frozen=True, slots=True)
class Line:
    """A horizontal or vertical rule."""

    x1_mm: float
    y1_mm: float
    x2_mm: float
    y2_mm: float
    thickness_mm: float = 0.5

    def __post_init__(self) -> None:
        if self.x1_mm != self.x2_mm and self.y1_mm != self.y2_mm:
            raise LabelError("Only horizontal and vertical lines can be printed on every printer")


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle outline, or a filled block when `filled`."""

    x_mm: float
    y_mm: float
    width_mm: float
    height_mm: float
    thickness_mm: float = 0.5
    filled: bool = False


@dataclass(frozen=True, slots=True)
class Picture:
    """A raster image (logo, carrier graphic) scaled to the given box."""

    x_mm: float
    y_mm: float
    width_mm: float
    height_mm: float
    image: Image.Image = field(compare=False, repr=False)


Element = Text | Barcode | Line | Box | Picture


@dataclass(frozen=True, slots=True)
class Label:
    """One page: a medium and the elements drawn on it, in drawing order."""

    media: Media
    elements: tuple[Element, ...]
    name: str = "label"

    def check_fits(self) -> None:
        """Raise `LabelTooLarge` naming the first element (with quiet zone) off the medium."""
        for element in self.elements:
            left, top, right, bottom = bounds_mm(element)
            tolerance = 0.01
            if (
                left < -tolerance
                or top < -tolerance
                or right > self.media.width_mm + tolerance
                or bottom > self.media.height_mm + tolerance
            ):
                raise LabelTooLarge(
                    f"The {self.name} does not fit on {self.media.name} media: "
                    f"{describe(element)} reaches outside the label",
                    detail=f"bounds=({left:.1f},{top:.1f},{right:.1f},{bottom:.1f}) mm",
                )
        self.check_overlaps()

    def check_overlaps(self) -> None:
        """Raise `LabelTooLarge` when two texts, barcodes (with quiet zones) or pictures overlap.

        Rules and frames may cross anything; a barcode's quiet zone or a text's box may not
        touch another block, or the scanner reads nothing and the packer reads garbage.
        """
        blocks = [e for e in self.elements if isinstance(e, Text | Barcode | Picture)]
        rects = [bounds_mm(e) for e in blocks]
        for i, a in enumerate(rects):
            for j in range(i + 1, len(rects)):
                b = rects[j]
                if (
                    min(a[2], b[2]) - max(a[0], b[0]) > 0.05
                    and min(a[3], b[3]) - max(a[1], b[1]) > 0.05
                ):
                    raise LabelTooLarge(
                        f"The {self.name} cannot be printed: {describe(blocks[i])} overlaps "
                        f"{describe(blocks[j])}",
                        detail=f"{a} / {b}",
                    )


def bounds_mm(element: Element) -> tuple[float, float, float, float]:
    """Left, top, right, bottom of an element in mm, quiet zones included."""
    if isinstance(element, Text):
        # Descenders reach about 0.25 em below the baseline, which sits at ~0.8 em.
        return (
            element.x_mm,
            element.y_mm,
            element.x_mm + element.width_mm(),
            element.y_mm + element.size_mm * 1.05,
        )
    if isinstance(element, Barcode):
        width, height = element.size_mm()
        quiet = element.quiet_zone_mm()
        return (
            element.x_mm - quiet,
            element.y_mm - (quiet if element.symbology.is_2d else 0),
            element.x_mm + width + quiet,
            element.y_mm
            + height
            + element.caption_mm()
            + (quiet if element.symbology.is_2d else 0),
        )
    if isinstance(element, Line):
        half = element.thickness_mm / 2 if element.x1_mm == element.x2_mm else 0
        return (
            min(element.x1_mm, element.x2_mm) - half,
            min(element.y1_mm, element.y2_mm),
            max(element.x1_mm, element.x2_mm) + half,
            max(element.y1_mm, element.y2_mm) + element.thickness_mm,
        )
    return (
        element.x_mm,
        element.y_mm,
        element.x_mm + element.width_mm,
        element.y_mm + element.height_mm,
    )


def describe(element: Element) -> str:
    """A short phrase naming an element, for error messages."""
    if isinstance(element, Text):
        return f"the text {element.text[:30]!r}"
    if isinstance(element, Barcode):
        return f"the {element.symbology.value} barcode {element.value[:30]!r}"
    return f"a {type(element).__name__.lower()}"


@lru_cache(maxsize=4096)
def text_width_mm(text: str, size_mm: float, bold: bool) -> float:
    """Width of `text` in Helvetica (regular or bold) at `size_mm`."""
    font = "Helvetica-Bold" if bold else "Helvetica"
    if not set(text) <= LATIN_1:
        # Drawn in DejaVu Sans Condensed (app/printing/glyphs.py): measure it in that font.
        font = _fallback_font(bold)
    return float(stringWidth(text, font, size_mm * PT_PER_MM)) / PT_PER_MM


LATIN_1 = frozenset(chr(c) for c in (*range(0x20, 0x7F), *range(0xA0, 0x100)))


@lru_cache(maxsize=2)
def _fallback_font(bold: bool) -> str:
    from reportlab.pdfbase.pdfmetrics import registerFont
    from reportlab.pdfbase.ttfonts import TTFont

    from app.printing.glyphs import font_path

    name = "PackbenchFallback-Bold" if bold else "PackbenchFallback"
    registerFont(TTFont(name, font_path(bold)))
    return name


_BREAKS = re.compile(r"[^\S\u00a0\u202f]+")  # whitespace but the no-break spaces


def wrap_text(text: str, size_mm: float, width_mm: float, bold: bool = False) -> list[str]:
    """Split `text` into lines no wider than `width_mm`, breaking long words if needed.

    A no-break space (between an amount and its currency, "249,90 CZK") is not a break."""
    lines: list[str] = []
    current = ""
    for word in _BREAKS.split(text.strip()):
        if not word:
            continue
        candidate = f"{current} {word}".strip()
        if text_width_mm(candidate, size_mm, bold) <= width_mm:
            current = candidate
            continue
        if current:
            lines.append(current)
        while text_width_mm(word, size_mm, bold) > width_mm and len(word) > 1:
            cut = len(word)
            while cut > 1 and text_width_mm(word[:cut], size_mm, bold) > width_mm:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines
