"""Labels for addresses all over Europe, rendered by an independent ZPL renderer and decoded.

zpl-renderer-js (zebrash, npm) draws our ZPL as a printer would; zxing-cpp reads every
barcode back. The same corpus goes through ESC/POS and a command-stream reader.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest

from app.printing.errors import LabelError, LabelTooLarge
from app.printing.escpos_render import escpos_profile, render_escpos
from app.printing.escpos_text import EscPosLetters, code128_data
from app.printing.layouts import shipping_label
from app.printing.model import (
    MEDIA_4X6,
    MEDIA_100X150,
    MEDIA_A6,
    Barcode,
    Label,
    Media,
    Symbology,
    Text,
    text_width_mm,
)
from app.printing.symbols import FNC1
from app.printing.text_fit import fit_block
from app.printing.zpl import render_zpl
from service.carriers.base import Address
from service.carriers.house_labels import LATIN_1, AddressTooLong, HouseLabel
from service.carriers.house_labels import render_zpl as house_zpl
from tests.support.zpl_renderer import ZplRenderer, install
from tests.unit.printing.addresses import ADDRESSES, COUNTRIES, LONG_STREET
from tests.unit.printing.escpos_check import code128_modules, read_stream
from tests.unit.printing.helpers import decoded_all
from tests.unit.printing.samples import SHIPPING

MEDIA = [MEDIA_4X6, MEDIA_100X150, MEDIA_A6]


@pytest.fixture(scope="module")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZplRenderer]:
    node = install()
    if node is None:
        pytest.skip("node/npm is not installed: the independent ZPL renderer cannot run")
    yield ZplRenderer(node, tmp_path_factory.mktemp("zpl"))


def corpus_label(key: str, media: Media) -> Label:
    return shipping_label(replace(SHIPPING, ship_to=ADDRESSES[key]), media)


def test_corpus_covers_fourteen_countries_a_long_street_and_twelve_lines() -> None:
    assert len(COUNTRIES) >= 14
    assert len(LONG_STREET) >= 200 and len(ADDRESSES["12-lines"]) == 12


@pytest.mark.parametrize("dpi", [203, 300])
@pytest.mark.parametrize("media", MEDIA, ids=lambda m: m.name)
def test_every_shipping_label_decodes_in_the_independent_renderer(
    renderer: ZplRenderer, media: Media, dpi: int
) -> None:
    zpl = {key: render_zpl(corpus_label(key, media), dpi) for key in ADDRESSES}
    images = renderer.render(zpl, media.width_mm, media.height_mm, dpi)
    for key, image in images.items():
        found = sorted(decoded_all(image))
        expected = sorted([SHIPPING.tracking_number] * 2 + [f"(00){SHIPPING.sscc}"])
        assert found == expected, f"{key} at {dpi} dpi on {media.name}: {found}"


@pytest.mark.parametrize("media", MEDIA, ids=lambda m: m.name)
def test_no_two_blocks_overlap_and_every_address_line_is_printed(media: Media) -> None:
    for key, address in ADDRESSES.items():
        label = corpus_label(key, media)
        label.check_overlaps()  # raises on any overlap of texts, barcodes, pictures
        block = [e for e in label.elements if isinstance(e, Text) and 31 <= e.y_mm < 63]
        printed = " ".join(t.text for t in block).replace(",", " ").split()
        wanted = " ".join(address).replace(",", " ").split()
        # Abbreviation may shorten street words; every other word prints, in order.
        assert len(printed) == len(wanted), key
        assert printed[-1] == address[-1].split()[-1] and printed[0] == address[0].split()[0], key


def test_text_over_a_barcode_is_refused_with_both_named() -> None:
    qr = Barcode(70, 30, "PG123", Symbology.QR, module_mm=0.5)
    label = Label(MEDIA_4X6, (Text(6, 31, "Kurfürstendamm 195, Hinterhaus 2", 5.2), qr))
    with pytest.raises(LabelTooLarge, match="overlaps the qr barcode"):
        label.check_fits()


def test_fitting_wraps_then_shrinks_then_abbreviates_then_refuses() -> None:
    lines = ("Ana Pop", "Strada Lungă 1", "400001 Cluj", "ROMANIA")
    assert fit_block(lines, 60, 30, 5.2, 3.0).steps == ("wrapped",)
    tight = fit_block(lines, 30, 16, 5.2, 3.0)
    assert tight.size_mm < 5.2 and tight.steps[0].startswith("shrunk")
    street = ("Ana", "Strada Bulevardul 1", "Cluj", "RO")
    width = text_width_mm("Str. Bd. 1", 3.0, False) + 0.5
    abbreviated = fit_block(street, width, 14, 3.2, 3.0, bold_first=False)
    assert "abbreviated" in abbreviated.steps
    assert [text for text, _ in abbreviated.lines] == ["Ana", "Str. Bd. 1", "Cluj", "RO"]
    with pytest.raises(LabelTooLarge, match="Shorten the address"):
        fit_block(tuple(f"line {i} " * 6 for i in range(30)), 40, 20, 5.2, 3.0)


def test_zpl_text_uses_font_zero_only_for_latin_1_and_graphics_otherwise() -> None:
    label = corpus_label("RO", MEDIA_4X6)
    zpl = render_zpl(label, 203).decode()
    non_latin = [t for t in label.elements if isinstance(t, Text) and not t.text.isascii()]
    for field in re.findall(r"\^A0N,\d+,\d+(?:\^FH_)?\^FD(.*?)\^FS", zpl):
        text = re.sub(r"(_[0-9A-F]{2})+", lambda m: _unhex(m.group(0)), field)
        assert all(ord(c) < 0x100 for c in text), text
    assert zpl.count("^GFA") >= len([t for t in non_latin if not t.text.isascii()]) - 1


def _unhex(escaped: str) -> str:
    return bytes.fromhex(escaped.replace("_", "")).decode("utf-8")


def test_a_script_no_font_has_is_refused_with_the_letters() -> None:
    label = shipping_label(replace(SHIPPING, ship_to=("王小明", "Weg 1", "01067 Dresden", "DE")))
    with pytest.raises(LabelError, match="no printer font has"):
        render_zpl(label, 203)
    with pytest.raises(LabelError, match="cannot print"):
        render_escpos(label, escpos_profile("TM-T88V"))


@pytest.mark.parametrize("key", sorted(ADDRESSES))
def test_escpos_prints_every_word_in_a_code_page_without_question_marks(key: str) -> None:
    profile = escpos_profile("TM-T88V")
    label = corpus_label(key, MEDIA_4X6)
    stream = read_stream(render_escpos(label, profile))
    assert stream.cut and "?" not in stream.text
    letters = EscPosLetters(escpos_profile_pages())
    words = " ".join(letters.prepare(t.text) for t in label.elements if isinstance(t, Text)).split()
    printed = set(stream.text.split())
    for word in words:  # each word prints whole (rows wrap, nothing is cut)
        assert word in printed, f"{word!r} missing from the ESC/POS text of {key}"
    assert stream.qr_ec == [49]  # error correction M
    sscc = [data for _, data, _ in stream.barcodes if data.startswith(b"{C{1")]
    assert len(sscc) == 1
    module = next(m for _, data, m in stream.barcodes if data.startswith(b"{C{1"))
    assert code128_modules(sscc[0]) * module <= profile.width_px


def escpos_profile_pages() -> dict[str, str]:
    from escpos.printer import Dummy

    return dict(Dummy(profile="TM-T88V").profile.get_code_pages())


def test_romanian_comma_letters_print_as_cedilla_letters_in_a_central_european_page() -> None:
    stream = read_stream(render_escpos(corpus_label("RO", MEDIA_4X6), escpos_profile("TM-T88V")))
    assert "Ştefan cel" in stream.text and "Ţurcanu" in stream.text


def test_sscc_uses_code_set_c_and_fits_a_512_dot_head() -> None:
    data = code128_data(FNC1 + "00" + SHIPPING.sscc)
    assert data.startswith("{C{1") and "{B" not in data
    assert code128_modules(data.encode()) == 156  # start, FNC1, 10 pairs, check, stop
    assert code128_data("PG123456789GB").count("{C") == 1


def _house(recipient: Address) -> HouseLabel:
    sender = Address("Packbench Warehouse", "Lagerstraße 1", "12345", "Musterstadt", "DE")
    return HouseLabel("PBX000000042", sender, recipient, "RO-01", 1234, 1, 1, "ORD-1")


def _address(lines: tuple[str, ...]) -> Address:
    *middle, city, country = lines
    return Address(
        name=middle[0],
        street1=middle[1] if len(middle) > 1 else "-",
        street2=", ".join(middle[2:]),
        postcode="",
        city=city,
        country=country,
    )


@pytest.mark.parametrize("dpi", [203, 300])
def test_house_labels_print_at_the_printers_dpi_within_the_edges(
    renderer: ZplRenderer, dpi: int
) -> None:
    zpl = {key: house_zpl(_house(_address(lines)), dpi) for key, lines in ADDRESSES.items()}
    images = renderer.render(zpl, 101.6, 152.4, dpi)
    for key, image in images.items():
        assert f"^PW{round(812 * dpi / 203)}".encode() in zpl[key]
        country = ADDRESSES[key][-1]
        if set(country) <= LATIN_1:  # others are ^GF graphics, seen in the PNGs under docs/
            assert country.encode() in zpl[key], f"{key}: country line missing"
        assert decoded_all(image) == ["PBX000000042"], key
        margin = image.crop((image.width - round(15 * dpi / 203), 0, image.width, image.height))
        assert margin.getextrema()[0] == 255, f"{key}: ink in the right margin at {dpi} dpi"


def test_house_label_refuses_an_address_it_cannot_fit_or_print() -> None:
    with pytest.raises(AddressTooLong, match="smallest print size"):
        house_zpl(_house(_address(tuple(f"Line {i} " * 8 for i in range(30)))), 203)
    with pytest.raises(AddressTooLong, match="no printer font"):
        house_zpl(_house(_address(("王小明", "Weg 1", "Dresden", "DE"))), 203)
