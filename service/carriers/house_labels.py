"""4x6 inch labels of the house carrier: ZPL text for thermal printers, PDF via reportlab.

Self-contained on purpose: the service may not import the station's `app.printing`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import inch
from reportlab.pdfgen.canvas import Canvas

from service.carriers.base import Address

DOTS_PER_INCH = 203
WIDTH_DOTS = 4 * DOTS_PER_INCH
HEIGHT_DOTS = 6 * DOTS_PER_INCH


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


def weight_text(grams: int) -> str:
    """`1.234 kg`."""
    return f"{grams / 1000:.3f} kg"


def render_zpl(label: HouseLabel) -> bytes:
    """The label as ZPL II (UTF-8, ^CI28), 4x6 inch at 203 dpi, Code 128 tracking barcode."""
    out = ["^XA", "^CI28", f"^PW{WIDTH_DOTS}", f"^LL{HEIGHT_DOTS}", "^LH0,0"]

    def text(x: int, y: int, size: int, value: str) -> None:
        out.append(f"^FO{x},{y}^A0N,{size},{size}^FD{_zpl_text(value)}^FS")

    text(30, 30, 26, "FROM:")
    for i, line in enumerate(label.sender.lines()[:4]):
        text(30, 60 + i * 28, 24, line)
    out.append("^FO20,180^GB772,3,3^FS")
    text(30, 200, 30, "TO:")
    for i, line in enumerate(label.recipient.lines()[:6]):
        text(30, 240 + i * 42, 38, line)
    out.append("^FO20,500^GB772,3,3^FS")
    text(30, 520, 90, label.routing)
    out.append("^FO20,630^GB772,3,3^FS")
    text(30, 650, 34, f"Weight: {weight_text(label.weight_grams)}")
    text(430, 650, 34, f"Parcel {label.parcel_no} of {label.parcel_count}")
    text(30, 700, 30, f"Order: {label.order_number}")
    out.append(f"^FO60,770^BY3,3,220^BCN,220,Y,N,N^FD{_zpl_text(label.tracking_number)}^FS")
    text(30, 1110, 26, "PACKBENCH HOUSE CARRIER")
    out.append("^XZ")
    return ("\n".join(out) + "\n").encode("utf-8")


def render_pdf(label: HouseLabel) -> bytes:
    """The same label as a one-page 4x6 inch PDF with a reportlab Code 128 barcode."""
    buf = io.BytesIO()
    width, height = 4 * inch, 6 * inch
    c = Canvas(buf, pagesize=(width, height), invariant=True)
    c.setTitle(f"Label {label.tracking_number}")
    y = height - 18
    c.setFont("Helvetica-Bold", 8)
    c.drawString(10, y, "FROM:")
    c.setFont("Helvetica", 8)
    for line in label.sender.lines()[:4]:
        y -= 10
        c.drawString(10, y, line)
    y -= 8
    c.line(6, y, width - 6, y)
    y -= 14
    c.setFont("Helvetica-Bold", 10)
    c.drawString(10, y, "TO:")
    c.setFont("Helvetica", 12)
    for line in label.recipient.lines()[:6]:
        y -= 15
        c.drawString(10, y, line)
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
