"""House carrier pieces that need no database: check digits, ZPL and PDF labels."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from service.carriers.base import Address
from service.carriers.house_labels import HouseLabel, render_pdf, render_zpl, routing_code
from service.carriers.numbers import format_tracking, is_valid_tracking, luhn_digit
from service.shipping.labels import weight_band

SENDER = Address("Packbench Warehouse", "Dock 1", "1000 AA", "Amsterdam", "NL")
TO = Address("Ada ^Lovelace~", "Main 1", "10115", "Berlin", "DE", street2="c/o Babbage")


def label(**kw: object) -> HouseLabel:
    base: dict[str, object] = dict(
        tracking_number=format_tracking(42),
        sender=SENDER,
        recipient=TO,
        routing=routing_code(TO, "express"),
        weight_grams=1234,
        parcel_no=2,
        parcel_count=3,
        order_number="ORD-100001",
    )
    base.update(kw)
    return HouseLabel(**base)  # type: ignore[arg-type]


def test_luhn_known_value() -> None:
    assert luhn_digit("7992739871") == 3  # the textbook Luhn example


@given(st.integers(min_value=0, max_value=10**10 - 1), st.integers(0, 10), st.integers(0, 9))
def test_check_digit_catches_every_single_digit_error(serial: int, pos: int, delta: int) -> None:
    number = format_tracking(serial)
    assert is_valid_tracking(number)
    assert len(number) == 14 and number.startswith("PBX")
    digits = list(number[3:])
    if delta:
        digits[pos] = str((int(digits[pos]) + delta) % 10)
        assert not is_valid_tracking("PBX" + "".join(digits))


def test_zpl_label_has_barcode_addresses_weight_and_parcel_n_of_m() -> None:
    zpl = render_zpl(label()).decode()
    assert zpl.startswith("^XA") and zpl.rstrip().endswith("^XZ")
    assert "^PW812" in zpl and "^LL1218" in zpl  # 4x6 in at 203 dpi
    assert f"^BCN,220,Y,N,N^FD{format_tracking(42)}^FS" in zpl
    assert "Parcel 2 of 3" in zpl and "1.234 kg" in zpl
    assert "DE-10 EXPRESS" in zpl and "Packbench Warehouse" in zpl
    # A caret or tilde in customer data must not start a ZPL command.
    assert "Ada  Lovelace " in zpl


def test_pdf_label_is_one_4x6_page_with_the_tracking_number() -> None:
    pdf = render_pdf(label())
    assert pdf.startswith(b"%PDF")
    assert b"/MediaBox [ 0 0 288 432 ]" in pdf
    assert render_pdf(label()) == pdf  # invariant: same label, same bytes


def test_weight_band_is_at_least_100_g_or_10_percent() -> None:
    assert weight_band(500) == (400, 600)
    assert weight_band(3000) == (2700, 3300)
    assert weight_band(50) == (0, 150)


SEVEN_LINES = Address(
    name="Ioana Bărbulescu-Țepeș",
    company="Company Logistics SRL",
    street1="Strada Ștefan cel Mare 3",
    street2="Bloc 4, Scara B",
    postcode="010011",
    city="București",
    region="Sector 1",
    country="ROMANIA",
)


def test_seven_line_address_keeps_its_country_line_at_every_dpi() -> None:
    for dpi, width in ((203, 812), (300, 1200), (600, 2400)):
        zpl = render_zpl(label(recipient=SEVEN_LINES), dpi).decode()
        assert f"^PW{width}" in zpl and "^FDROMANIA^FS" in zpl
        assert zpl.count("^GFA") == 3  # name, street and town have Ș Ț ă ș: graphics


def test_pdf_label_prints_romanian_letters_in_an_embedded_font() -> None:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(render_pdf(label(recipient=SEVEN_LINES)))
    try:
        text = document[0].get_textpage().get_text_range()
    finally:
        document.close()
    assert "Bărbulescu-Țepeș" in text and "București" in text and "ROMANIA" in text
