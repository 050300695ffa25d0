"""PNG preview renderer (Pillow): the same label model, drawn at a printer's dpi."""

from __future__ import annotations

import io
import os
from functools import lru_cache
from pathlib import Path

import reportlab
from PIL import Image, ImageDraw, ImageFont

from app.printing.glyphs import check_printable, font_path, needs_graphic
from app.printing.model import (
    CAPTION_SIZE_MM,
    Barcode,
    Box,
    Label,
    Line,
    Picture,
    Text,
    mm_to_dots,
)
from app.printing.symbols import bar_runs, modules_for
from app.printing.zpl_graphics import to_bitmap

# Helvetica-metric fonts first, so line widths match the PDF and the layout checks; reportlab's
# bundled Vera is always there but runs ~9% wider, so it is drawn slightly smaller.
_FONT_CANDIDATES = {
    False: [
        "/usr/share/fonts/opentype/urw-base35/NimbusSans-Regular.otf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "C:/Windows/Fonts/arial.ttf",
    ],
    True: [
        "/usr/share/fonts/opentype/urw-base35/NimbusSans-Bold.otf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
        "C:/Windows/Fonts/arialbd.ttf",
    ],
}
_VERA = Path(os.path.dirname(reportlab.__file__)) / "fonts"


@lru_cache(maxsize=64)
def _font(px: int, bold: bool) -> ImageFont.FreeTypeFont:
    for candidate in _FONT_CANDIDATES[bold]:
        if os.path.exists(candidate):
            return ImageFont.truetype(candidate, px)
    return ImageFont.truetype(
        str(_VERA / ("VeraBd.ttf" if bold else "Vera.ttf")), max(1, round(px * 0.91))
    )


def render_image(label: Label, dpi: int = 203) -> Image.Image:
    """Draw the label as a grayscale image (white background) at `dpi`."""
    label.check_fits()
    image = Image.new("L", label.media.dots(dpi), 255)
    draw = ImageDraw.Draw(image)

    def d(mm: float) -> int:
        return mm_to_dots(mm, dpi)

    for element in label.elements:
        if isinstance(element, Text):
            font = _font(max(6, d(element.size_mm)), element.bold)
            if needs_graphic(element.text):
                # The printer gets this line as a DejaVu bitmap: preview it the same way.
                check_printable(element.text, element.bold)
                font = ImageFont.truetype(font_path(element.bold), max(6, d(element.size_mm)))
            # Anchor at the ascender so y is the top of the text box, as in ZPL ^FO.
            draw.text(
                (d(element.x_mm), d(element.y_mm)), element.text, fill=0, font=font, anchor="la"
            )
        elif isinstance(element, Barcode):
            _barcode(draw, element, dpi)
        elif isinstance(element, Line):
            t = max(1, d(element.thickness_mm))
            x1, y1 = d(min(element.x1_mm, element.x2_mm)), d(min(element.y1_mm, element.y2_mm))
            if element.y1_mm == element.y2_mm:
                draw.rectangle(
                    (x1, y1, d(max(element.x1_mm, element.x2_mm)) - 1, y1 + t - 1), fill=0
                )
            else:
                x1 -= t // 2
                draw.rectangle(
                    (x1, y1, x1 + t - 1, d(max(element.y1_mm, element.y2_mm)) - 1), fill=0
                )
        elif isinstance(element, Box):
            box = (
                d(element.x_mm),
                d(element.y_mm),
                d(element.x_mm + element.width_mm) - 1,
                d(element.y_mm + element.height_mm) - 1,
            )
            if element.filled:
                draw.rectangle(box, fill=0)
            else:
                draw.rectangle(box, outline=0, width=max(1, d(element.thickness_mm)))
        elif isinstance(element, Picture):
            bitmap = to_bitmap(element.image, d(element.width_mm), d(element.height_mm))
            image.paste(bitmap.convert("L"), (d(element.x_mm), d(element.y_mm)))
    return image


def _barcode(draw: ImageDraw.ImageDraw, code: Barcode, dpi: int) -> None:
    from app.printing.zpl import module_dots  # same whole-dot module as the printer uses

    m = module_dots(code.module_mm, dpi)
    x0, y0 = mm_to_dots(code.x_mm, dpi), mm_to_dots(code.y_mm, dpi)
    matrix = modules_for(code.symbology, code.value)
    if code.symbology.is_2d:
        for r, row in enumerate(matrix):
            for start, width in bar_runs(row):
                draw.rectangle(
                    (
                        x0 + start * m,
                        y0 + r * m,
                        x0 + (start + width) * m - 1,
                        y0 + (r + 1) * m - 1,
                    ),
                    fill=0,
                )
        return
    h = mm_to_dots(code.height_mm, dpi)
    for start, width in bar_runs(matrix[0]):
        draw.rectangle((x0 + start * m, y0, x0 + (start + width) * m - 1, y0 + h - 1), fill=0)
    if code.show_text:
        font = _font(mm_to_dots(CAPTION_SIZE_MM, dpi), False)
        centre = x0 + len(matrix[0]) * m // 2
        draw.text(
            (centre, y0 + h + mm_to_dots(0.8, dpi)), code.value, fill=0, font=font, anchor="ma"
        )


def render_png(label: Label, dpi: int = 203) -> bytes:
    """The label as PNG bytes (1-bit, with the dpi recorded in the file)."""
    buffer = io.BytesIO()
    render_image(label, dpi).convert("1", dither=Image.Dither.NONE).save(
        buffer, format="PNG", dpi=(dpi, dpi), optimize=False
    )
    return buffer.getvalue()
