"""The Packeta adapter against a local fake built from Packeta's public API documentation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from service.carriers.base import Address, CarrierError, ParcelSpec, ShipmentRequest
from service.carriers.packeta import PacketaCarrier
from service.carriers.registry import get_adapter
from service.secrets_store import forget_cached_secrets, put_secret
from tests.support.carrier_labels_decode import barcodes_at, zpl_barcodes
from tests.support.fake_packeta import FakePacketa, running_fake_packeta

SENDER = Address("Packbench Warehouse", "Dock 1", "1000 AA", "Amsterdam", "NL")
PRAGUE = Address(
    "Jan Novák",
    "Na Pankráci 969/97",
    "140 00",
    "Praha",
    "CZ",
    phone="+420777123456",
    email="jan@example.com",
)


@pytest.fixture
def fake() -> Iterator[FakePacketa]:
    with running_fake_packeta() as f:
        yield f


def _adapter(fake: FakePacketa, **extra: Any) -> PacketaCarrier:
    put_secret("carrier:packeta:cz:api_password", fake.api_password)
    config: dict[str, Any] = {
        "account": "cz",
        "base_url": f"{fake.url}/api/rest",
        "eshop": "MyEshop",
        "home_address_ids": {"CZ": 106, "HU": 4159},
        "timeout_seconds": 0.5,
        "max_parcel_grams": 10000,
        "cod_limits": {"CZK": 20000, "EUR": 800},
        **extra,
    }
    adapter = get_adapter("packeta", config)
    assert isinstance(adapter, PacketaCarrier)
    return adapter


def _request(**kw: Any) -> ShipmentRequest:
    base = ShipmentRequest(
        order_number="ORD-100001",
        sender=SENDER,
        recipient=PRAGUE,
        parcels=[ParcelSpec(1, 1300)],
        parcel_count=1,
        service="pickup",
        label_format="pdf",
        pickup_point="95",
        currency="CZK",
        value=Decimal("249.90"),
    )
    return replace(base, **kw)


@pytest.fixture
def session() -> Session:
    """Packeta keeps nothing in the database: an unbound session is all it is handed."""
    return Session()


def test_pickup_point_with_cod_labelled_as_pdf_read_at_203_and_300_dpi(
    fake: FakePacketa, session: Session
) -> None:
    adapter = _adapter(fake)
    (parcel,) = adapter.create_shipment(session, _request(cod_amount=Decimal("250")))
    assert parcel.tracking_number == "Z1000000001" and parcel.carrier_ref == "1000000001"
    method, sent = fake.requests[0]
    attrs = sent["packetAttributes"]
    assert method == "createPacket"
    assert (attrs["addressId"], attrs["cod"], attrs["currency"]) == ("95", "250.00", "CZK")
    assert (attrs["name"], attrs["surname"], attrs["weight"]) == ("Jan", "Novák", "1.300")
    assert attrs["value"] == "249.90" and attrs["eshop"] == "MyEshop"
    assert "street" not in attrs  # a point delivery sends no home address
    assert parcel.label_format == "pdf" and parcel.label.startswith(b"%PDF")
    for dpi in (203, 300):
        assert barcodes_at(parcel.label, dpi) == {"Z1000000001"}, dpi


def test_home_delivery_zpl_at_the_printers_dpi(fake: FakePacketa, session: Session) -> None:
    adapter = _adapter(fake)
    for dpi, module in ((203, "^BY2"), (300, "^BY3")):
        request = _request(pickup_point="", service="home", label_format="zpl", dpi=dpi)
        (parcel,) = adapter.create_shipment(session, request)
        assert parcel.label_format == "zpl"
        assert zpl_barcodes(parcel.label) == [parcel.tracking_number]
        assert module in parcel.label.decode() and "&amp;" not in parcel.label.decode()
        assert fake.requests[-1] == (
            "packetLabelZpl",
            {"packetId": parcel.carrier_ref, "dpi": str(dpi)},
        )
    attrs = fake.requests[0][1]["packetAttributes"]
    assert (attrs["addressId"], attrs["street"], attrs["houseNumber"]) == (
        "106",
        "Na Pankráci",
        "969/97",
    )
    assert (attrs["zip"], attrs["city"]) == ("140 00", "Praha")


def test_a_carriers_own_pickup_point(fake: FakePacketa, session: Session) -> None:
    request = _request(pickup_point="3060:KRA010", currency="PLN")
    (parcel,) = _adapter(fake).create_shipment(session, request)
    attrs = fake.requests[0][1]["packetAttributes"]
    assert (attrs["addressId"], attrs["carrierPickupPoint"]) == ("3060", "KRA010")
    assert parcel.tracking_number.startswith("Z")


def test_multi_parcel_is_one_packet_per_box_all_or_none(
    fake: FakePacketa, session: Session
) -> None:
    adapter = _adapter(fake)
    boxes = [ParcelSpec(1, 1200), ParcelSpec(2, 800)]
    created = adapter.create_shipment(session, _request(parcels=boxes, parcel_count=2))
    assert [c.box_no for c in created] == [1, 2]
    numbers = [r[1]["packetAttributes"]["number"] for r in fake.requests if r[0] == "createPacket"]
    assert numbers == ["ORD-100001-1", "ORD-100001-2"]
    for parcel in created:
        assert barcodes_at(parcel.label, 203) == {parcel.tracking_number}
    # The second box's label download fails: the first box's packet is cancelled again.
    fake.fail_next[:] = ["label_500"]
    with pytest.raises(CarrierError) as caught:
        adapter.create_shipment(session, _request(parcels=boxes, parcel_count=2))
    assert caught.value.transient and "502" in caught.value.message
    last_two = sorted(fake.packets)[-2:]
    assert [fake.packets[i].status for i in last_two] == [11, 11]  # both cancelled


def test_cancel_and_already_scanned(fake: FakePacketa, session: Session) -> None:
    adapter = _adapter(fake)
    (first,) = adapter.create_shipment(session, _request())
    adapter.cancel(session, first)
    assert fake.packets[int(first.carrier_ref)].status == 11
    (second,) = adapter.create_shipment(session, _request())
    fake.set_status(int(second.carrier_ref), 2, "2026-11-30T10:00:00", "Packet accepted.")
    with pytest.raises(CarrierError) as caught:
        adapter.cancel(session, second)
    error = caught.value
    assert (error.kind, error.reason, error.transient) == ("rejected", "already_scanned", False)
    assert "CancelNotAllowedFault" in error.message and "does not allow cancel" in error.message


def test_tracking_to_delivered(fake: FakePacketa, session: Session) -> None:
    adapter = _adapter(fake)
    (parcel,) = adapter.create_shipment(session, _request())
    pid = int(parcel.carrier_ref)
    fake.set_status(pid, 2, "2026-11-30T10:00:00", "Packet accepted at our branch.")
    fake.set_status(pid, 5, "2026-12-01T09:00:00", "Ready for pickup.")
    fake.set_status(pid, 7, "2026-12-01T17:30:00", "Picked up by the customer.")
    events = adapter.tracking_events(parcel.tracking_number)
    assert [e.status for e in events] == [
        "announced",
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]
    assert events[-1].message == "Picked up by the customer."
    assert events[-1].at.utcoffset() is not None and events[-1].at.hour == 17


def test_transient_failures_and_a_wrong_password(fake: FakePacketa, session: Session) -> None:
    adapter = _adapter(fake)
    for fault, words in (("500", "Packeta answered 500"), ("timeout", "no answer within 0.5 s")):
        fake.fail_next[:] = [fault]
        with pytest.raises(CarrierError) as caught:
            adapter.create_shipment(session, _request())
        assert caught.value.transient and words in caught.value.message
    fake.fail_next[:] = ["gateway"]
    with pytest.raises(CarrierError) as caught:
        adapter.create_shipment(session, _request())
    assert caught.value.kind == "unavailable"
    put_secret("carrier:packeta:cz:api_password", "not-the-password")
    forget_cached_secrets()
    wrong = get_adapter("packeta", {"account": "cz", "base_url": f"{fake.url}/api/rest"})
    with pytest.raises(CarrierError) as caught:
        wrong.create_shipment(session, _request())
    assert (caught.value.reason, caught.value.transient) == ("auth_failed", False)
    assert "Incorrect API password" in caught.value.message
    assert not any(method.startswith("packetLabel") for method, _args in fake.requests)


def test_missing_password_is_a_config_error_and_nothing_is_sent(
    fake: FakePacketa, session: Session
) -> None:
    forget_cached_secrets()
    adapter = get_adapter("packeta", {"account": "sk", "base_url": f"{fake.url}/api/rest"})
    with pytest.raises(CarrierError) as caught:
        adapter.create_shipment(session, _request())
    assert (
        caught.value.kind == "config" and "carrier:packeta:sk:api_password" in caught.value.message
    )
    assert fake.requests == []


@pytest.mark.parametrize(
    ("change", "reason", "words"),
    [
        ({"recipient": replace(PRAGUE, postcode="1400")}, "postcode_rejected", "zip: Invalid ZIP"),
        ({"pickup_point": "4321"}, "pickup_point_closed", "addressId: Pickup point is closed"),
        (
            {"recipient": replace(PRAGUE, country="HU", postcode="1051", phone="")},
            "phone_missing",
            "phone: Carrier requires",
        ),
        (
            {"cod_amount": Decimal("123"), "currency": "HUF"},
            "invalid_data",
            "cod: COD in HUF must be a multiple of 5",
        ),
    ],
)
def test_the_carriers_refusal_is_named_in_its_words(
    fake: FakePacketa, session: Session, change: dict[str, Any], reason: str, words: str
) -> None:
    home = {"pickup_point": "", "service": "home"} if "recipient" in change else {}
    adapter = _adapter(fake, cod_limits={})
    with pytest.raises(CarrierError) as caught:
        adapter.create_shipment(session, _request(**home, **change))
    assert (caught.value.kind, caught.value.reason) == ("rejected", reason)
    assert words in caught.value.message and "PacketAttributesFault" in caught.value.message
    assert fake.packets == {}  # nothing half-created


@pytest.mark.parametrize(
    ("change", "reason", "words"),
    [
        ({"cod_amount": Decimal("25000")}, "cod_over_limit", "limit of 20000 CZK"),
        ({"cod_amount": Decimal("249.90")}, "cod_not_offered", "whole crowns"),
        ({"cod_amount": Decimal("10"), "currency": "RON"}, "cod_not_offered", "not RON"),
        ({"parcels": [ParcelSpec(1, 12500)]}, "overweight", "weighs 12.5 kg"),
        ({"pickup_point": ""}, "pickup_point_missing", "needs the pickup point"),
    ],
)
def test_what_can_be_known_is_refused_before_anything_is_sent(
    fake: FakePacketa, session: Session, change: dict[str, Any], reason: str, words: str
) -> None:
    with pytest.raises(CarrierError) as caught:
        _adapter(fake).create_shipment(session, _request(**change))
    assert (caught.value.reason, caught.value.transient) == (reason, False)
    assert words in caught.value.message
    assert fake.requests == []


def test_phone_required_by_the_account_is_known_before_sending(
    fake: FakePacketa, session: Session
) -> None:
    adapter = _adapter(fake, phone_required=True)
    with pytest.raises(CarrierError) as caught:
        adapter.create_shipment(session, _request(recipient=replace(PRAGUE, phone="")))
    assert caught.value.reason == "phone_missing" and fake.requests == []
