"""Carrier labels: ZPL passes through untouched; PDF/PNG become ^GF or ESC/POS raster that
still scans; ^GF compression round-trips exactly."""

from __future__ import annotations

import io
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from app.printing.carrier import CarrierFormat, CarrierLabel, carrier_to_escpos, carrier_to_zpl
from app.printing.errors import CarrierLabelError, InvalidZpl
from app.printing.escpos_render import escpos_profile
from app.printing.layouts import shipping_label
from app.printing.model import MEDIA_4X6, Barcode, Label, Media, Text
from app.printing.pdf import render_pdf
from app.printing.png import render_png
from app.printing.zpl import validate_zpl
from app.printing.zpl_graphics import (
    decode_acs,
    decode_graphic_fields,
    decode_z64,
    encode_acs,
    encode_z64,
)
from tests.unit.printing.helpers import decoded
from tests.unit.printing.samples import SHIPPING

LANDSCAPE = Media("6x4", 152.4, 101.6)


def carrier_pdf(media: Media = MEDIA_4X6) -> bytes:
    return render_pdf(
        Label(
            media,
            (
                Text(5, 5, "CARRIER LABEL", 6, bold=True),
                Barcode(8, 20, "1Z999AA10123456784", height_mm=25),
            ),
        )
    )


@pytest.mark.parametrize("dpi", [203, 300])
def test_carrier_pdf_becomes_gf_at_printer_dpi_and_still_scans(dpi: int) -> None:
    zpl = carrier_to_zpl(CarrierLabel(CarrierFormat.PDF, carrier_pdf()), MEDIA_4X6, dpi).decode()
    (image,) = decode_graphic_fields(zpl)
    assert image.size[0] == (MEDIA_4X6.dots(dpi)[0] + 7) // 8 * 8  # full printer resolution
    assert f"^PW{MEDIA_4X6.dots(dpi)[0]}" in zpl
    assert decoded(image) == {"1Z999AA10123456784"}


def test_landscape_carrier_pdf_is_turned_to_fit_portrait_media() -> None:
    zpl = carrier_to_zpl(CarrierLabel(CarrierFormat.PDF, carrier_pdf(LANDSCAPE)), MEDIA_4X6)
    (image,) = decode_graphic_fields(zpl.decode())
    assert image.height > image.width
    assert decoded(image) == {"1Z999AA10123456784"}


def test_carrier_png_with_z64_round_trips_and_scans() -> None:
    png = render_png(shipping_label(SHIPPING), 300)
    zpl = carrier_to_zpl(CarrierLabel(CarrierFormat.PNG, png), MEDIA_4X6, 203, z64=True)
    assert b":Z64:" in zpl
    (image,) = decode_graphic_fields(zpl.decode())
    assert "PG123456789GB" in decoded(image)


def test_carrier_pdf_to_escpos_raster_fits_printer_width() -> None:
    profile = escpos_profile("TM-T88V")
    data = carrier_to_escpos(CarrierLabel(CarrierFormat.PDF, carrier_pdf()), profile, MEDIA_4X6)
    assert b"\x1dv0" in data  # GS v 0 raster image
    width_bytes = int.from_bytes(data[data.index(b"\x1dv0") + 4 :][:2], "little")
    assert width_bytes * 8 <= profile.width_px


def test_carrier_zpl_passes_through_byte_for_byte() -> None:
    original = b"^XA\r\n^FO50,50^A0N,40,40^FDHello^FS\r\n^XZ"
    assert carrier_to_zpl(CarrierLabel(CarrierFormat.ZPL, original), MEDIA_4X6) == original


def test_unknown_zpl_command_is_a_warning_not_a_change(caplog: pytest.LogCaptureFixture) -> None:
    original = b"^XA^FO50,50^QQ12^FDHi^FS^XZ"
    with caplog.at_level(logging.WARNING):
        warnings = validate_zpl(original)
        out = carrier_to_zpl(CarrierLabel(CarrierFormat.ZPL, original), MEDIA_4X6)
    assert out == original
    assert warnings == ["Unknown ZPL command ^QQ at offset 11"]
    assert "^QQ" in caplog.text


@pytest.mark.parametrize("bad", [b"^FO50,50^FDHi^FS^XZ", b"^XA^FO50,50^FDHi^FS", b"%PDF-1.4"])
def test_truncated_or_foreign_zpl_is_refused(bad: bytes) -> None:
    with pytest.raises(InvalidZpl):
        carrier_to_zpl(CarrierLabel(CarrierFormat.ZPL, bad), MEDIA_4X6)


@pytest.mark.parametrize("fmt", [CarrierFormat.PDF, CarrierFormat.PNG])
def test_corrupt_carrier_file_is_a_clear_error(fmt: CarrierFormat) -> None:
    with pytest.raises(CarrierLabelError) as caught:
        carrier_to_zpl(CarrierLabel(fmt, b"%PDF-1.4 this is not really a pdf"), MEDIA_4X6)
    assert "damaged" in caught.value.message


def test_truncated_carrier_pdf_is_a_clear_error() -> None:
    data = carrier_pdf()
    with pytest.raises(CarrierLabelError):
        carrier_to_zpl(CarrierLabel(CarrierFormat.PDF, data[: len(data) // 3]), MEDIA_4X6)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 40), st.integers(1, 30), st.data())
def test_ascii_hex_compression_round_trips(per_row: int, rows: int, data: st.DataObject) -> None:
    raw = data.draw(
        st.one_of(
            st.binary(min_size=per_row * rows, max_size=per_row * rows),
            st.lists(
                st.sampled_from([0, 255, 0x0F]), min_size=per_row * rows, max_size=per_row * rows
            ).map(bytes),
        )
    )
    assert decode_acs(encode_acs(raw, per_row), per_row, len(raw)) == raw


def test_z64_round_trips_and_detects_damage() -> None:
    raw = bytes(range(256)) * 20
    text = encode_z64(raw)
    assert decode_z64(text) == raw
    with pytest.raises(Exception, match="CRC"):
        decode_z64(text[:-1] + ("0" if text[-1] != "0" else "1"))


def test_acs_compresses_blank_rows_to_a_single_character() -> None:
    blank = Image.new("1", (800, 10), 1)
    buffer = io.BytesIO()
    blank.save(buffer, "PNG")
    assert encode_acs(bytes(100 * 10), 100) == "," + ":" * 9
