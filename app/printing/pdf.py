"""PDF renderer (reportlab): one PDF page per label model, at the media's size."""

from __future__ import annotations

import io
from collections.abc import Callable

from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from app.printing.model import (
    CAPTION_SIZE_MM,
    PT_PER_MM,
    Barcode,
    Box,
    Label,
    Line,
    Picture,
    Text,
)
from app.printing.symbols import bar_runs, modules_for


def render_pdf(pages: list[Label] | Label) -> bytes:
    """Render one or more labels as a PDF; `invariant` output makes the bytes repeatable."""
    if isinstance(pages, Label):
        pages = [pages]
    buffer = io.BytesIO()
    first = pages[0].media
    canvas = Canvas(
        buffer,
        pagesize=(first.width_mm * PT_PER_MM, first.height_mm * PT_PER_MM),
        invariant=True,
        pageCompression=1,
    )
    for page in pages:
        page.check_fits()
        width, height = page.media.width_mm * PT_PER_MM, page.media.height_mm * PT_PER_MM
        canvas.setPageSize((width, height))
        canvas.setTitle(page.name)
        _draw_page(canvas, page, height)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_page(canvas: Canvas, page: Label, page_height: float) -> None:
    def x(mm: float) -> float:
        return mm * PT_PER_MM

    def y(mm: float) -> float:  # model y grows downwards, PDF y upwards
        return page_height - mm * PT_PER_MM

    canvas.setFillGray(0)
    canvas.setStrokeGray(0)
    for element in page.elements:
        if isinstance(element, Text):
            size = element.size_mm * PT_PER_MM
            canvas.setFont(element.font, size)
            canvas.drawString(x(element.x_mm), y(element.y_mm) - size * 0.8, element.text)
        elif isinstance(element, Barcode):
            _barcode(canvas, element, x, y)
        elif isinstance(element, Line):
            t = element.thickness_mm
            if element.y1_mm == element.y2_mm:
                left = min(element.x1_mm, element.x2_mm)
                canvas.rect(
                    x(left),
                    y(element.y1_mm + t),
                    x(abs(element.x2_mm - element.x1_mm)),
                    x(t),
                    stroke=0,
                    fill=1,
                )
            else:
                top = min(element.y1_mm, element.y2_mm)
                length = abs(element.y2_mm - element.y1_mm)
                canvas.rect(
                    x(element.x1_mm - t / 2), y(top + length), x(t), x(length), stroke=0, fill=1
                )
        elif isinstance(element, Box):
            if element.filled:
                canvas.rect(
                    x(element.x_mm),
                    y(element.y_mm + element.height_mm),
                    x(element.width_mm),
                    x(element.height_mm),
                    stroke=0,
                    fill=1,
                )
            else:
                t = element.thickness_mm
                canvas.setLineWidth(x(t))
                # Stroke inside the outline, as ZPL ^GB does.
                canvas.rect(
                    x(element.x_mm + t / 2),
                    y(element.y_mm + element.height_mm - t / 2),
                    x(element.width_mm - t),
                    x(element.height_mm - t),
                    stroke=1,
                    fill=0,
                )
        elif isinstance(element, Picture):
            canvas.drawImage(
                ImageReader(element.image.convert("RGB")),
                x(element.x_mm),
                y(element.y_mm + element.height_mm),
                x(element.width_mm),
                x(element.height_mm),
            )


def _barcode(
    canvas: Canvas, code: Barcode, x: Callable[[float], float], y: Callable[[float], float]
) -> None:
    matrix = modules_for(code.symbology, code.value)
    m = code.module_mm
    path = canvas.beginPath()
    if code.symbology.is_2d:
        for r, row in enumerate(matrix):
            for start, width in bar_runs(row):
                path.rect(x(code.x_mm + start * m), y(code.y_mm + (r + 1) * m), x(width * m), x(m))
    else:
        for start, width in bar_runs(matrix[0]):
            path.rect(
                x(code.x_mm + start * m),
                y(code.y_mm + code.height_mm),
                x(width * m),
                x(code.height_mm),
            )
    canvas.drawPath(path, stroke=0, fill=1)
    if code.show_text and not code.symbology.is_2d:
        size = CAPTION_SIZE_MM * PT_PER_MM
        canvas.setFont("Helvetica", size)
        centre = code.x_mm + len(matrix[0]) * m / 2
        canvas.drawCentredString(
            x(centre), y(code.y_mm + code.height_mm + 0.8) - size * 0.8, code.value
        )
