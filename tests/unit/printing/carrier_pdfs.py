"""Carrier label PDFs made with reportlab, as carriers send them, for the rasterising tests."""

from __future__ import annotations

import io

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import createBarcodeDrawing
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import inch, mm
from reportlab.pdfgen.canvas import Canvas

CODE_128 = "JJD014600003954321"
DATAMATRIX = "PB-DM-0123456789"
PAGE_4X6 = (4 * inch, 6 * inch)


def carrier_pdf(
    module_mm: float, page: tuple[float, float] = PAGE_4X6, margin_mm: float = 8
) -> bytes:
    """A label page: a Code 128 with `module_mm` bars, a DataMatrix and some text."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=page, invariant=True)
    top = page[1] - margin_mm * mm
    canvas.setFont("Helvetica-Bold", 14)
    canvas.drawString(margin_mm * mm, top - 14, "CARRIER EXPRESS")
    code = Code128(CODE_128, barWidth=module_mm * mm, barHeight=22 * mm, humanReadable=True)
    code.drawOn(canvas, margin_mm * mm, top - 60 * mm)
    matrix = createBarcodeDrawing("ECC200DataMatrix", value=DATAMATRIX, barWidth=0.6 * mm)
    renderPDF.draw(matrix, canvas, margin_mm * mm, top - 100 * mm)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def a4_full_page_pdf() -> bytes:
    """An A4 page whose label fills the page (barcode and text across the whole width)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setFont("Helvetica-Bold", 20)
    canvas.drawString(15 * mm, A4[1] - 25 * mm, "CARRIER EXPRESS - A4 LABEL ACROSS THE WHOLE PAGE")
    Code128(CODE_128, barWidth=0.5 * mm, barHeight=40 * mm).drawOn(canvas, 15 * mm, 150 * mm)
    canvas.drawString(15 * mm, 20 * mm, "bottom of the page")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def a4_with_label_in_corner() -> bytes:
    """An A4 page with a small label in its top-left corner (A4 sheets from web portals)."""
    return carrier_pdf(0.33, A4, margin_mm=10)


def no_page_pdf() -> bytes:
    """A well-formed PDF with no page at all."""
    import pypdfium2 as pdfium

    buffer = io.BytesIO()
    document = pdfium.PdfDocument.new()
    document.save(buffer)
    document.close()
    return buffer.getvalue()


def encrypted_pdf() -> bytes:
    """A label PDF that opens only with a password."""
    from reportlab.lib.pdfencrypt import StandardEncryption

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=PAGE_4X6, encrypt=StandardEncryption("secret", canPrint=1))
    canvas.drawString(20, 200, "locked")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
