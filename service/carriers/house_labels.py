"""4x6 inch labels of the house carrier: ZPL text for thermal printers, PDF via reportlab.

Self-contained on purpose: the service may not import the station's `app.printing`.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from functools import lru_cache

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from service.carriers.base import Address

DOTS_PER_INCH = 203  # the resolution the layout below is drawn in; other dpi scale from it
WIDTH_DOTS = 4 * DOTS_PER_INCH
HEIGHT_DOTS = 6 * DOTS_PER_INCH
SUPPORTED_DPI = (203, 300, 600)
LATIN_1 = frozenset(chr(c) for c in (*range(0x20, 0x7F), *range(0xA0, 0x100)))
_DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf"
_DEJAVU_REGULAR = "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf"


class AddressTooLong(ValueError):
    """The address cannot be printed: too long even at the smallest size, or unknown letters."""


@dataclass(frozen=True)
class HouseLabel:
    """What one house label shows."""

    tracking_number: str
    sender: Address
    recipient: Address
    routing: str
    weight_grams: int
    parcel_no: int
    parcel_count: int
    order_number: str
    service: str = ""


def routing_code(recipient: Address, service: str = "") -> str:
    """Sorting text: country, first two postcode characters, service (e.g. `NL-10 EXPRESS`)."""
    area = "".join(ch for ch in recipient.postcode if ch.isalnum())[:2].upper() or "00"
    text = f"{recipient.country.upper() or '??'}-{area}"
    return f"{text} {service.upper()}".strip()


def _zpl_text(value: str) -> str:
    # ^ and ~ start ZPL commands; inside ^FD they would end the field early.
    return value.replace("^", " ").replace("~", " ").replace("\n", " ")


def _width_dots(value: str, size: int) -> float:
    # Helvetica Bold runs wider than ZPL font 0 (a condensed face): a safe upper bound.
    return float(stringWidth(value, "Helvetica-Bold", size)) * 1.0


def wrap_dots(value: str, size: int, width: int) -> list[str]:
    """Break `value` at spaces into lines no wider than `width` dots (long words split)."""
    lines: list[str] = []
    current = ""
    for word in value.split():
        candidate = f"{current} {word}".strip()
        if _width_dots(candidate, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while _width_dots(word, size) > width and len(word) > 1:
            cut = len(word) - 1
            while cut > 1 and _width_dots(word[:cut], size) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines


def fit_address(
    lines: list[str], width: int, height: int, size: int, floor: int
) -> tuple[list[str], int]:
    """Wrap every line, shrink from `size` to `floor` dots; no line (least the country) dropped."""
    for font in range(size, floor - 1, -2):
        wrapped = [part for line in lines for part in wrap_dots(line, font, width)]
        if len(wrapped) * round(font * 1.1) <= height:
            return wrapped, font
    raise AddressTooLong(
        f"the recipient address needs {len(wrapped)} lines even at the smallest print size; "
        "shorten it"
    )


@lru_cache(maxsize=2)
def _dejavu_letters(path: str = _DEJAVU) -> frozenset[int]:
    from reportlab.pdfbase.ttfonts import TTFontFile

    if not os.path.exists(path):
        raise AddressTooLong("the server lacks the DejaVu fonts (package fonts-dejavu-core)")
    return frozenset(TTFontFile(path).charToGlyph)


def _graphic_text(value: str, size: int) -> str:
    """`^GFA` of `value` drawn in DejaVu Sans Condensed Bold: font 0 may lack the letter."""
    from PIL import Image, ImageDraw, ImageFont

    missing = sorted({c for c in value if ord(c) not in _dejavu_letters()})
    if missing:
        raise AddressTooLong(
            f"the address has letters no printer font has ({' '.join(missing[:8])}); "
            "write it in Latin letters"
        )
    font = ImageFont.truetype(_DEJAVU, max(6, size))
    ascent, descent = font.getmetrics()
    font = ImageFont.truetype(_DEJAVU, max(6, size * size // (ascent + descent)))
    right = int(font.getbbox(value, anchor="la")[2]) + 1
    image = Image.new("1", (max(1, right), size), 1)
    ImageDraw.Draw(image).text((0, 0), value, fill=0, font=font, anchor="la")
    per_row = (image.width + 7) // 8
    padded = Image.new("1", (per_row * 8, image.height), 1)
    padded.paste(image, (0, 0))
    data = bytes(255 - b for b in padded.tobytes())
    return f"^GFA,{len(data)},{len(data)},{per_row},{data.hex().upper()}"


def weight_text(grams: int) -> str:
    """`1.234 kg`."""
    return f"{grams / 1000:.3f} kg"


def render_zpl(label: HouseLabel, dpi: int = DOTS_PER_INCH) -> bytes:
    """The label as ZPL II (UTF-8, ^CI28), 4x6 inch at `dpi`, Code 128 tracking barcode.

    The layout is drawn in 203-dpi dots and scaled to `dpi`, so a 300 dpi printer gets a
    full-size label. Addresses wrap (own line breaking, so nothing runs off the right edge)
    and shrink; every line, the country too, is printed or the label is refused
    (`AddressTooLong`). Lines with letters outside Latin-1 go as `^GF` graphics.
    """
    if dpi not in SUPPORTED_DPI:
        raise ValueError(f"house labels print at 203, 300 or 600 dpi, not {dpi}")

    def d(dots: float) -> int:
        return round(dots * dpi / DOTS_PER_INCH)

    out = ["^XA", "^CI28", f"^PW{d(WIDTH_DOTS)}", f"^LL{d(HEIGHT_DOTS)}", "^LH0,0"]

    def text(x: int, y: int, size: int, value: str) -> None:
        if set(value) <= LATIN_1:
            out.append(f"^FO{d(x)},{d(y)}^A0N,{d(size)},{d(size)}^FD{_zpl_text(value)}^FS")
        else:
            out.append(f"^FO{d(x)},{d(y)}{_graphic_text(value, d(size))}^FS")

    text(30, 30, 26, "FROM:")
    sender, size = fit_address(label.sender.lines(), 740, 118, 24, 16)
    for i, line in enumerate(sender):
        text(30, 58 + i * round(size * 1.1), size, line)
    out.append(f"^FO{d(20)},{d(180)}^GB{d(772)},{d(3)},{d(3)}^FS")
    text(30, 196, 30, "TO:")
    recipient, size = fit_address(label.recipient.lines(), 740, 264, 38, 20)
    for i, line in enumerate(recipient):
        text(30, 232 + i * round(size * 1.1), size, line)
    out.append(f"^FO{d(20)},{d(500)}^GB{d(772)},{d(3)},{d(3)}^FS")
    text(30, 520, 90, label.routing)
    out.append(f"^FO{d(20)},{d(630)}^GB{d(772)},{d(3)},{d(3)}^FS")
    text(30, 650, 34, f"Weight: {weight_text(label.weight_grams)}")
    text(430, 650, 34, f"Parcel {label.parcel_no} of {label.parcel_count}")
    text(30, 700, 30, f"Order: {label.order_number}")
    # Whole-dot narrow bars: 3 dots at 203 dpi (0.375 mm), 4 at 300, 9 at 600.
    module = max(2, round(3 * dpi / DOTS_PER_INCH))
    out.append(
        f"^FO{d(60)},{d(770)}^BY{module},3,{d(220)}^BCN,{d(220)},Y,N,N"
        f"^FD{_zpl_text(label.tracking_number)}^FS"
    )
    text(30, 1110, 26, "PACKBENCH HOUSE CARRIER")
    out.append("^XZ")
    return ("\n".join(out) + "\n").encode("utf-8")


def _pdf_font(line: str) -> str:
    """Helvetica for Latin-1 lines, else DejaVu Sans Condensed (embedded in the PDF)."""
    if set(line) <= LATIN_1:
        return "Helvetica"
    missing = sorted({c for c in line if ord(c) not in _dejavu_letters(_DEJAVU_REGULAR)})
    if missing:
        raise AddressTooLong(
            f"the address has letters no printer font has ({' '.join(missing[:8])}); "
            "write it in Latin letters"
        )
    from reportlab.pdfbase.pdfmetrics import registerFont
    from reportlab.pdfbase.ttfonts import TTFont

    registerFont(TTFont("HouseDejaVu", _DEJAVU_REGULAR))
    return "HouseDejaVu"


def render_pdf(label: HouseLabel) -> bytes:
    """The same label as a one-page 4x6 inch PDF with a reportlab Code 128 barcode."""
    buf = io.BytesIO()
    width, height = 4 * inch, 6 * inch
    c = Canvas(buf, pagesize=(width, height), invariant=True)
    c.setTitle(f"Label {label.tracking_number}")
    y = height - 18
    c.setFont("Helvetica-Bold", 8)
    c.drawString(10, y, "FROM:")
    sender, sender_size = fit_address(label.sender.lines(), int(width) - 20, 40, 8, 5)
    for line in sender:
        y -= round(sender_size * 1.1)
        c.setFont(_pdf_font(line), sender_size)
        c.drawString(10, y, line)
    y -= 40 - len(sender) * round(sender_size * 1.1)
    y -= 8
    c.line(6, y, width - 6, y)
    y -= 14
    c.setFont("Helvetica-Bold", 10)
    c.drawString(10, y, "TO:")
    recipient, size = fit_address(label.recipient.lines(), int(width) - 20, 90, 12, 6)
    for line in recipient:
        y -= round(size * 1.1)
        c.setFont(_pdf_font(line), size)
        c.drawString(10, y, line)
    y -= 90 - len(recipient) * round(size * 1.1)
    y -= 10
    c.line(6, y, width - 6, y)
    y -= 34
    c.setFont("Helvetica-Bold", 28)
    c.drawString(10, y, label.routing)
    y -= 12
    c.line(6, y, width - 6, y)
    y -= 16
    c.setFont("Helvetica", 11)
    c.drawString(10, y, f"Weight: {weight_text(label.weight_grams)}")
    c.drawRightString(width - 10, y, f"Parcel {label.parcel_no} of {label.parcel_count}")
    y -= 14
    c.drawString(10, y, f"Order: {label.order_number}")
    barcode = Code128(label.tracking_number, barHeight=0.9 * inch, barWidth=1.2, humanReadable=True)
    bx = max(6.0, (width - barcode.width) / 2)
    barcode.drawOn(c, bx, 40)
    c.setFont("Helvetica", 7)
    c.drawString(10, 14, "PACKBENCH HOUSE CARRIER")
    c.showPage()
    c.save()
    return buf.getvalue()
