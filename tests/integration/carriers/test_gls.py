"""The GLS (MyGLS) adapter against a local fake built from the MyGLS API documentation."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.printing.zpl_preview import text_fields
from service.carriers.base import Address, CarrierError, ParcelSpec, ShipmentRequest
from service.carriers.gls import GlsCarrier, parse_gls_date
from service.carriers.registry import get_adapter
from service.models import Label, Order, OrderEvent, OrderException, Parcel
from service.secrets_store import forget_cached_secrets, put_secret
from service.shipping.labels import check_weight, live_labels, prepare_labels
from tests.support.carrier_labels_decode import barcodes_at, zpl_barcodes
from tests.support.fake_gls import FakeGls, running_fake_gls

SENDER = Address("Packbench Raktár", "Raktár utca 5", "1211", "Budapest", "HU", phone="+3611234567")
BUDAPEST = Address(
    "Kovács Anna",
    "Váci út 12",
    "1132",
    "Budapest",
    "HU",
    phone="+36301234567",
    email="anna@example.com",
)


@pytest.fixture
def fake() -> Iterator[FakeGls]:
    with running_fake_gls() as f:
        yield f


@pytest.fixture
def session() -> Session:
    """GLS keeps nothing in the database: an unbound session is all it is handed."""
    return Session()


def _adapter(fake: FakeGls, **extra: Any) -> GlsCarrier:
    put_secret("carrier:gls:hu:password", "gls-secret")
    config: dict[str, Any] = {
        "account": "hu",
        "country": "HU",
        "base_url": fake.url,
        "username": fake.username,
        "client_number": fake.client_number,
        "timeout_seconds": 0.5,
        "max_parcel_grams": 40000,
        "cod_limits": {"HUF": 1000000},
        **extra,
    }
    adapter = get_adapter("gls", config)
    assert isinstance(adapter, GlsCarrier)
    return adapter


def _request(**kw: Any) -> ShipmentRequest:
    base = ShipmentRequest(
        order_number="ORD-200001",
        sender=SENDER,
        recipient=BUDAPEST,
        parcels=[ParcelSpec(1, 2300)],
        parcel_count=1,
        service="home",
        label_format="pdf",
        currency="HUF",
        value=Decimal("24990"),
    )
    return replace(base, **kw)


def test_home_delivery_with_cod_pdf_label_read_at_203_and_300_dpi(
    fake: FakeGls, session: Session
) -> None:
    adapter = _adapter(fake)
    (parcel,) = adapter.create_shipment(session, _request(cod_amount=Decimal("24990")))
    assert (parcel.tracking_number, parcel.carrier_ref) == ("50012345001", "702000001")
    method, body = fake.requests[0]
    entry = body["ParcelList"][0]
    assert method == "PrintLabels" and body["TypeOfPrinter"] == "Thermo"
    assert (entry["CODAmount"], entry["CODReference"], entry["Count"]) == (24990.0, "ORD-200001", 1)
    to = entry["DeliveryAddress"]
    assert (to["Street"], to["HouseNumber"], to["ZipCode"]) == ("Váci út", "12", "1132")
    assert entry["ServiceList"] == []
    for dpi in (203, 300):
        assert barcodes_at(parcel.label, dpi) == {"50012345001"}, dpi


def test_parcelshop_delivery_and_zpl_at_both_resolutions(fake: FakeGls, session: Session) -> None:
    adapter = _adapter(fake)
    for dpi, printer in ((203, "ThermoZPL"), (300, "ThermoZPL_300DPI")):
        request = _request(
            service="parcelshop", pickup_point="HU0123-CSOMAGPONT01", label_format="zpl", dpi=dpi
        )
        (parcel,) = adapter.create_shipment(session, request)
        assert fake.requests[-1][1]["TypeOfPrinter"] == printer
        assert zpl_barcodes(parcel.label) == [parcel.tracking_number]
        assert "ParcelShop HU0123-CSOMAGPONT01" in parcel.label.decode()
    services = fake.requests[0][1]["ParcelList"][0]["ServiceList"]
    assert services == [{"Code": "PSD", "PSDParameter": {"StringValue": "HU0123-CSOMAGPONT01"}}]


def test_multi_parcel_is_one_shipment_numbered_n_of_m(fake: FakeGls, session: Session) -> None:
    adapter = _adapter(fake)
    boxes = [ParcelSpec(1, 2000), ParcelSpec(2, 1500), ParcelSpec(3, 900)]
    created = adapter.create_shipment(session, _request(parcels=boxes, parcel_count=3))
    assert len(fake.requests) == 1 and fake.requests[0][1]["ParcelList"][0]["Count"] == 3
    assert [c.box_no for c in created] == [1, 2, 3]
    for parcel in created:
        assert barcodes_at(parcel.label, 203) == {parcel.tracking_number}
    assert len({c.tracking_number for c in created}) == 3
    zpl = adapter.create_shipment(
        session, _request(parcels=boxes[:2], parcel_count=2, label_format="zpl")
    )
    assert ["1/2" in z.label.decode() for z in zpl] == [True, False]
    assert ["2/2" in z.label.decode() for z in zpl] == [False, True]


def test_reprint_delete_and_already_scanned(fake: FakeGls, session: Session) -> None:
    adapter = _adapter(fake)
    request = _request()
    (first,) = adapter.create_shipment(session, request)
    again = adapter.reprint(first, request)
    assert barcodes_at(again, 203) == {first.tracking_number}
    adapter.cancel(session, first)
    assert fake.parcels[int(first.carrier_ref)].state == "DELETED"
    (second,) = adapter.create_shipment(session, request)
    fake.scan(int(second.tracking_number), "01", 1_764_500_000_000, "Handed over to GLS.")
    with pytest.raises(CarrierError) as caught:
        adapter.cancel(session, second)
    error = caught.value
    assert (error.reason, error.transient) == ("already_scanned", False)
    assert "different status than PRINTED. (code 6)" in error.message


def test_tracking_to_delivered(fake: FakeGls, session: Session) -> None:
    adapter = _adapter(fake)
    (parcel,) = adapter.create_shipment(session, _request())
    number = int(parcel.tracking_number)
    fake.scan(number, "01", 1_764_500_000_000, "Handed over to GLS.")
    fake.scan(number, "04", 1_764_570_000_000, "Out for delivery.")
    fake.scan(number, "05", 1_764_590_000_000, "Delivered.", depot="Budapest 13")
    events = adapter.tracking_events(parcel.tracking_number)
    assert [e.status for e in events] == ["in_transit", "out_for_delivery", "delivered"]
    assert events[-1].at == datetime.fromtimestamp(1_764_590_000, tz=UTC)
    assert events[-1].location == "Budapest 13"


def test_wcf_dates_keep_their_offset() -> None:
    at = parse_gls_date("/Date(1764590000000+0100)/")
    assert at == datetime.fromtimestamp(1_764_590_000, tz=UTC)
    assert at.utcoffset() is not None and at.utcoffset().total_seconds() == 3600  # type: ignore[union-attr]


def test_transient_failures_auth_and_missing_password(fake: FakeGls, session: Session) -> None:
    adapter = _adapter(fake)
    for fault, words in (
        ("500", "GLS answered 500"),
        ("timeout", "no answer within 0.5 s"),
        ("1001", "Internal Problem. (code 1001)"),
    ):
        fake.fail_next[:] = [fault]
        with pytest.raises(CarrierError) as caught:
            adapter.create_shipment(session, _request())
        assert caught.value.transient and words in caught.value.message, fault
    put_secret("carrier:gls:hu:password", "wrong")
    forget_cached_secrets()
    wrong = get_adapter("gls", {"account": "hu", "base_url": fake.url, "username": fake.username})
    with pytest.raises(CarrierError) as caught:
        wrong.create_shipment(session, _request())
    assert (caught.value.reason, caught.value.transient) == ("auth_failed", False)
    assert "Unauthorized." in caught.value.message
    forget_cached_secrets()
    nobody = get_adapter("gls", {"account": "ro", "country": "RO", "base_url": fake.url})
    before = len(fake.requests)
    with pytest.raises(CarrierError) as caught:
        nobody.create_shipment(session, _request())
    assert caught.value.kind == "config" and "carrier:gls:ro:password" in caught.value.message
    assert len(fake.requests) == before


def test_test_and_production_hosts_per_account() -> None:
    test = get_adapter("gls", {"country": "RO"})
    live = get_adapter("gls", {"country": "RO", "mode": "production"})
    assert isinstance(test, GlsCarrier) and isinstance(live, GlsCarrier)
    assert test.url == "https://api.test.mygls.ro/ParcelService.svc/json"
    assert live.url == "https://api.mygls.ro/ParcelService.svc/json"
    with pytest.raises(CarrierError) as caught:
        get_adapter("gls", {"country": "DE"})
    assert caught.value.kind == "config"


@pytest.mark.parametrize(
    ("change", "reason", "words"),
    [
        (
            {"recipient": replace(BUDAPEST, postcode="11320")},
            "postcode_rejected",
            "Invalid ZipCode",
        ),
        (
            {"service": "parcelshop", "pickup_point": "HU0999-CLOSED"},
            "pickup_point_closed",
            "ParcelShop HU0999-CLOSED is closed",
        ),
        (
            {
                "service": "parcelshop",
                "pickup_point": "HU0123-CSOMAGPONT01",
                "recipient": replace(BUDAPEST, phone=""),
            },
            "phone_missing",
            "needs ContactPhone",
        ),
    ],
)
def test_the_carriers_refusal_is_named_in_its_words(
    fake: FakeGls, session: Session, change: dict[str, Any], reason: str, words: str
) -> None:
    with pytest.raises(CarrierError) as caught:
        _adapter(fake).create_shipment(session, _request(**change))
    assert (caught.value.kind, caught.value.reason) == ("rejected", reason)
    assert words in caught.value.message and "(code 13)" in caught.value.message
    assert fake.parcels == {}  # nothing half-created


@pytest.mark.parametrize(
    ("change", "reason", "words"),
    [
        ({"cod_amount": Decimal("1500000")}, "cod_over_limit", "limit of 1000000 HUF"),
        ({"parcels": [ParcelSpec(1, 41000)]}, "overweight", "at most 40 kg"),
        ({"service": "parcelshop"}, "pickup_point_missing", "needs the pickup point"),
    ],
)
def test_what_can_be_known_is_refused_before_anything_is_sent(
    fake: FakeGls, session: Session, change: dict[str, Any], reason: str, words: str
) -> None:
    with pytest.raises(CarrierError) as caught:
        _adapter(fake).create_shipment(session, _request(**change))
    assert (caught.value.reason, caught.value.transient) == (reason, False)
    assert words in caught.value.message and fake.requests == []


# -- An order packed in several boxes: one GLS shipment of n parcels ("1/2", "2/2") ----------


def _gls_order(make_order: Callable[..., int], fake: FakeGls) -> int:
    put_secret("carrier:gls:hu:password", "gls-secret")
    settings = {
        "carriers": {
            "gls": {
                "account": "hu",
                "country": "HU",
                "base_url": fake.url,
                "username": fake.username,
                "client_number": fake.client_number,
                "timeout_seconds": 0.5,
                "label_format": "zpl",
            }
        }
    }
    return make_order(
        carrier="gls",
        channel="shop-hu",
        settings=settings,
        service="home",
        currency="HUF",
        ship_name="Kovács Anna",
        ship_street1="Váci út 12",
        ship_postcode="1132",
        ship_city="Budapest",
        ship_country="HU",
    )


def _close_box_1(s: Session, order: Order) -> Label:
    """What the station does with the first of two boxes: weighed (in the label-ahead's band)
    and closed; its label waits for the last box."""
    assert prepare_labels(s, [order.id]) == 1
    label = _weigh(s, order, 1, 1250)
    assert label is not None and label.parcel_count == 1
    return label


def _weigh(s: Session, order: Order, box_no: int, grams: int) -> Label | None:
    """A box closed at the station with its weight, as the parcel_closed mutation records it."""
    parcel = s.scalar(select(Parcel).where(Parcel.order_id == order.id, Parcel.box_no == box_no))
    if parcel is None:
        parcel = Parcel(order_id=order.id, box_no=box_no, items=[])
        s.add(parcel)
    parcel.status, parcel.weight_grams = "closed", grams
    s.flush()
    return check_weight(s, order, box_no, grams)


def _events(s: Session, order_id: int, kind: str) -> list[dict[str, Any]]:
    return [
        e.payload
        for e in s.scalars(
            select(OrderEvent)
            .where(OrderEvent.order_id == order_id, OrderEvent.type == kind)
            .order_by(OrderEvent.id)
        )
    ]


def _printed_text(label: Label) -> str:
    return " ".join(text_fields(label.content.decode()))


def test_a_second_box_rebooks_the_order_as_one_shipment_of_two(
    sessions: sessionmaker[Session], make_order: Callable[..., int], fake: FakeGls
) -> None:
    oid = _gls_order(make_order, fake)
    with sessions() as s, s.begin():
        order = s.get_one(Order, oid)
        ahead = _close_box_1(s, order)
        number = order.number
        second = _weigh(s, order, 2, 700)
        assert second is not None and (second.parcel_no, second.parcel_count) == (2, 2)
        old_number, old_ref = ahead.tracking_number, ahead.carrier_ref
    (shipment,) = fake.live_shipments()
    assert [(p.index, p.count) for p in shipment] == [(1, 2), (2, 2)]
    assert shipment[0].request["Count"] == 2 and shipment[0].request["ClientReference"] == number
    assert fake.parcels[int(old_ref)].state == "DELETED"
    with sessions() as s:
        labels = live_labels(s, oid)
        assert [(lb.parcel_no, lb.parcel_count, lb.status) for lb in labels] == [
            (1, 2, "ready"),
            (2, 2, "ready"),
        ]
        assert {lb.tracking_number for lb in labels} == {str(p.number) for p in shipment}
        assert old_number not in {lb.tracking_number for lb in labels}
        for label, k in zip(labels, ("1/2", "2/2"), strict=True):
            assert zpl_barcodes(label.content) == [label.tracking_number]
            assert f"Ref {number} {k}" in _printed_text(label)
        cancelled = s.scalars(select(Label).where(Label.status == "cancelled")).one()
        assert cancelled.tracking_number == old_number
        parcels = s.scalars(select(Parcel).where(Parcel.order_id == oid).order_by(Parcel.box_no))
        assert [p.tracking_number for p in parcels] == [lb.tracking_number for lb in labels]
        # The audit log: the old parcel number voided, the new ones made.
        (voided,) = _events(s, oid, "label_cancelled")
        assert (voided["tracking_number"], voided["reason"]) == (old_number, "parcel_count")
        (rebooked,) = _events(s, oid, "shipment_rebooked")
        assert rebooked["voided"] == [old_number] and rebooked["parcel_count"] == 2
        assert rebooked["made"] == [lb.tracking_number for lb in labels]
        assert rebooked["unrecorded_deleted"] == []
    # The station sends box 2's weight again (a resent mutation): nothing is booked again.
    bookings = sum(method == "PrintLabels" for method, _ in fake.requests)
    with sessions() as s, s.begin():
        again = _weigh(s, s.get_one(Order, oid), 2, 700)
        assert again is not None and again.tracking_number == second.tracking_number
    assert sum(method == "PrintLabels" for method, _ in fake.requests) == bookings
    assert len(fake.live_shipments()) == 1


@pytest.mark.parametrize("fault", ["1001", "timeout"])
def test_a_failed_booking_after_the_delete_waits_and_the_retry_books_once(
    sessions: sessionmaker[Session], make_order: Callable[..., int], fake: FakeGls, fault: str
) -> None:
    oid = _gls_order(make_order, fake)
    with sessions() as s, s.begin():
        ahead = _close_box_1(s, s.get_one(Order, oid))
        old_ref = ahead.carrier_ref
    fake.fail_method, fake.fail_next[:] = "PrintLabels", [fault]
    with sessions() as s, s.begin():
        assert _weigh(s, s.get_one(Order, oid), 2, 700) is None
    assert fake.parcels[int(old_ref)].state == "DELETED"
    with sessions() as s:
        assert live_labels(s, oid) == []  # nothing the station could print with a stale count
        (problem,) = s.scalars(select(OrderException).where(OrderException.order_id == oid))
        code = {"1001": "carrier_unavailable", "timeout": "carrier_timeout"}[fault]
        assert (problem.kind, problem.code, problem.resolved_at) == ("carrier", code, None)
        assert ("Internal Problem." if fault == "1001" else "no answer") in problem.message
        box2 = s.scalars(select(Parcel).where(Parcel.order_id == oid, Parcel.box_no == 2)).one()
        assert box2.status == "awaiting_label"
    if fault == "timeout":
        # GLS made the shipment though nobody heard its answer: it holds two parcels we
        # have no label for.
        deadline = time.monotonic() + 10
        while len(fake.live_shipments()) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        (unheard,) = fake.live_shipments()
        assert [p.count for p in unheard] == [2, 2]
    else:
        assert fake.live_shipments() == []
    bookings = sum(method == "PrintLabels" for method, _ in fake.requests)
    with sessions() as s, s.begin():  # the retry: the station weighs box 2 again
        label = _weigh(s, s.get_one(Order, oid), 2, 700)
        assert label is not None and label.parcel_count == 2
    assert sum(method == "PrintLabels" for method, _ in fake.requests) == bookings + 1
    (shipment,) = fake.live_shipments()
    assert [(p.index, p.count) for p in shipment] == [(1, 2), (2, 2)]
    with sessions() as s:
        assert {lb.tracking_number for lb in live_labels(s, oid)} == {
            str(p.number) for p in shipment
        }
        (rebooked,) = _events(s, oid, "shipment_rebooked")
        assert len(rebooked["unrecorded_deleted"]) == (2 if fault == "timeout" else 0)


def test_a_lookup_that_fails_deletes_and_books_nothing(
    sessions: sessionmaker[Session], make_order: Callable[..., int], fake: FakeGls
) -> None:
    oid = _gls_order(make_order, fake)
    with sessions() as s, s.begin():
        ahead = _close_box_1(s, s.get_one(Order, oid))
        ahead_number = ahead.tracking_number
    fake.fail_method, fake.fail_next[:] = "GetParcelList", ["500"]
    with sessions() as s, s.begin():
        assert _weigh(s, s.get_one(Order, oid), 2, 700) is None
    assert [m for m, _ in fake.requests if m in ("DeleteLabels", "PrintLabels")] == ["PrintLabels"]
    with sessions() as s:
        # Box 1 keeps its label ahead, counting one parcel: the station does not print it.
        (label,) = live_labels(s, oid)
        assert (label.tracking_number, label.parcel_count) == (ahead_number, 1)
        assert s.scalars(select(OrderException.code)).one() == "carrier_unavailable"


def test_a_printed_label_is_never_touched(
    sessions: sessionmaker[Session], make_order: Callable[..., int], fake: FakeGls
) -> None:
    oid = _gls_order(make_order, fake)
    with sessions() as s, s.begin():
        ahead = _close_box_1(s, s.get_one(Order, oid))
        ahead.status = "printed"  # e.g. a supervisor reprinted box 1 before box 2 came
        second = _weigh(s, s.get_one(Order, oid), 2, 700)
        assert second is not None
        ahead_ref = ahead.carrier_ref
    assert fake.parcels[int(ahead_ref)].state == "PRINTED"
    assert len(fake.live_shipments()) == 2  # then each box keeps its own shipment
    with sessions() as s:
        assert [lb.status for lb in live_labels(s, oid)] == ["printed", "ready"]
        assert _events(s, oid, "shipment_rebooked") == []


def test_a_third_box_and_a_relabel_rebook_all_and_never_delete_a_stray_twice(
    sessions: sessionmaker[Session], make_order: Callable[..., int], fake: FakeGls
) -> None:
    fake.lists_deleted = True  # if MyGLS lists deleted parcels too, they stay deleted
    oid = _gls_order(make_order, fake)
    with sessions() as s, s.begin():
        _close_box_1(s, s.get_one(Order, oid))
    fake.fail_method, fake.fail_next[:] = "PrintLabels", ["timeout"]
    with sessions() as s, s.begin():
        assert _weigh(s, s.get_one(Order, oid), 2, 700) is None
    deadline = time.monotonic() + 10
    while len(fake.live_shipments()) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    (unheard,) = fake.live_shipments()
    with sessions() as s, s.begin():
        assert _weigh(s, s.get_one(Order, oid), 2, 700) is not None  # the retry
    first_retry = len(fake.requests)
    with sessions() as s, s.begin():
        third = _weigh(s, s.get_one(Order, oid), 3, 900)
        assert third is not None and third.parcel_count == 3
    with sessions() as s, s.begin():
        # Box 1 weighed again, out of its band: the three boxes are booked once more.
        relabelled = _weigh(s, s.get_one(Order, oid), 1, 2400)
        assert relabelled is not None and relabelled.weight_min_grams <= 2400
    deleted_later = [
        parcel_id
        for method, body in fake.requests[first_retry:]
        if method == "DeleteLabels"
        for parcel_id in body["ParcelIdList"]
    ]
    assert len(deleted_later) == 2 + 3  # the shipment of two, then the shipment of three
    assert not {p.parcel_id for p in unheard} & set(deleted_later)
    (shipment,) = fake.live_shipments()
    assert [(p.index, p.count) for p in shipment] == [(1, 3), (2, 3), (3, 3)]
    with sessions() as s:
        labels = live_labels(s, oid)
        assert [(lb.parcel_no, lb.parcel_count) for lb in labels] == [(1, 3), (2, 3), (3, 3)]
        assert [str(p.number) for p in shipment] == [lb.tracking_number for lb in labels]
        reasons = [e["reason"] for e in _events(s, oid, "shipment_rebooked")]
        assert reasons == ["parcel_count", "parcel_count", "weight_out_of_band"]
