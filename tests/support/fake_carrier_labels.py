"""Labels as the fake carriers hand them out: a real PDF or ZPL with a Code 128 barcode.

The tests decode them (PDF with pypdfium2 + zxing-cpp), so a label that names the wrong
parcel or lost its barcode fails a test, as it would fail at the depot's scanner.
"""

from __future__ import annotations

import io

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas


def pdf_label(
    barcode: str, lines: list[str], *, width_mm: float = 105, height_mm: float = 148
) -> bytes:
    """A one-page label (A6 by default): text lines at the top, the barcode below."""
    buf = io.BytesIO()
    width, height = width_mm * mm, height_mm * mm
    canvas = Canvas(buf, pagesize=(width, height), invariant=True)
    y = height - 14 * mm
    for line in lines:
        canvas.setFont("Helvetica", 9)
        canvas.drawString(6 * mm, y, line)
        y -= 5 * mm
    code = Code128(barcode, barHeight=18 * mm, barWidth=0.33 * mm, humanReadable=True)
    code.drawOn(canvas, max(3 * mm, (width - code.width) / 2), 12 * mm)
    canvas.showPage()
    canvas.save()
    return buf.getvalue()


def zpl_label(barcode: str, lines: list[str], *, dpi: int = 203) -> str:
    """The same label as ZPL II for a 4x6 inch label at `dpi` (module width scales too)."""
    dots = round(dpi / 25.4)
    out = ["^XA", "^CI28", f"^PW{round(4 * dpi)}", f"^LL{round(6 * dpi)}"]
    y = 4 * dots
    for line in lines:
        safe = line.replace("^", " ").replace("~", " ")
        out.append(f"^FO{4 * dots},{y}^A0N,{3 * dots},{3 * dots}^FD{safe}^FS")
        y += 5 * dots
    module = 2 if dpi < 250 else 3
    out.append(f"^FO{8 * dots},{y + 4 * dots}^BY{module}^BCN,{18 * dots},Y,N,N^FD{barcode}^FS")
    out.append("^XZ")
    return "\n".join(out)
