"""End to end: packing slips per channel, the real `packbench` against a real service.

Two orders of the station's batch are moved to two channels: one that wants a packing slip
in every parcel (the order goes to a Packeta pickup point, cash on delivery, labelled by a
local Packeta built from its documentation), one that wants none.
Both are packed with the emulated devices; the document printer (a PDF folder) gets exactly
one slip, for the first, and its text names the order, the items, the pickup point and the
cash to collect. The document printer is away at first: the slip waits, the station says so
on screen, and it prints when the folder is back.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pypdfium2
import pytest
from sqlalchemy.orm import Session

from app.i18n import Msg, money
from service.channels import add_channel
from service.models import Order
from tests.e2e.test_station_e2e import (
    Bench,
    _bench,
    _orders_for_station,
    _pack,
    _wait_status,
)
from tests.support.fake_packeta import FakePacketa, running_fake_packeta

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("e2e")]

POINT_ID = "95"  # an open point of the fake Packeta
POINT_NAME = "Z-BOX Praha 1, Vodickova 30, 110 00 Praha"
PACKETA_PASSWORD = "0123456789abcdef0123456789abcdef"


@dataclass(frozen=True)
class SlipOrders:
    wanted: str  # order number whose channel wants a slip
    wanted_items: tuple[str, ...]
    not_wanted: str


def _two_channels(session: Session, packeta_url: str) -> SlipOrders:
    packeta = {"account": "cz", "eshop": "MyEshop", "base_url": f"{packeta_url}/api/rest"}
    slips = add_channel(
        session,
        "operator",
        "slip-shop",
        settings={"packing_slip": "always", "carriers": {"packeta": packeta}},
    )
    plain = add_channel(session, "operator", "plain-shop", settings={"packing_slip": "never"})
    plain_orders = sorted(_orders_for_station(session, "demo-station"), key=lambda o: o.id)
    first, second = plain_orders[0], plain_orders[1]
    wanted = session.get(Order, first.id)
    other = session.get(Order, second.id)
    assert wanted is not None and other is not None
    wanted.channel_id = slips.id
    wanted.carrier, wanted.service = "packeta", "pickup"
    wanted.pickup_point, wanted.pickup_point_name = POINT_ID, POINT_NAME
    wanted.payment_state, wanted.total_amount, wanted.currency = "cod", Decimal("250.00"), "CZK"
    wanted.phone = wanted.phone or "+420601234567"
    wanted.email = wanted.email or "customer@example.cz"
    # A Czech customer (the shop said cs-CZ): the slip prints in Czech, Czech formats.
    wanted.ship_country, wanted.language = "CZ", "cs"
    other.channel_id = plain.id
    session.flush()
    return SlipOrders(wanted.number, tuple(line.name for line in wanted.lines), other.number)


@pytest.fixture
def slip_bench(tmp_path: Path) -> Iterator[tuple[Bench, Path, FakePacketa]]:
    docs = tmp_path / "documents"
    docs.write_text("not a folder yet: the document printer is away")
    with (
        running_fake_packeta() as packeta,
        _bench(
            tmp_path,
            prepare=lambda session: _two_channels(session, packeta.url),
            station_args=("--document-printer", f"pdf://{docs}"),
            service_env={"PACKBENCH_CARRIER_PACKETA_API_PASSWORD": PACKETA_PASSWORD},
        ) as bench,
    ):
        yield bench, docs, packeta


def _pdfs(docs: Path) -> list[Path]:
    return sorted(docs.glob("*.pdf")) if docs.is_dir() else []


def _text(path: Path) -> str:
    doc = pypdfium2.PdfDocument(path.read_bytes())
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in doc)
    finally:
        doc.close()


def test_a_slip_for_exactly_the_orders_whose_channel_wants_one(
    slip_bench: tuple[Bench, Path, FakePacketa],
) -> None:
    bench, docs, packeta = slip_bench
    chosen = bench.prepared
    assert isinstance(chosen, SlipOrders)
    by_number = {o.number: o for o in bench.orders}
    bench.scan("BADGE-P001", "screen batches green")

    _pack(bench, by_number[chosen.not_wanted])  # its channel wants no slip
    order = by_number[chosen.wanted]  # to a Packeta point: Packeta's own label
    bench.scan(order.number, f"screen pack green: Order {order.number} is open")
    labels_before = len(bench.printer.jobs)
    for item in order.items:
        bench.scan(item.code, "screen pack green")
    bench.weigh(order.grams, "then scan PB:CLOSE")
    bench.lift()
    bench.scan("PB:CLOSE", f"Order {order.number} is packed")
    assert len(bench.printer.jobs) == labels_before + 1
    packets = [str(a) for name, a in packeta.requests if name == "createPacket"]
    assert (
        len(packets) == 1 and f"'{POINT_ID}'" in packets[0] and "'cod': '250.00'" in packets[0]
    ), packets
    # The document printer's folder is not there: the slip waits, and the screen says so.
    line = bench.log.wait_for(f"Packing slip for {chosen.wanted} not printed")
    assert "screen" in line and " red: " in line and "prints by itself" in line
    assert _pdfs(docs) == []

    docs.unlink()
    docs.mkdir()  # the printer is back: the same slip prints by itself
    deadline = time.monotonic() + 30
    while not _pdfs(docs) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)  # anything else queued would have printed by now (jobs print in order)
    (pdf,) = _pdfs(docs)
    text = _text(pdf)
    assert chosen.wanted in text and chosen.not_wanted not in text
    for name in chosen.wanted_items:
        assert name[:20] in text, (name, text)
    flat = " ".join(text.replace("\xa0", " ").split())  # the slip wraps long lines

    def czech(sentence: Msg) -> str:
        return " ".join(sentence.render("cs").replace("\xa0", " ").split())

    assert czech(Msg("Pickup point")) in flat and POINT_NAME in flat
    assert czech(Msg("Point id: {point}", point=POINT_ID)) in flat
    cod = czech(Msg("Cash on delivery: the courier collects {amount}", amount=money("250", "CZK")))
    assert cod in flat and "250,00 CZK" in flat, (cod, flat)  # Czech words, Czech number
    assert "Pickup point" not in flat  # not English
    for number in (chosen.wanted, chosen.not_wanted):
        _wait_status(bench, by_number[number].id, "packed")
