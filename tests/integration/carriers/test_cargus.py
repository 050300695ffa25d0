"""The Cargus adapter against a local fake built from the Cargus API v3 documentation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from service.carriers.base import Address, CarrierError, ParcelSpec, ShipmentRequest
from service.carriers.cargus import CargusCarrier
from service.carriers.registry import get_adapter
from service.secrets_store import forget_cached_secrets, put_secret
from tests.support.carrier_labels_decode import barcodes_at
from tests.support.fake_cargus import FakeCargus, running_fake_cargus

SENDER = Address("Depozit", "Str. Depozitului 1", "077125", "Magurele", "RO")
CLUJ = Address(
    "Ion Popescu",
    "Str. Memorandumului 28",
    "400114",
    "Cluj-Napoca",
    "RO",
    region="Cluj",
    phone="+40722123456",
    email="ion@example.com",
)


@pytest.fixture
def fake() -> Iterator[FakeCargus]:
    with running_fake_cargus() as f:
        yield f


@pytest.fixture
def session() -> Session:
    """Cargus keeps nothing in the database: an unbound session is all it is handed."""
    return Session()


def _adapter(fake: FakeCargus, **extra: Any) -> CargusCarrier:
    put_secret("carrier:cargus:ro:subscription_key", fake.subscription_key)
    put_secret("carrier:cargus:ro:password", fake.password)
    config: dict[str, Any] = {
        "account": "ro",
        "base_url": f"{fake.url}/api",
        "username": fake.username,
        "location_id": fake.location_id,
        "timeout_seconds": 0.5,
        "cod_limits": {"RON": 10000},
        **extra,
    }
    adapter = get_adapter("cargus", config)
    assert isinstance(adapter, CargusCarrier)
    return adapter


def _request(**kw: Any) -> ShipmentRequest:
    base = ShipmentRequest(
        order_number="ORD-300001",
        sender=SENDER,
        recipient=CLUJ,
        parcels=[ParcelSpec(1, 2400)],
        parcel_count=1,
        service="home",
        label_format="pdf",
        currency="RON",
        value=Decimal("249.90"),
    )
    return replace(base, **kw)


def _awb_bodies(fake: FakeCargus) -> list[dict[str, Any]]:
    return [body for method, path, body in fake.requests if (method, path) == ("POST", "Awbs")]


def test_home_delivery_with_ramburs_and_a_label_read_at_203_and_300_dpi(
    fake: FakeCargus, session: Session
) -> None:
    (parcel,) = _adapter(fake).create_shipment(session, _request(cod_amount=Decimal("249.90")))
    assert parcel.tracking_number == parcel.carrier_ref == "1112223330"
    (body,) = _awb_bodies(fake)
    assert (body["CashRepayment"], body["ServiceId"], body["TotalWeight"]) == (249.9, 34, 3)
    assert body["Sender"] == {"LocationId": fake.location_id}
    assert body["Recipient"]["CodPostal"] == "400114" and body["Recipient"]["CountyName"] == "Cluj"
    for dpi in (203, 300):
        assert barcodes_at(parcel.label, dpi) == {"1112223330"}, dpi


def test_ship_and_go_point_and_several_boxes(fake: FakeCargus, session: Session) -> None:
    adapter = _adapter(fake)
    boxes = [ParcelSpec(1, 2000), ParcelSpec(2, 5500)]
    created = adapter.create_shipment(
        session, _request(service="shipgo", pickup_point="114142", parcels=boxes, parcel_count=2)
    )
    assert [c.box_no for c in created] == [1, 2]
    assert [b["DeliveryPudoPoint"] for b in _awb_bodies(fake)] == [114142, 114142]
    assert [b["ServiceId"] for b in _awb_bodies(fake)] == [38, 38]
    for parcel in created:
        assert barcodes_at(parcel.label, 203) == {parcel.tracking_number}
    # The second AWB's label fails: both AWBs are deleted again.
    fake.fail_next[:] = ["label_500"]
    with pytest.raises(CarrierError) as caught:
        adapter.create_shipment(session, _request(parcels=boxes, parcel_count=2))
    assert caught.value.transient
    assert [fake.awbs[b].deleted for b in sorted(fake.awbs)[-2:]] == [True, True]


def test_cancel_and_a_scanned_awb(fake: FakeCargus, session: Session) -> None:
    adapter = _adapter(fake)
    (first,) = adapter.create_shipment(session, _request())
    adapter.cancel(session, first)
    assert fake.awbs[first.carrier_ref].deleted
    (second,) = adapter.create_shipment(session, _request())
    fake.checkpoint(second.carrier_ref, 1, "2026-11-30T09:00:00", "Preluat de curier", "Magurele")
    with pytest.raises(CarrierError) as caught:
        adapter.cancel(session, second)
    assert (caught.value.reason, caught.value.transient) == ("already_scanned", False)
    assert "already has a checkpoint" in caught.value.message
    assert not fake.awbs[second.carrier_ref].deleted


def test_tracking_to_delivered(fake: FakeCargus, session: Session) -> None:
    adapter = _adapter(fake)
    (parcel,) = adapter.create_shipment(session, _request())
    fake.checkpoint(parcel.carrier_ref, 1, "2026-11-30T09:00:00", "Preluat de curier", "Magurele")
    fake.checkpoint(parcel.carrier_ref, 21, "2026-12-01T13:10:00", "Livrat la destinatar", "Cluj")
    events = adapter.tracking_events(parcel.tracking_number)
    assert [e.status for e in events] == ["in_transit", "delivered"]
    assert events[-1].message == "Livrat la destinatar" and events[-1].location == "Cluj"
    assert events[-1].at.utcoffset() is not None


def test_transient_failures_and_wrong_credentials(fake: FakeCargus, session: Session) -> None:
    adapter = _adapter(fake)
    for fault, words in (("500", "Cargus answered 500"), ("timeout", "no answer within 0.5 s")):
        fake.fail_next[:] = [fault]
        with pytest.raises(CarrierError) as caught:
            adapter.create_shipment(session, _request())
        assert caught.value.transient and words in caught.value.message
    put_secret("carrier:cargus:ro:password", "wrong")
    forget_cached_secrets()
    with pytest.raises(CarrierError) as caught:
        adapter.create_shipment(session, _request())
    assert (caught.value.reason, caught.value.transient) == ("auth_failed", False)
    assert "parola incorecte" in caught.value.message
    assert fake.awbs == {}


@pytest.mark.parametrize(
    ("change", "reason", "words"),
    [
        ({"recipient": replace(CLUJ, postcode="4001")}, "postcode_rejected", "Cod postal invalid"),
        (
            {"service": "shipgo", "pickup_point": "114999"},
            "pickup_point_closed",
            "Punctul PUDO 114999 nu este activ",
        ),
        ({"recipient": replace(CLUJ, phone="")}, "phone_missing", "telefon"),
    ],
)
def test_the_carriers_refusal_is_named_in_its_words(
    fake: FakeCargus, session: Session, change: dict[str, Any], reason: str, words: str
) -> None:
    with pytest.raises(CarrierError) as caught:
        _adapter(fake).create_shipment(session, _request(**change))
    assert (caught.value.kind, caught.value.reason) == ("rejected", reason)
    assert words in caught.value.message and "Cargus refused (400)" in caught.value.message
    assert fake.awbs == {}


@pytest.mark.parametrize(
    ("change", "reason", "words"),
    [
        ({"cod_amount": Decimal("12000")}, "cod_over_limit", "limit of 10000 RON"),
        ({"cod_amount": Decimal("50"), "currency": "EUR"}, "cod_not_offered", "not EUR"),
        ({"parcels": [ParcelSpec(1, 32000)]}, "overweight", "at most 31 kg"),
        ({"service": "shipgo"}, "pickup_point_missing", "needs the pickup point"),
    ],
)
def test_what_can_be_known_is_refused_before_anything_is_sent(
    fake: FakeCargus, session: Session, change: dict[str, Any], reason: str, words: str
) -> None:
    with pytest.raises(CarrierError) as caught:
        _adapter(fake).create_shipment(session, _request(**change))
    assert (caught.value.reason, caught.value.transient) == (reason, False)
    assert words in caught.value.message and fake.requests == []
