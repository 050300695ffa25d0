"""Printer test page and media calibration, callable from the settings screen.

Read by whoever sets the printer up: its sentences are in the station's current language.
"""

from __future__ import annotations

from datetime import datetime

from app.i18n import _
from app.printing.model import Barcode, Box, Element, Label, Line, Media, Symbology, Text
from app.printing.printer import Language, Printer

CALIBRATE_ZPL = b"~JC\n"  # Zebra: measure label length and gap with the media sensor


def test_page(printer_url: str, media: Media, dpi: int, printed_at: datetime) -> Label:
    """A label showing text sizes, each barcode kind and a border, with the printer URL."""
    m = 4.0
    w = media.width_mm
    elements: list[Element] = [
        Box(1, 1, w - 2, media.height_mm - 2, 0.5),
        Text(m, m, _("Packbench test page"), 6, bold=True),
        Text(m, m + 8, printer_url[:60], 3),
        Text(m, m + 12, f"{dpi} dpi  ·  {media.name}  ·  {printed_at:%Y-%m-%d %H:%M}", 3),
    ]
    y = m + 18
    for size in (2.5, 3.5, 5.0):
        elements.append(Text(m, y, f"Text {size} mm ABC abc 0123", size))
        y += size + 2.5
    elements.append(Barcode(m + 4, y + 1, "PB-TEST-128", height_mm=10, module_mm=0.375))
    y += 17
    elements += [
        Barcode(m + 2, y + 2, "PB TEST QR", Symbology.QR, module_mm=0.5),
        Barcode(m + 30, y + 1, "PB TEST DM", Symbology.DATAMATRIX, module_mm=0.5),
    ]
    y += 18
    if y + 5 < media.height_mm - 2:
        elements.append(Line(m, y, w - m, y, 0.3))
    return Label(media, tuple(e for e in elements if _inside(e, media)), name="test page")


def _inside(element: Element, media: Media) -> bool:
    # Small media (e.g. 4x3) simply leave out what does not fit instead of failing.
    from app.printing.model import bounds_mm

    left, top, right, bottom = bounds_mm(element)
    return left >= 0 and top >= 0 and right <= media.width_mm and bottom <= media.height_mm


def calibration_page(media: Media) -> Label:
    """Border, centre cross and 10 mm ticks: shows whether print and media line up."""
    w, h = media.width_mm, media.height_mm
    elements: list[Element] = [
        Box(0.5, 0.5, w - 1, h - 1, 0.4),
        Line(w / 2, h / 2 - 10, w / 2, h / 2 + 10, 0.3),
        Line(w / 2 - 10, h / 2, w / 2 + 10, h / 2, 0.3),
        Text(
            4,
            4,
            _(
                "Calibration {media}: {width} x {height} mm",
                media=media.name,
                width=format(w, "g"),
                height=format(h, "g"),
            ),
            3.5,
            bold=True,
        ),
        Text(4, 9, _("The border should sit on the label edge."), 3),
    ]
    elements += [Line(x, 0.5, x, 4.0, 0.3) for x in range(10, int(w), 10)]
    elements += [Line(0.5, y, 4.0, y, 0.3) for y in range(20, int(h), 10)]
    return Label(media, tuple(elements), name="calibration page")


def calibration_job(printer: Printer) -> bytes:
    """Bytes for the settings "calibrate media" button: `~JC` then the page (ZPL), or the
    page alone for printers without a media sensor command."""
    page = printer.render(calibration_page(printer.media))
    return CALIBRATE_ZPL + page if printer.language is Language.ZPL else page


def test_job(printer: Printer, printed_at: datetime) -> bytes:
    """Bytes for the settings "print test page" button."""
    return printer.render(test_page(printer.url, printer.media, printer.dpi, printed_at))
