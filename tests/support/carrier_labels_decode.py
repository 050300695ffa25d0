"""Read a carrier label the way a station prints it: rasterised at the printer's dpi."""

from __future__ import annotations

import re

import zxingcpp

from app.printing.carrier import CarrierFormat, CarrierLabel, rasterise
from app.printing.model import MEDIA_4X6


def barcodes_at(pdf: bytes, dpi: int) -> set[str]:
    """Every barcode zxing-cpp reads on the PDF label rasterised for a 4x6 printer at `dpi`."""
    image = rasterise(CarrierLabel(CarrierFormat.PDF, pdf), MEDIA_4X6, dpi)
    return {r.text for r in zxingcpp.read_barcodes(image.convert("L"))}


def zpl_barcodes(zpl: bytes) -> list[str]:
    """The data of every Code 128 field (^BC ... ^FD) in a ZPL label.

    A quick look at the fields; the decoded check of carrier ZPL as a printer receives it
    (rendered by zpl-renderer-js, read by zxing-cpp) is
    `tests/integration/carriers/test_zpl_printed.py`.
    """
    text = zpl.decode("utf-8")
    return re.findall(r"\^BC[^\^]*\^FD([^\^]*)\^FS", text)
