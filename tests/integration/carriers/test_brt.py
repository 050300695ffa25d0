"""The BRT adapter against a local fake built from BRT's REST API documentation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from service.carriers.base import Address, CarrierError, ParcelSpec, ShipmentRequest
from service.carriers.brt import BrtCarrier, BrtRef, sender_references
from service.carriers.registry import get_adapter
from service.secrets_store import forget_cached_secrets, put_secret
from tests.support.carrier_labels_decode import barcodes_at, zpl_barcodes
from tests.support.fake_brt import FakeBrt, running_fake_brt

SENDER = Address("Magazzino", "Via Roma 1", "20121", "Milano", "IT")
ROME = Address(
    "Mario Rossi",
    "Via del Corso 12",
    "00186",
    "Roma",
    "IT",
    region="RM",
    phone="+393471234567",
    email="mario@example.com",
)


@pytest.fixture
def fake() -> Iterator[FakeBrt]:
    with running_fake_brt() as f:
        yield f


@pytest.fixture
def session() -> Session:
    """BRT keeps nothing in the database: an unbound session is all it is handed."""
    return Session()


def _adapter(fake: FakeBrt, **extra: Any) -> BrtCarrier:
    put_secret("carrier:brt:it:password", fake.password)
    forget_cached_secrets()
    config: dict[str, Any] = {
        "account": "it",
        "base_url": f"{fake.url}/rest/v1",
        "user_id": fake.user_id,
        "departure_depot": fake.depot,
        "timeout_seconds": 0.5,
        "cod_limits": {"EUR": 2000},
        **extra,
    }
    adapter = get_adapter("brt", config)
    assert isinstance(adapter, BrtCarrier)
    return adapter


def _request(**kw: Any) -> ShipmentRequest:
    base = ShipmentRequest(
        order_number="IT-500017",
        sender=SENDER,
        recipient=ROME,
        parcels=[ParcelSpec(1, 2400)],
        parcel_count=1,
        service="home",
        label_format="pdf",
        currency="EUR",
        value=Decimal("89.90"),
    )
    return replace(base, **kw)


def _sent(fake: FakeBrt, method: str, path: str) -> list[dict[str, Any]]:
    return [body for m, p, body in fake.requests if (m, p) == (method, path)]


def test_home_delivery_with_contrassegno_labelled_confirmed_and_read_at_both_dpi(
    fake: FakeBrt, session: Session
) -> None:
    (parcel,) = _adapter(fake).create_shipment(session, _request(cod_amount=Decimal("89.90")))
    ((body,),) = [_sent(fake, "POST", "shipments/shipment")]
    data = body["createData"]
    assert (data["cashOnDelivery"], data["isCODMandatory"], data["codCurrency"]) == (
        89.9,
        "1",
        "EUR",
    )
    assert (data["numericSenderReference"], data["alphanumericSenderReference"]) == (
        500017,
        "IT-500017",
    )
    assert (data["numberOfParcels"], data["weightKG"], data["departureDepot"]) == (1, 2.4, 131)
    assert data["consigneeProvinceAbbreviation"] == "RM" and "pudoId" not in data
    (shipment,) = fake.shipments
    assert shipment.confirmed  # BRT takes in charge only confirmed shipments
    parcel_id, tracking = shipment.parcels[0]
    assert parcel.tracking_number == tracking and len(tracking) == 15
    assert BrtRef.parse(parcel.carrier_ref) == BrtRef(500017, "IT-500017", parcel_id)
    for dpi in (203, 300):
        assert barcodes_at(parcel.label, dpi) == {parcel_id}, dpi  # the label's 18 characters


def test_fermopoint_and_several_boxes_in_one_shipment_as_zpl(
    fake: FakeBrt, session: Session
) -> None:
    boxes = [ParcelSpec(1, 2000), ParcelSpec(2, 5500)]
    created = _adapter(fake).create_shipment(
        session,
        _request(
            service="fermopoint",
            pickup_point="IT07632",
            parcels=boxes,
            parcel_count=2,
            label_format="zpl",
        ),
    )
    ((body,),) = [_sent(fake, "POST", "shipments/shipment")]
    assert body["createData"]["pudoId"] == "IT07632"
    assert (body["createData"]["numberOfParcels"], body["createData"]["weightKG"]) == (2, 7.5)
    assert body["labelParameters"]["outputType"] == "ZPL"
    (shipment,) = fake.shipments
    assert [c.tracking_number for c in created] == [t for _p, t in shipment.parcels]
    for n, (parcel, (parcel_id, _t)) in enumerate(zip(created, shipment.parcels), start=1):
        assert parcel.label_format == "zpl" and zpl_barcodes(parcel.label) == [parcel_id]
        assert f"{n}/2".encode() in parcel.label


def test_zpl_for_a_300_dpi_printer_comes_as_pdf(fake: FakeBrt, session: Session) -> None:
    (parcel,) = _adapter(fake).create_shipment(session, _request(label_format="zpl", dpi=300))
    assert parcel.label_format == "pdf" and parcel.label.startswith(b"%PDF")
    assert barcodes_at(parcel.label, 300) == {fake.shipments[0].parcels[0][0]}


def test_a_failed_confirmation_deletes_the_shipment_again(fake: FakeBrt, session: Session) -> None:
    adapter = _adapter(fake)
    fake.fail_next[:] = ["confirm_500"]
    with pytest.raises(CarrierError) as caught:
        adapter.create_shipment(session, _request())
    assert caught.value.transient and "503" in caught.value.message
    assert [s.deleted for s in fake.shipments] == [True]
    # The retry the jobs make creates it again under the same references.
    (parcel,) = adapter.create_shipment(session, _request())
    assert fake.live()[0].confirmed and parcel.tracking_number == fake.live()[0].parcels[0][1]


def test_a_created_shipment_whose_answer_was_lost_is_deleted_before_the_retry(
    fake: FakeBrt, session: Session
) -> None:
    adapter = _adapter(fake)
    fake.fail_next[:] = ["lost_502"]
    with pytest.raises(CarrierError) as caught:
        adapter.create_shipment(session, _request())
    assert caught.value.transient and "502" in caught.value.message
    assert [s.deleted for s in fake.shipments] == [True]
    (parcel,) = adapter.create_shipment(session, _request())
    (live,) = fake.live()
    assert live.confirmed and parcel.tracking_number == live.parcels[0][1]


def test_cancel_and_a_shipment_the_depot_already_handles(fake: FakeBrt, session: Session) -> None:
    adapter = _adapter(fake)
    first, second = adapter.create_shipment(
        session, _request(parcels=[ParcelSpec(1, 900), ParcelSpec(2, 900)], parcel_count=2)
    )
    adapter.cancel(session, first)
    assert fake.shipments[0].deleted
    adapter.cancel(session, second)  # went with the first: BRT no longer knows it
    (third,) = adapter.create_shipment(session, _request(order_number="IT-500018"))
    fake.scan(third.tracking_number, "04.12.2026", "18.05", "RITIRATA", "MILANO")
    with pytest.raises(CarrierError) as caught:
        adapter.cancel(session, third)
    assert (caught.value.reason, caught.value.transient) == ("already_scanned", False)
    assert "SHIPMENT BEING HANDLED" in caught.value.message
    assert not fake.shipments[-1].deleted


def test_tracking_to_delivered(fake: FakeBrt, session: Session) -> None:
    adapter = _adapter(fake)
    (parcel,) = adapter.create_shipment(session, _request())
    number = parcel.tracking_number
    fake.scan(number, "04.12.2026", "18.05", "RITIRATA", "MILANO")
    fake.scan(number, "05.12.2026", "07.40", "IN CONSEGNA", "ROMA")
    fake.scan(number, "05.12.2026", "11.32", "CONSEGNATA", "ROMA")
    events = adapter.tracking_events(number)
    assert [e.status for e in events] == ["in_transit", "out_for_delivery", "delivered"]
    assert (events[-1].message, events[-1].location) == ("CONSEGNATA", "ROMA")
    assert events[-1].at.isoformat() == "2026-12-05T11:32:00+01:00"
    requests = [(m, p) for m, p, _b in fake.requests if m == "GET"]
    assert requests == [("GET", f"tracking/parcelID/{number}")]


def test_transient_failures_and_wrong_credentials(fake: FakeBrt, session: Session) -> None:
    adapter = _adapter(fake)
    for fault, words in (("500", "BRT answered 500"), ("timeout", "no answer within 0.5 s")):
        fake.fail_next[:] = [fault]
        with pytest.raises(CarrierError) as caught:
            adapter.create_shipment(session, _request())
        assert caught.value.transient and words in caught.value.message
    put_secret("carrier:brt:it:password", "wrong")
    forget_cached_secrets()
    with pytest.raises(CarrierError) as caught:
        adapter.create_shipment(session, _request())
    assert (caught.value.reason, caught.value.transient) == ("auth_failed", False)
    assert "LOGIN FAILED" in caught.value.message
    with pytest.raises(CarrierError) as caught:
        adapter.tracking_events("131000000100001")
    assert caught.value.reason == "auth_failed"
    assert fake.shipments == []


def test_missing_password_is_a_config_error_and_nothing_is_sent(
    fake: FakeBrt, session: Session
) -> None:
    forget_cached_secrets()
    adapter = get_adapter("brt", {"account": "it2", "base_url": f"{fake.url}/rest/v1"})
    with pytest.raises(CarrierError) as caught:
        adapter.create_shipment(session, _request())
    assert caught.value.kind == "config" and "carrier:brt:it2:password" in caught.value.message
    assert fake.requests == []


@pytest.mark.parametrize(
    ("change", "reason", "words"),
    [
        (
            {"recipient": replace(ROME, postcode="0018")},
            "postcode_rejected",
            "ROUTING CALCULATION ERROR - ZIP code 0018 not consistent",
        ),
        (
            {"service": "fermopoint", "pickup_point": "IT00001"},
            "pickup_point_closed",
            "PUDO NOT VALID",
        ),
        (
            {
                "service": "fermopoint",
                "pickup_point": "IT07632",
                "recipient": replace(ROME, phone="", email=""),
            },
            "phone_missing",
            "consigneeMobilePhoneNumber or EMail needed",
        ),
    ],
)
def test_the_carriers_refusal_is_named_in_its_words(
    fake: FakeBrt, session: Session, change: dict[str, Any], reason: str, words: str
) -> None:
    with pytest.raises(CarrierError) as caught:
        _adapter(fake).create_shipment(session, _request(**change))
    assert (caught.value.kind, caught.value.reason) == ("rejected", reason)
    assert words in caught.value.message and "BRT refused (code -6" in caught.value.message
    assert fake.shipments == []


@pytest.mark.parametrize(
    ("change", "reason", "words"),
    [
        ({"cod_amount": Decimal("2500")}, "cod_over_limit", "limit of 2000 EUR"),
        ({"cod_amount": Decimal("50"), "currency": "CHF"}, "cod_not_offered", "only in EUR"),
        ({"service": "fermopoint"}, "pickup_point_missing", "needs the pickup point"),
        (
            {"recipient": replace(ROME, street1="Via della Circonvallazione Gianicolense 212")},
            "invalid_data",
            "at most 35 characters of street",
        ),
        (
            {"parcels": [ParcelSpec(n, 500) for n in range(1, 32)], "parcel_count": 31},
            "invalid_data",
            "at most 30 parcels",
        ),
    ],
)
def test_what_can_be_known_is_refused_before_anything_is_sent(
    fake: FakeBrt, session: Session, change: dict[str, Any], reason: str, words: str
) -> None:
    with pytest.raises(CarrierError) as caught:
        _adapter(fake).create_shipment(session, _request(**change))
    assert (caught.value.reason, caught.value.transient) == (reason, False)
    assert words in caught.value.message and fake.requests == []


def test_sender_references_are_stable_for_a_retry() -> None:
    assert sender_references("#1001") == (1001, "#1001")
    assert sender_references("#1001", 3) == (1001, "#1001/3")  # a box labelled later
    assert sender_references("ORDER-2026-000042", 2) == (2026000042, "ORDER-2026-00/2")
    assert sender_references("WEB-ABC") == sender_references("WEB-ABC")
    numeric, alpha = sender_references("WEB-ABC")
    assert numeric > 0 and alpha == "WEB-ABC"
    assert sender_references("A-1234567890123456789")[0] == 234567890123456789 % 10**15
