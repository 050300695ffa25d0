"""ESC/POS renderer through python-escpos's Dummy printer.

Receipt printers print a stream, top to bottom, so the label model is printed in reading
order: text rows with native fonts (texts sharing a row are laid out in character columns),
Code 128 / GS1-128 and QR as native barcodes, and everything the printer cannot draw itself
(DataMatrix, rules, pictures) as raster images at the printer's pixel width. Box outlines
become rules at their top and bottom edges; vertical rules are dropped (they have no
meaning in a stream).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, replace

from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy
from PIL import Image

from app.printing.errors import LabelError
from app.printing.escpos_text import EscPosLetters, code128_data
from app.printing.model import (
    Barcode,
    Box,
    Element,
    Label,
    Line,
    Media,
    Symbology,
    Text,
    mm_to_dots,
)
from app.printing.symbols import FNC1, gs1_to_fnc1

FONT_A_DOTS = (12, 24)  # Font A cell (width, height) in dots on Epson-compatible printers


@dataclass(frozen=True, slots=True)
class EscPosProfile:
    """The printer's printable width in dots and its resolution, from the escpos profile."""

    name: str
    width_px: int
    dpi: int


def escpos_profile(name: str = "TM-T88V", width_px: int | None = None) -> EscPosProfile:
    """Look up a python-escpos capability profile; `width_px` overrides an unknown width."""
    printer = Dummy(profile=name)
    media = printer.profile.profile_data.get("media", {})
    width = media.get("width", {}).get("pixels")
    dpi = media.get("dpi")
    if width_px is not None:
        width = width_px
    if not isinstance(width, int):
        raise LabelError(f"The escpos profile {name!r} has no pixel width; add ?width_px=512")
    return EscPosProfile(name, width, dpi if isinstance(dpi, int) else 180)


def _new_printer(profile: EscPosProfile) -> Dummy:
    printer = Dummy(profile=profile.name)
    printer.hw("INIT")
    return printer


def render_escpos(label: Label, profile: EscPosProfile, cut: bool = True) -> bytes:
    """Render a label model to ESC/POS bytes for a printer with `profile`."""
    label.check_fits()
    printer = _new_printer(profile)
    scale = profile.width_px / mm_to_dots(label.media.width_mm, profile.dpi)
    columns = profile.width_px // FONT_A_DOTS[0]
    stream = _stream(label.elements)
    letters = EscPosLetters(printer.profile.get_code_pages())
    index = 0
    while index < len(stream):
        element = stream[index]
        if isinstance(element, Text):
            row = [element]
            while index + 1 < len(stream):
                following = stream[index + 1]
                if not isinstance(following, Text) or abs(following.y_mm - element.y_mm) >= 0.5:
                    break
                index += 1
                row.append(following)
            _text_row(printer, row, label.media, columns, profile.dpi, letters)
        elif isinstance(element, Barcode) and element.symbology is not Symbology.DATAMATRIX:
            _native_barcode(printer, element, profile.dpi, scale)
        else:
            _raster(printer, element, label.media, profile)
        index += 1
    printer.text("\n")
    if cut:
        printer.cut()
    return bytes(printer.output)


def _stream(elements: tuple[Element, ...]) -> list[Element]:
    items: list[Element] = []
    for element in elements:
        if isinstance(element, Box) and not element.filled:
            items.append(
                Line(
                    element.x_mm,
                    element.y_mm,
                    element.x_mm + element.width_mm,
                    element.y_mm,
                    element.thickness_mm,
                )
            )
            bottom = element.y_mm + element.height_mm - element.thickness_mm
            items.append(
                Line(
                    element.x_mm,
                    bottom,
                    element.x_mm + element.width_mm,
                    bottom,
                    element.thickness_mm,
                )
            )
        elif isinstance(element, Line) and element.x1_mm == element.x2_mm:
            continue
        else:
            items.append(element)
    return sorted(items, key=_position)


def _position(element: Element) -> tuple[float, float]:
    if isinstance(element, Line):
        return (element.y1_mm, element.x1_mm)
    return (element.y_mm, element.x_mm)


def _text_row(
    printer: Dummy, row: list[Text], media: Media, columns: int, dpi: int, letters: EscPosLetters
) -> None:
    """Texts sharing a row, in character columns; a row wider than the paper wraps (never cut)."""
    size = max(t.size_mm for t in row)
    magnify = max(1, min(8, round(size * dpi / 25.4 / FONT_A_DOTS[1])))
    width = max(1, columns // magnify)
    line = ""
    for text in sorted(row, key=lambda t: t.x_mm):
        column = int(text.x_mm / media.width_mm * width)
        if line:
            column = max(column, len(line) + 1)
        line = line.ljust(column) + letters.prepare(text.text)
    printer.set(
        align="left",
        bold=any(t.bold for t in row),
        custom_size=magnify > 1,
        width=magnify,
        height=magnify,
        normal_textsize=magnify == 1,
    )
    for part in textwrap.wrap(line, width, break_on_hyphens=False) or [""]:
        printer.text(part + "\n")
    printer.set(normal_textsize=True, bold=False)


def _native_barcode(printer: Dummy, code: Barcode, dpi: int, scale: float) -> None:
    module = max(1, round(code.module_mm * dpi / 25.4 * scale))
    if code.symbology is Symbology.QR:
        printer.qr(code.value, ec=QR_ECLEVEL_M, native=True, size=max(1, min(16, module)))
        return
    if code.symbology is Symbology.GS1_128:
        data = code128_data(FNC1 + gs1_to_fnc1(code.value))
    else:
        data = code128_data(code.value)
    height = max(1, min(255, round(code.height_mm * dpi / 25.4)))
    # _hw_barcode directly: the public barcode() prints a notice to stdout on every call.
    printer._hw_barcode(
        data,
        "CODE128",
        height=height,
        width=max(2, min(6, module)),
        pos="BELOW" if code.show_text else "OFF",
        font="A",
        align_ct=True,
        function_type="B",
        check=True,
    )
    printer.text("\n")


def _raster(printer: Dummy, element: Element, media: Media, profile: EscPosProfile) -> None:
    from app.printing.png import render_image

    left, top, right, bottom = _extent(element)
    moved = _moved(element, -left, -top)
    band = Label(Media("band", right - left, bottom - top), (moved,), name="graphic")
    image = render_image(band, profile.dpi)
    if image.width > profile.width_px:
        ratio = profile.width_px / image.width
        image = image.resize(
            (profile.width_px, max(1, round(image.height * ratio))), Image.Resampling.LANCZOS
        )
    printer.image(image.convert("1", dither=Image.Dither.NONE), impl="bitImageRaster", center=True)


def _extent(element: Element) -> tuple[float, float, float, float]:
    from app.printing.model import bounds_mm

    return bounds_mm(element)


def _moved(element: Element, dx: float, dy: float) -> Element:
    if isinstance(element, Line):
        return replace(
            element,
            x1_mm=element.x1_mm + dx,
            x2_mm=element.x2_mm + dx,
            y1_mm=element.y1_mm + dy,
            y2_mm=element.y2_mm + dy,
        )
    return replace(element, x_mm=element.x_mm + dx, y_mm=element.y_mm + dy)


def raster_escpos(image: Image.Image, profile: EscPosProfile, cut: bool = True) -> bytes:
    """A whole image (e.g. a rasterised carrier label) as ESC/POS raster graphics."""
    printer = _new_printer(profile)
    printer.image(image.convert("1", dither=Image.Dither.NONE), impl="bitImageRaster", center=True)
    if cut:
        printer.cut()
    return bytes(printer.output)
