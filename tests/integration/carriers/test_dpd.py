"""The DPD adapter against a local fake built from DPD Romania's Web API documentation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from service.carriers.base import Address, CarrierError, ParcelSpec, ShipmentRequest
from service.carriers.dpd import DpdCarrier
from service.carriers.registry import get_adapter
from service.secrets_store import forget_cached_secrets, put_secret
from tests.support.carrier_labels_decode import barcodes_at, zpl_barcodes
from tests.support.fake_dpd import FakeDpd, running_fake_dpd

SENDER = Address("Depozit", "Str. Depozitului 1", "077125", "Magurele", "RO")
BUCHAREST = Address(
    "Ion Popescu",
    "Str. Paris 9",
    "011815",
    "Bucuresti",
    "RO",
    phone="+40722123456",
    email="ion@example.com",
)


@pytest.fixture
def fake() -> Iterator[FakeDpd]:
    with running_fake_dpd() as f:
        yield f


@pytest.fixture
def session() -> Session:
    """DPD keeps nothing in the database: an unbound session is all it is handed."""
    return Session()


def _adapter(fake: FakeDpd, **extra: Any) -> DpdCarrier:
    put_secret("carrier:dpd:ro:password", fake.password)
    forget_cached_secrets()
    config: dict[str, Any] = {
        "account": "ro",
        "base_url": f"{fake.url}/v1",
        "username": fake.username,
        "timeout_seconds": 0.5,
        "cod_limits": {"RON": 10000},
        **extra,
    }
    adapter = get_adapter("dpd", config)
    assert isinstance(adapter, DpdCarrier)
    return adapter


def _request(**kw: Any) -> ShipmentRequest:
    base = ShipmentRequest(
        order_number="ORD-400001",
        sender=SENDER,
        recipient=BUCHAREST,
        parcels=[ParcelSpec(1, 2400)],
        parcel_count=1,
        service="home",
        label_format="pdf",
        currency="RON",
        value=Decimal("249.90"),
    )
    return replace(base, **kw)


def _created(fake: FakeDpd) -> list[dict[str, Any]]:
    return [body for service, body in fake.requests if service == "shipment"]


def test_home_delivery_with_cod_and_a_pdf_label_read_at_203_and_300_dpi(
    fake: FakeDpd, session: Session
) -> None:
    (parcel,) = _adapter(fake).create_shipment(session, _request(cod_amount=Decimal("249.90")))
    assert parcel.tracking_number == parcel.carrier_ref == "80147286562"
    (body,) = _created(fake)
    assert body["service"]["additionalServices"]["cod"] == {
        "amount": 249.9,
        "currencyCode": "RON",
        "processingType": "CASH",
    }
    address = body["recipient"]["address"]
    assert (address["countryId"], address["postCode"], address["siteName"]) == (
        642,
        "011815",
        "Bucuresti",
    )
    assert (address["streetName"], address["streetNo"]) == ("Str. Paris", "9")
    assert body["content"]["parcelsCount"] == 1 and body["ref1"] == "ORD-400001"
    for dpi in (203, 300):
        assert barcodes_at(parcel.label, dpi) == {"80147286562"}, dpi


def test_office_pickup_several_boxes_and_zpl_at_the_printers_dpi(
    fake: FakeDpd, session: Session
) -> None:
    adapter = _adapter(fake)
    boxes = [ParcelSpec(1, 2000), ParcelSpec(2, 5500), ParcelSpec(3, 800)]
    created = adapter.create_shipment(
        session,
        _request(
            service="pickup",
            pickup_point="1139",
            parcels=boxes,
            parcel_count=3,
            label_format="zpl",
            dpi=300,
        ),
    )
    (body,) = _created(fake)
    assert body["recipient"]["pickupOfficeId"] == 1139 and "address" not in body["recipient"]
    assert [p["weight"] for p in body["content"]["parcels"]] == [2.0, 5.5, 0.8]
    assert [c.box_no for c in created] == [1, 2, 3]
    assert len({c.carrier_ref for c in created}) == 1  # one shipment of three parcels
    for n, parcel in enumerate(created, start=1):
        assert zpl_barcodes(parcel.label) == [parcel.tracking_number]
        assert f"{n}/3".encode() in parcel.label and b"^PW1200" in parcel.label  # 300 dpi
    prints = [body for service, body in fake.requests if service == "print"]
    assert {(p["format"], p["dpi"]) for p in prints} == {("zpl", "dpi300")}


def test_a_failed_label_cancels_the_shipment_again(fake: FakeDpd, session: Session) -> None:
    fake.fail_next[:] = ["label_500"]
    with pytest.raises(CarrierError) as caught:
        _adapter(fake).create_shipment(
            session, _request(parcels=[ParcelSpec(1, 1000), ParcelSpec(2, 1000)], parcel_count=2)
        )
    assert caught.value.transient and "502" in caught.value.message
    (shipment,) = fake.shipments.values()
    assert shipment.cancelled


def test_cancel_and_a_picked_up_shipment(fake: FakeDpd, session: Session) -> None:
    adapter = _adapter(fake)
    (first,) = adapter.create_shipment(session, _request())
    adapter.cancel(session, first)
    assert fake.shipments[first.carrier_ref].cancelled
    (second,) = adapter.create_shipment(session, _request())
    fake.operate(second.tracking_number, 39, "2026-12-04T15:10:00+02:00", "Picked up", "Magurele")
    with pytest.raises(CarrierError) as caught:
        adapter.cancel(session, second)
    assert (caught.value.reason, caught.value.transient) == ("already_scanned", False)
    assert "it has been picked up" in caught.value.message
    assert not fake.shipments[second.carrier_ref].cancelled


def test_tracking_to_delivered(fake: FakeDpd, session: Session) -> None:
    adapter = _adapter(fake)
    (parcel,) = adapter.create_shipment(session, _request())
    number = parcel.tracking_number
    fake.operate(number, 39, "2026-12-04T15:10:00+02:00", "Picked up", "Magurele")
    fake.operate(number, 12, "2026-12-05T08:02:00+02:00", "Out for delivery", "Bucuresti")
    fake.operate(number, -14, "2026-12-05T11:40:00+02:00", "Delivered", "Bucuresti")
    events = adapter.tracking_events(number)
    assert [e.status for e in events] == ["in_transit", "out_for_delivery", "delivered"]
    assert events[-1].message == "Delivered" and events[-1].location == "Bucuresti"
    assert events[-1].at.utcoffset() is not None
    with pytest.raises(CarrierError) as caught:
        adapter.tracking_events("99999999999")
    assert "Not found" in caught.value.message


def test_transient_failures_and_wrong_credentials(fake: FakeDpd, session: Session) -> None:
    adapter = _adapter(fake)
    for fault, words in (("500", "DPD answered 500"), ("timeout", "no answer within 0.5 s")):
        fake.fail_next[:] = [fault]
        with pytest.raises(CarrierError) as caught:
            adapter.create_shipment(session, _request())
        assert caught.value.transient and words in caught.value.message
    put_secret("carrier:dpd:ro:password", "wrong")
    forget_cached_secrets()
    with pytest.raises(CarrierError) as caught:
        adapter.create_shipment(session, _request())
    assert (caught.value.reason, caught.value.transient) == ("auth_failed", False)
    assert "Invalid username or password" in caught.value.message
    assert fake.shipments == {}


def test_missing_password_is_a_config_error_and_nothing_is_sent(
    fake: FakeDpd, session: Session
) -> None:
    forget_cached_secrets()
    adapter = get_adapter("dpd", {"account": "bg", "base_url": f"{fake.url}/v1"})
    with pytest.raises(CarrierError) as caught:
        adapter.create_shipment(session, _request())
    assert caught.value.kind == "config" and "carrier:dpd:bg:password" in caught.value.message
    assert fake.requests == []


@pytest.mark.parametrize(
    ("change", "reason", "words"),
    [
        (
            {"recipient": replace(BUCHAREST, postcode="0118")},
            "postcode_rejected",
            "Invalid post code '0118'",
        ),
        ({"service": "pickup", "pickup_point": "405"}, "pickup_point_closed", "Office 405"),
        (
            {"recipient": replace(BUCHAREST, phone="")},
            "phone_missing",
            "Recipient phone is required",
        ),
    ],
)
def test_the_carriers_refusal_is_named_in_its_words(
    fake: FakeDpd, session: Session, change: dict[str, Any], reason: str, words: str
) -> None:
    adapter = _adapter(fake, phone_required=False)  # let DPD itself refuse the missing phone
    with pytest.raises(CarrierError) as caught:
        adapter.create_shipment(session, _request(**change))
    assert (caught.value.kind, caught.value.reason) == ("rejected", reason)
    assert words in caught.value.message and "DPD refused (code 10" in caught.value.message
    assert fake.shipments == {}


@pytest.mark.parametrize(
    ("change", "reason", "words"),
    [
        ({"cod_amount": Decimal("12000")}, "cod_over_limit", "limit of 10000 RON"),
        ({"cod_amount": Decimal("50"), "currency": "HUF"}, "cod_not_offered", "not HUF"),
        ({"parcels": [ParcelSpec(1, 32000)]}, "overweight", "at most 31.5 kg"),
        ({"service": "pickup"}, "pickup_point_missing", "needs the pickup point"),
        ({"recipient": replace(BUCHAREST, phone="")}, "phone_missing", "needs the recipient's"),
        (
            {"service": "pickup", "pickup_point": "DPDbox-7"},
            "pickup_point_closed",
            "not a DPD office or DPDbox id",
        ),
        (
            {"recipient": replace(BUCHAREST, country="FR", postcode="75001")},
            "invalid_data",
            "does not deliver to FR",
        ),
    ],
)
def test_what_can_be_known_is_refused_before_anything_is_sent(
    fake: FakeDpd, session: Session, change: dict[str, Any], reason: str, words: str
) -> None:
    with pytest.raises(CarrierError) as caught:
        _adapter(fake).create_shipment(session, _request(**change))
    assert (caught.value.reason, caught.value.transient) == (reason, False)
    assert words in caught.value.message and fake.requests == []


def test_test_and_production_modes_and_an_unknown_mode() -> None:
    for mode in ("test", "production"):
        adapter = get_adapter("dpd", {"mode": mode})
        assert isinstance(adapter, DpdCarrier) and adapter.url == "https://api.dpd.ro/v1"
    with pytest.raises(CarrierError) as caught:
        get_adapter("dpd", {"mode": "staging"})
    assert caught.value.kind == "config" and "not one of production, test" in caught.value.message
