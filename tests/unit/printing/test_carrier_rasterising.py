"""Carrier label PDFs (made with reportlab here) rasterised for the printer: bars stay whole."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

from app.printing.carrier import CarrierFormat, CarrierLabel, carrier_to_zpl, rasterise
from app.printing.errors import CarrierLabelError, LabelTooLarge
from app.printing.model import MEDIA_4X6, MEDIA_100X150
from tests.support.zpl_renderer import ZplRenderer, install
from tests.unit.printing.carrier_pdfs import (
    CODE_128,
    DATAMATRIX,
    a4_full_page_pdf,
    a4_with_label_in_corner,
    carrier_pdf,
    encrypted_pdf,
    no_page_pdf,
)
from tests.unit.printing.helpers import decoded


@pytest.fixture(scope="module")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZplRenderer]:
    node = install()
    if node is None:
        pytest.skip("node/npm is not installed: the independent ZPL renderer cannot run")
    yield ZplRenderer(node, tmp_path_factory.mktemp("carrier"))


@pytest.mark.parametrize("dpi", [203, 300])
@pytest.mark.parametrize("module_mm", [0.25, 0.33])
def test_thin_code128_and_datamatrix_decode_after_rasterising(
    renderer: ZplRenderer, module_mm: float, dpi: int
) -> None:
    label = CarrierLabel(CarrierFormat.PDF, carrier_pdf(module_mm))
    zpl = carrier_to_zpl(label, MEDIA_4X6, dpi)
    image = renderer.render({f"m{module_mm}": zpl}, 101.6, 152.4, dpi)[f"m{module_mm}"]
    assert decoded(image) == {CODE_128, DATAMATRIX}


@pytest.mark.parametrize("dpi", [203, 300])
def test_narrow_bars_keep_whole_even_widths(dpi: int) -> None:
    image = rasterise(CarrierLabel(CarrierFormat.PDF, carrier_pdf(0.25)), MEDIA_4X6, dpi)
    expected = 0.25 / 25.4 * dpi  # 1.97 dots at 203, 2.95 at 300
    row = _barcode_row(image)
    bits = "".join("1" if v == 0 else "0" for v in row).strip("0")
    bars = [len(run) for run in bits.split("0") if run]
    spaces = [len(run) for run in bits.split("1") if run]
    # start, J J D 0, Code C, 7 digit pairs, check (3 bars each) + stop (4): none merged or lost
    assert len(bars) == 46
    for narrow in (min(bars), min(spaces)):
        assert abs(narrow - expected) < 1.0, (narrow, expected)


def _barcode_row(image) -> list[int]:  # type: ignore[no-untyped-def]
    # The Code 128's bars run from 46 to 68 mm below the top of the page (see carrier_pdfs).
    y = round(55 / 25.4 * (image.height / 6))
    strip = image.convert("L").crop((0, y, image.width, y + 1))
    return [int(strip.getpixel((x, 0))) for x in range(strip.width)]  # type: ignore[arg-type]


def test_a4_page_filling_the_sheet_is_refused_with_the_sizes() -> None:
    with pytest.raises(LabelTooLarge, match=r"210 x 297 mm .* larger than the 4x6 labels"):
        rasterise(CarrierLabel(CarrierFormat.PDF, a4_full_page_pdf()), MEDIA_4X6, 203)


def test_a4_page_with_a_small_label_prints_it_at_true_size_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        image = rasterise(
            CarrierLabel(CarrierFormat.PDF, a4_with_label_in_corner()), MEDIA_100X150, 300
        )
    assert "larger than 100x150 media" in caplog.text
    assert decoded(image) == {CODE_128, DATAMATRIX}


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (encrypted_pdf, "encrypted"),
        (no_page_pdf, "no page"),
        (lambda: b"%PDF-1.7\n garbage that is no PDF", "damaged"),
        (lambda: carrier_pdf(0.33)[:400], "damaged"),
    ],
)
def test_bad_carrier_pdfs_get_a_clear_reason(make: Callable[[], bytes], reason: str) -> None:
    with pytest.raises(CarrierLabelError, match=reason):
        carrier_to_zpl(CarrierLabel(CarrierFormat.PDF, make()), MEDIA_4X6, 203)


def test_house_zpl_made_for_203_dpi_warns_on_a_300_dpi_printer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from app.printing.carrier import zpl_size_warning
    from service.carriers.base import Address
    from service.carriers.house_labels import HouseLabel, render_zpl

    to = Address("Ana Pop", "Weg 1", "01067", "Dresden", "DE")
    label = HouseLabel("PBX000000042", to, to, "DE-01", 1000, 1, 1, "ORD-1")
    with caplog.at_level(logging.WARNING):
        assert zpl_size_warning(render_zpl(label, 300), MEDIA_4X6, 300) is None
        warning = zpl_size_warning(render_zpl(label, 203), MEDIA_4X6, 300)
    assert warning is not None and "67 % size" in warning and "300 dpi" in caplog.text
