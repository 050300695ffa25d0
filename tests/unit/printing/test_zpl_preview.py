"""Previews of carrier ZPL (issue 17): raster labels drawn dot for dot, native ZPL stated."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image, ImageChops

from app.printing.carrier import CarrierFormat, CarrierLabel, carrier_to_zpl, rasterise
from app.printing.model import MEDIA_4X6, MEDIA_100X150, Media
from app.printing.zpl_graphics import graphic_field
from app.printing.zpl_preview import NATIVE_ZPL, NO_PREVIEW_TITLE, text_fields, zpl_preview
from tests.support.fake_carrier_labels import pdf_label, zpl_label

PDF = pdf_label(
    "1112223330", ["Ion Popescu", "Str. Memorandumului 28"], width_mm=100, height_mm=140
)


def _ink(image: Image.Image) -> int:
    return sum(image.convert("L").histogram()[:128])


@pytest.mark.parametrize("z64", [False, True], ids=["acs", "z64"])
@pytest.mark.parametrize(
    ("media", "dpi"), [(MEDIA_4X6, 203), (MEDIA_100X150, 300)], ids=["4x6-203", "100x150-300"]
)
def test_a_raster_carrier_label_previews_as_the_dots_that_print(
    media: Media, dpi: int, z64: bool
) -> None:
    zpl = carrier_to_zpl(CarrierLabel(CarrierFormat.PDF, PDF), media, dpi, z64=z64)
    preview = zpl_preview(zpl, media, dpi, "1112223330")
    printed = rasterise(CarrierLabel(CarrierFormat.PDF, PDF), media, dpi).convert("L")
    assert preview.notice is None and preview.image.size == media.dots(dpi)
    assert ImageChops.difference(preview.image, printed).getbbox() is None
    assert [r.text for r in zxingcpp.read_barcodes(preview.image)] == ["1112223330"]
    png = Image.open(io.BytesIO(preview.png(dpi)))
    assert png.size == media.dots(dpi) and round(png.info["dpi"][0]) == dpi


def test_graphic_fields_land_where_fo_and_lh_put_them_and_po_inverts() -> None:
    block = Image.new("1", (16, 8), 0)  # 16 x 8 dots, all black
    field = graphic_field(block)
    zpl = f"^XA^LH10,20^FO30,40{field}^FS^XZ".encode()
    image = zpl_preview(zpl, MEDIA_4X6, 203).image
    assert image.getbbox() is not None
    inverted = Image.eval(image, lambda v: 255 - v)
    assert inverted.getbbox() == (40, 60, 56, 68)
    flipped = zpl_preview(zpl.replace(b"^XA", b"^XA^POI"), MEDIA_4X6, 203).image
    width, height = flipped.size
    assert Image.eval(flipped, lambda v: 255 - v).getbbox() == (
        width - 56,
        height - 68,
        width - 40,
        height - 60,
    )


def test_settings_that_draw_nothing_keep_a_raster_a_raster() -> None:
    field = graphic_field(Image.new("1", (16, 8), 0))
    zpl = f"~SD20^XA^CI28^CF0,30^BY2^MMT^PR4^FO8,8{field}^FS^PQ1^XZ".encode()
    assert zpl_preview(zpl, MEDIA_4X6, 203).notice is None
    changed_caret = f"^XA^CC%%FO8,8{field}%FS%XZ".encode()
    assert zpl_preview(changed_caret, MEDIA_4X6, 203).notice == NATIVE_ZPL


def test_native_zpl_gets_a_notice_naming_the_label_and_its_text() -> None:
    zpl = zpl_label("Z1000000001", ["Jan Novák", "Pickup point 95", "COD 250.00 CZK"])
    preview = zpl_preview(zpl.encode(), MEDIA_4X6, 203, "Z1000000001")
    assert preview.notice == NATIVE_ZPL
    assert preview.fields == (
        "Jan Novák",
        "Pickup point 95",
        "COD 250.00 CZK",
        "barcode Z1000000001",
    )
    assert preview.image.size == MEDIA_4X6.dots(203)
    assert _ink(preview.image) > 2000  # the notice is drawn, not a blank page
    assert NO_PREVIEW_TITLE.startswith("No preview")


def test_a_raster_with_printer_text_on_it_is_native_not_half_drawn() -> None:
    field = graphic_field(Image.new("1", (16, 8), 0))
    zpl = f"^XA^FO0,0{field}^FS^FO50,50^A0N,30,30^FDCOD 250 CZK^FS^XZ".encode()
    preview = zpl_preview(zpl, MEDIA_4X6, 203)
    assert preview.notice == NATIVE_ZPL and preview.fields == ("COD 250 CZK",)


def test_hex_escaped_fields_are_read_back() -> None:
    assert text_fields("^XA^FO1,1^FH_^FDStr. Lung_C4_83 1^FS^XZ") == ("Str. Lungă 1",)


@pytest.mark.parametrize(
    "damage",
    [
        lambda z: z.replace(b"^GFA,", b"^GFA,9", 1),  # header says more bytes than sent
        lambda z: z[: len(z) // 2] + b"^FS^XZ",  # cut in the middle of the data
        lambda z: z.replace(b"^GFA,", b"^GFB,", 1),  # binary graphic field
    ],
    ids=["header", "cut", "binary"],
)
def test_a_damaged_raster_gets_a_notice_with_the_reason(damage) -> None:  # type: ignore[no-untyped-def]
    zpl = damage(carrier_to_zpl(CarrierLabel(CarrierFormat.PDF, PDF), MEDIA_4X6, 203))
    preview = zpl_preview(zpl, MEDIA_4X6, 203, "1112223330")
    assert preview.notice is not None and "cannot be read" in preview.notice
    assert preview.image.size == MEDIA_4X6.dots(203) and _ink(preview.image) > 1000
