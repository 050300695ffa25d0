"""Cut a carrier's multi-label file into one label per parcel (PDF pages, ZPL ^XA..^XZ)."""

from __future__ import annotations

import io
import re

import pypdfium2 as pdfium

from service.carriers.base import CarrierError

_ZPL_LABEL = re.compile(rb"\^XA.*?\^XZ", re.S)


def split_pdf(carrier: str, data: bytes) -> list[bytes]:
    """Each page of a PDF as a PDF of its own."""
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise CarrierError(carrier, "unavailable", f"the label file is not a PDF: {exc}") from exc
    pages: list[bytes] = []
    try:
        for index in range(len(document)):
            single = pdfium.PdfDocument.new()
            try:
                single.import_pages(document, [index])
                buf = io.BytesIO()
                single.save(buf)
                pages.append(buf.getvalue())
            finally:
                single.close()
    finally:
        document.close()
    return pages


def split_zpl(data: bytes) -> list[bytes]:
    """Each ^XA...^XZ label of a ZPL file."""
    return _ZPL_LABEL.findall(data)
