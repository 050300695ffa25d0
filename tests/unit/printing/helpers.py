"""Decode what the renderers produce: PDF pages and PNG images back to barcode values."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image


def decoded(image: Image.Image) -> set[str]:
    """Every barcode value zxing-cpp finds in an image."""
    return {result.text for result in zxingcpp.read_barcodes(image.convert("L"))}


def pdf_pages(data: bytes, dpi: int = 203) -> list[Image.Image]:
    """Render each PDF page to a grayscale image at `dpi` with pypdfium2."""
    document = pdfium.PdfDocument(data)
    try:
        return [page.render(scale=dpi / 72, grayscale=True).to_pil() for page in document]
    finally:
        document.close()


def png_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def decoded_all(image: Image.Image) -> list[str]:
    """Every barcode value zxing-cpp finds, in a list (duplicates kept)."""
    return [result.text for result in zxingcpp.read_barcodes(image.convert("L"))]
