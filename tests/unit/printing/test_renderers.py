"""What a packer or carrier scanner sees: every barcode on every rendering decodes back."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from app.printing.layouts import (
    box_content_label,
    command_sheet_pages,
    packing_slip_pages,
    shipping_label,
)
from app.printing.model import MEDIA_4X6, MEDIA_A4, MEDIA_A6, Barcode, Label, Symbology, Text
from app.printing.pdf import render_pdf
from app.printing.png import render_png
from app.printing.zpl import render_zpl
from app.printing.zpl_graphics import decode_graphic_fields
from tests.unit.printing.helpers import decoded, pdf_pages, png_image
from tests.unit.printing.samples import BOX, SHEET, SHIPPING, SLIP

SHIPPING_CODES = {"PG123456789GB", "(00)012345678901234560"}


def test_shipping_label_png_preview_barcodes_decode() -> None:
    image = png_image(render_png(shipping_label(SHIPPING), 203))
    assert image.size == (812, 1218)  # 4x6 in at 203 dpi
    assert decoded(image) == SHIPPING_CODES  # QR and Code 128 both carry the tracking number


def test_shipping_label_pdf_is_4x6_and_barcodes_decode() -> None:
    pages = pdf_pages(render_pdf(shipping_label(SHIPPING)))
    assert len(pages) == 1
    assert pages[0].size == (812, 1218)
    assert decoded(pages[0]) == SHIPPING_CODES


@pytest.mark.parametrize("media", [MEDIA_A4, MEDIA_4X6])
def test_packing_slip_order_barcode_decodes(media: object) -> None:
    pages = packing_slip_pages(SLIP, media)  # type: ignore[arg-type]
    assert decoded(pdf_pages(render_pdf(pages))[0]) == {"ORD-100234"}
    assert decoded(png_image(render_png(pages[0]))) == {"ORD-100234"}


def test_long_packing_slip_continues_on_more_pages_with_every_line() -> None:
    from dataclasses import replace

    from app.printing.documents import SlipLine

    lines = tuple(SlipLine(f"SKU-{i:03d}", f"Item number {i}", 1) for i in range(60))
    pages = packing_slip_pages(replace(SLIP, lines=lines), MEDIA_A4)
    assert len(pages) >= 2
    texts = [e.text for page in pages for e in page.elements if isinstance(e, Text)]
    assert all(f"SKU-{i:03d}" in texts for i in range(60))
    assert f"Page 1 of {len(pages)}" in texts


def test_command_sheet_pdf_has_every_command_and_the_extra_badge() -> None:
    pages = pdf_pages(render_pdf(command_sheet_pages(SHEET)))
    found = set().union(*(decoded(page) for page in pages))
    expected = {
        "PB:CLOSE",
        "PB:NEW-BOX",
        "PB:REPRINT",
        "PB:HOLD",
        "PB:LOGOUT",
        "PB:REWEIGH",
        "PB:CANCEL",
        "PB:BOX:S",
        "PB:BOX:M",
        "PB:BOX:L",
        "PB:BOX:MAILER",
        "PB:HOLD:SHORT_PICK",
        "PB:BADGE:DEMO-1",
    }
    assert expected <= found
    assert all(abs(page.size[0] - 1678) <= 1 and abs(page.size[1] - 2374) <= 1 for page in pages)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_command_sheet_decodes_through_poppler_too(tmp_path: Path) -> None:
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(render_pdf(command_sheet_pages(SHEET)[:1]))
    subprocess.run(
        ["pdftoppm", "-r", "150", "-gray", "-png", str(pdf), str(tmp_path / "p")], check=True
    )
    image = png_image((tmp_path / "p-1.png").read_bytes())
    assert "PB:CLOSE" in decoded(image)


def test_box_content_label_datamatrix_and_code128_decode() -> None:
    image = png_image(render_png(box_content_label(BOX), 203))
    assert decoded(image) == {"ORD-100234/2", "ORD-100234"}


@pytest.mark.parametrize("media", [MEDIA_4X6, MEDIA_A6])
def test_pdf_page_size_follows_media(media: object) -> None:
    label = Label(media, (Text(5, 5, "hello"),))  # type: ignore[arg-type]
    page = pdf_pages(render_pdf(label), dpi=72)[0]
    assert page.size == (round(media.width_mm / 25.4 * 72), round(media.height_mm / 25.4 * 72))  # type: ignore[attr-defined]


def test_every_symbology_decodes_from_png_and_pdf() -> None:
    label = Label(
        MEDIA_4X6,
        (
            Barcode(6, 5, "ABC-123", Symbology.CODE128),
            Barcode(6, 30, "(01)09501101530003(10)LOT7", Symbology.GS1_128),
            Barcode(6, 60, "https://example.com/t/1", Symbology.QR, module_mm=0.5),
            Barcode(50, 60, "ORDER 42", Symbology.DATAMATRIX, module_mm=0.6),
        ),
    )
    expected = {"ABC-123", "(01)09501101530003(10)LOT7", "https://example.com/t/1", "ORDER 42"}
    assert decoded(png_image(render_png(label))) == expected
    assert decoded(pdf_pages(render_pdf(label), dpi=300)[0]) == expected


def test_zpl_picture_round_trips_through_gf() -> None:
    from app.printing.model import Picture

    art = png_image(render_png(Label(MEDIA_4X6, (Barcode(5, 5, "LOGO-1", height_mm=10),))))
    art = art.crop((0, 0, 500, 150))
    zpl = render_zpl(Label(MEDIA_4X6, (Picture(2, 2, 500 / 8, 150 / 8, art),)), 203).decode()
    assert "^GFA," in zpl
    (image,) = decode_graphic_fields(zpl)
    assert decoded(image) == {"LOGO-1"}
