"""Decode what the renderers produce (PDF pages and PNG images back to barcode values), and
compare output with golden files."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pypdfium2 as pdfium
import pytest
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


#: Set to 1 to (re)write golden files from the current output, after checking it by eye.
REGEN_FLAG = "PACKBENCH_UPDATE_GOLDEN"


def check_golden(path: Path, data: bytes) -> None:
    """Compare `data` with the golden file; a missing file fails, never writes itself."""
    if os.environ.get(REGEN_FLAG) == "1":
        path.write_bytes(data)
        return
    if not path.exists():
        pytest.fail(
            f"golden file {path.name} is missing: check the output by eye, then write it with "
            f"{REGEN_FLAG}=1 and commit it",
            pytrace=False,
        )
    assert data == path.read_bytes(), f"{path.name} differs from its golden file"


def decoded_all(image: Image.Image) -> list[str]:
    """Every barcode value zxing-cpp finds, in a list (duplicates kept)."""
    return [result.text for result in zxingcpp.read_barcodes(image.convert("L"))]
