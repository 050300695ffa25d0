"""A packing slip speaks the customer's language, not the packer's: the order's language from
the service (or its destination country's) picks the words and Babel's number and date
formats. Rendered through the real flow and print queue, read back from the PDF."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pypdfium2

from app import i18n
from app.printing.documents import PackingSlip, SlipLine
from app.printing.layouts import packing_slip_pages
from app.printing.model import MEDIA_4X6, MEDIA_A4
from app.printing.pdf import render_pdf
from tests.unit.station.test_slips import bench, pack, slips

NBSP = "\u00a0"


def pdf_text(pdf: bytes) -> str:
    doc = pypdfium2.PdfDocument(pdf)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in doc).replace(NBSP, " ")
    finally:
        doc.close()


def test_an_order_the_shop_sold_in_czech_prints_czech_money_and_dates(tmp_path: Path) -> None:
    """Shop locale cs-CZ -> the service sends `cs`; the bench (site DE, packer in English)
    prints 249,90 CZK and a Czech date (2. 3. 2026), not 249.90 / 2 Mar 2026."""
    rt, queue = bench(
        tmp_path,
        "channel",
        country="DE",  # a Czech customer shipping to Germany: the shop's locale wins
        packing_slip=True,
        language="cs",
        cod_amount=Decimal("249.90"),
        currency="CZK",
        cod="249.90 CZK",
    )
    assert i18n.current() == "en"
    pack(rt)
    (pdf,) = slips(queue)
    text = pdf_text(pdf)
    assert "ORD-100001" in text
    assert "249,90 CZK" in text and "249.90" not in text
    assert "2. 3. 2026" in text and "2026-03-02" not in text and "Mar 2026" not in text
    # Czech words from the shipped catalogue, not the English
    assert "Dodací list" in text and "Packing slip" not in text
    assert i18n.Msg("Packing slip").render("cs") == "Dodací list"
    assert i18n.current() == "en"  # the packer's screen did not change language


def test_without_a_shop_locale_the_destination_country_decides(tmp_path: Path) -> None:
    rt, queue = bench(
        tmp_path,
        "channel",
        country="CZ",
        packing_slip=True,
        language=None,  # an older service, or an order from before orders.language
        cod_amount=Decimal("1249.9"),
        currency="CZK",
    )
    pack(rt)
    text = pdf_text(slips(queue)[0])
    assert "1 249,90 CZK" in text and "2. 3. 2026" in text
    (tmp_path / "gb").mkdir()
    rt, queue = bench(
        tmp_path / "gb", "channel", country="GB", packing_slip=True, cod_amount=Decimal("5")
    )
    rt.store.orders[1] = replace(rt.store.orders[1], currency="GBP")  # type: ignore[attr-defined]
    pack(rt)
    text = pdf_text(slips(queue)[0])
    assert "5.00 GBP" in text and "2 Mar 2026" in text


# Everything on the slip that is data, not a sentence: what the shop and customer wrote.
DATA = (
    "ORD-100234",
    "Shopify",
    "Harbour Tea Co.",
    "Jana Nováková",
    "Na Pankráci 969/97",
    "140 00 Praha 4",
    "CZ",
    "Z-BOX-42",
    "Zásilkovna Praha 4, Budějovická 1",
    "CZK",
)


def _slip(lines: int) -> PackingSlip:
    return PackingSlip(
        order_number="ORD-100234",
        channel="Shopify",
        ship_to=("Jana Nováková", "Na Pankráci 969/97", "140 00 Praha 4", "CZ"),
        lines=tuple(SlipLine(f"SKU-{i:04d}", f"Hrnek {i}", 1 + i % 3) for i in range(lines)),
        return_text="",
        printed_at=datetime(2026, 3, 2, 9, 15, tzinfo=UTC),
        shop_name="Harbour Tea Co.",
        pickup_point=("Z-BOX-42", "Zásilkovna Praha 4, Budějovická 1"),
        cod=i18n.money(Decimal("249.90"), "CZK"),
        language="cs",
    )


def _english_left(text: str, slip: PackingSlip) -> list[str]:
    for data in sorted((*DATA, *(f"{x.sku}" for x in slip.lines)), key=len, reverse=True):
        text = text.replace(data, " ")
    text = re.sub(r"Hrnek \d+", " ", text)
    return re.findall(r"\b[A-Za-z]{2,}\b", text)


def test_every_sentence_on_the_slip_comes_from_the_catalogue() -> None:
    """In the pseudo-locale every sentence is accented: a plain English word left on the slip
    (after the shop's and the customer's own data) did not go through the catalogue. Both
    sizes, a slip long enough for a second page, pickup point and cash on delivery."""
    for media, count in ((MEDIA_A4, 60), (MEDIA_4X6, 14)):
        slip = _slip(count)
        english = pdf_text(render_pdf(packing_slip_pages(replace(slip, language="en"), media)))
        assert "Packing slip (continued)" in english and "Cash on delivery" in english
        assert _english_left(english, slip)  # the check does see English when it is there
        pages = packing_slip_pages(replace(slip, language=i18n.PSEUDO), media)
        assert len(pages) >= 2, media
        text = pdf_text(render_pdf(pages))
        assert "ORD-100234" in text and "249,90 CZK" in text
        assert _english_left(text, slip) == [], (media.name, text)


def test_our_own_shipping_label_and_box_label_speak_the_orders_language() -> None:
    from app.printing.layouts import box_content_label, shipping_label
    from tests.unit.printing.samples import BOX, SHIPPING

    def texts(label: object) -> list[str]:
        return [e.text for e in label.elements if hasattr(e, "text")]  # type: ignore[attr-defined]

    czech = texts(shipping_label(replace(SHIPPING, language="cs")))
    assert "1,23 kg" in czech and "1.23 kg" in texts(shipping_label(SHIPPING))
    pseudo = texts(shipping_label(replace(SHIPPING, language=i18n.PSEUDO)))
    assert {"[ƑŔÖṀ·]", "[ŠĤÎÞ ŢÖ·]", "[ŢŔÀÇĶÎÑĜ··]"} <= set(pseudo), pseudo
    boxed = texts(box_content_label(replace(BOX, language=i18n.PSEUDO)))
    assert any(t.startswith("[Ɓöẋ 2 öƒ 3·") for t in boxed), boxed
