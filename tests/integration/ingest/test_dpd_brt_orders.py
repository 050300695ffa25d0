"""DPD and BRT orders from the shop's webhook to the carrier's label, on each database.

The shops map their methods to `dpd` and `brt` as an operator does (`channel
set-shipping`); the point the customer chose and the COD amount reach the carrier's fake,
and what the account refuses is held at ingest before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.channels import set_shipping, update_channel
from service.db import transaction
from service.jobs.worker import run_due
from service.models import Label, Order, OrderException
from service.models.jobs import OutboundJob
from service.secrets_store import forget_cached_secrets, put_secret
from service.shipping.labels import cancel_label, prepare_labels
from sync.clock import utcnow
from tests.integration.ingest.conftest import shopify_post, woo_post
from tests.support.carrier_labels_decode import barcodes_at
from tests.support.fake_brt import FakeBrt, running_fake_brt
from tests.support.fake_dpd import FakeDpd, running_fake_dpd
from tests.support.shop_payloads import shopify_order, woo_order

DPD_METHOD = "DPD Pickup - ridicare din oficiu"
BRT_METHOD = "BRT-fermopoint"


@pytest.fixture
def carriers(seeded: sessionmaker[Session]) -> Iterator[tuple[FakeDpd, FakeBrt]]:
    """Shopify `shop` ships with DPD (RO), WooCommerce `woo` with BRT (IT)."""
    with running_fake_dpd() as dpd, running_fake_brt() as brt:
        put_secret("carrier:dpd:ro:password", dpd.password)
        put_secret("carrier:brt:it:password", brt.password)
        forget_cached_secrets()
        with transaction(seeded) as s:
            update_channel(
                s,
                "shop",
                settings={
                    "carriers": {
                        "dpd": {
                            "account": "ro",
                            "base_url": f"{dpd.url}/v1",
                            "username": dpd.username,
                            "label_format": "pdf",
                            "cod_limits": {"RON": 10000},
                            "timeout_seconds": 2,
                        }
                    },
                    "cod_countries": ["RO"],
                    "pickup_point": {"from": "note_attributes", "id": "dpd_office_id"},
                },
            )
            update_channel(
                s,
                "woo",
                settings={
                    "carriers": {
                        "brt": {
                            "account": "it",
                            "base_url": f"{brt.url}/rest/v1",
                            "user_id": brt.user_id,
                            "departure_depot": brt.depot,
                            "label_format": "pdf",
                            "cod_limits": {"EUR": 2000},
                            "timeout_seconds": 2,
                        }
                    },
                    "cod_countries": ["IT", "CH"],
                    "pickup_point": {"from": "meta_data", "id": "_brt_pudo_id"},
                },
            )
            set_shipping(s, "shop", DPD_METHOD, carrier="dpd", service="pickup", actor="t")
            set_shipping(s, "woo", BRT_METHOD, carrier="brt", service="fermopoint", actor="t")
        yield dpd, brt


def _romanian_cod(order_id: int, total: str, office: str, phone: str) -> dict[str, Any]:
    payload = shopify_order(
        order_id,
        currency="RON",
        total_price=total,
        financial_status="pending",
        payment_gateway_names=["Cash on Delivery (COD)"],
    )
    payload["shipping_address"].update(
        address1="Str. Paris 9",
        zip="011815",
        city="Bucuresti",
        country="Romania",
        country_code="RO",
        phone=phone,
    )
    payload["phone"] = None
    payload["shipping_lines"][0].update(code=DPD_METHOD, title=DPD_METHOD)
    payload["note_attributes"] = [{"name": "dpd_office_id", "value": office}]
    return payload


def _italian_cod(order_id: int, total: str, currency: str, point: str) -> dict[str, Any]:
    payload = woo_order(
        order_id,
        currency=currency,
        total=total,
        payment_method="cod",
        status="processing",
        date_paid=None,
        date_paid_gmt=None,
    )
    payload["shipping"].update(
        address_1="Via del Corso 12", postcode="00186", city="Roma", state="RM", country="IT"
    )
    payload["billing"]["phone"] = "+393471234567"
    payload["shipping_lines"][0].update(method_id=BRT_METHOD, method_title=BRT_METHOD)
    payload["meta_data"] = [{"id": 1, "key": "_brt_pudo_id", "value": point}]
    return payload


def _order(sessions: sessionmaker[Session], channel_order_id: str) -> Order:
    with sessions() as s:
        order = s.scalar(select(Order).where(Order.channel_order_id == channel_order_id))
        assert order is not None
        s.expunge(order)
        return order


def test_a_dpd_office_order_with_cod_is_labelled_by_dpd(
    client: TestClient, seeded: sessionmaker[Session], carriers: tuple[FakeDpd, FakeBrt]
) -> None:
    dpd, _brt = carriers
    r = shopify_post(client, _romanian_cod(8101, "249.90", "1139", "+40722123456"))
    assert r.json()["order_status"] == "confirmed", r.json()
    order = _order(seeded, "8101")
    assert (order.carrier, order.service, order.pickup_point) == ("dpd", "pickup", "1139")
    with transaction(seeded) as s:
        assert prepare_labels(s, [order.id]) == 1
    ((_service, sent),) = [r for r in dpd.requests if r[0] == "shipment"]
    assert sent["recipient"]["pickupOfficeId"] == 1139
    assert sent["service"]["additionalServices"]["cod"]["amount"] == 249.9
    (shipment,) = dpd.shipments.values()
    with seeded() as s:
        (label,) = s.scalars(select(Label).where(Label.order_id == order.id))
        assert label.tracking_number == shipment.parcel_ids[0] and label.format == "pdf"
        assert barcodes_at(label.content, 203) == {shipment.parcel_ids[0]}


def test_dpd_holds_an_order_without_a_phone_before_anything_is_sent(
    client: TestClient, seeded: sessionmaker[Session], carriers: tuple[FakeDpd, FakeBrt]
) -> None:
    dpd, _brt = carriers
    r = shopify_post(client, _romanian_cod(8102, "249.90", "1139", ""))
    assert r.json()["order_status"] == "on_hold", r.json()
    codes = {reason["code"] for reason in r.json()["hold_reasons"]}
    assert "phone_missing" in codes
    assert dpd.requests == []


def test_a_brt_fermopoint_order_with_contrassegno_is_labelled_by_brt(
    client: TestClient, seeded: sessionmaker[Session], carriers: tuple[FakeDpd, FakeBrt]
) -> None:
    _dpd, brt = carriers
    r = woo_post(client, _italian_cod(811, "89.90", "EUR", "IT07632"))
    assert r.json()["order_status"] == "confirmed", r.json()
    order = _order(seeded, "811")
    assert (order.carrier, order.service, order.pickup_point) == ("brt", "fermopoint", "IT07632")
    with transaction(seeded) as s:
        assert prepare_labels(s, [order.id]) == 1
    (shipment,) = brt.shipments
    assert shipment.confirmed and shipment.data["pudoId"] == "IT07632"
    assert (shipment.data["cashOnDelivery"], shipment.data["codCurrency"]) == (89.9, "EUR")
    parcel_id, tracking = shipment.parcels[0]
    with seeded() as s:
        (label,) = s.scalars(select(Label).where(Label.order_id == order.id))
        assert label.tracking_number == tracking
        assert barcodes_at(label.content, 300) == {parcel_id}


def test_brt_holds_cod_over_the_limit_or_not_in_euro_and_a_closed_point_is_an_exception(
    client: TestClient, seeded: sessionmaker[Session], carriers: tuple[FakeDpd, FakeBrt]
) -> None:
    _dpd, brt = carriers
    r = woo_post(client, _italian_cod(812, "2500.00", "EUR", "IT07632"))
    (reason,) = r.json()["hold_reasons"]
    assert reason["code"] == "cod_over_limit" and "limit of 2000 EUR" in reason["message"]
    r = woo_post(client, _italian_cod(813, "89.90", "CHF", "IT07632"))
    (reason,) = r.json()["hold_reasons"]
    assert reason["code"] == "cod_not_offered" and "only in EUR" in reason["message"]
    assert brt.requests == []

    # A fermopoint that closed after checkout: BRT refuses it before anyone packs.
    r = woo_post(client, _italian_cod(814, "89.90", "EUR", "IT00001"))
    assert r.json()["order_status"] == "confirmed", r.json()
    order = _order(seeded, "814")
    with transaction(seeded) as s:
        assert prepare_labels(s, [order.id]) == 0
    with seeded() as s:
        (exc,) = s.scalars(select(OrderException).where(OrderException.order_id == order.id))
        assert exc.code == "carrier_pickup_point_closed" and "PUDO NOT VALID" in exc.message
        assert s.scalars(select(Label).where(Label.order_id == order.id)).all() == []
    assert brt.shipments == []


def test_dpd_away_is_a_carrier_exception_and_the_next_try_labels_it(
    client: TestClient, seeded: sessionmaker[Session], carriers: tuple[FakeDpd, FakeBrt]
) -> None:
    dpd, _brt = carriers
    r = shopify_post(client, _romanian_cod(8103, "99.00", "77", "+40722123456"))
    order = _order(seeded, "8103")
    assert r.json()["order_status"] == "confirmed", r.json()
    dpd.fail_next[:] = ["500"]
    with transaction(seeded) as s:
        assert prepare_labels(s, [order.id]) == 0
    with seeded() as s:
        (exc,) = s.scalars(select(OrderException).where(OrderException.order_id == order.id))
        assert exc.code == "carrier_unavailable" and "DPD answered 500" in exc.message
    assert dpd.shipments == {}
    with transaction(seeded) as s:
        assert prepare_labels(s, [order.id]) == 1
    assert len(dpd.shipments) == 1


def test_a_brt_cancel_while_brt_is_away_is_queued_as_a_durable_job(
    client: TestClient, seeded: sessionmaker[Session], carriers: tuple[FakeDpd, FakeBrt]
) -> None:
    _dpd, brt = carriers
    woo_post(client, _italian_cod(815, "19.90", "EUR", "IT07632"))
    order = _order(seeded, "815")
    with transaction(seeded) as s:
        assert prepare_labels(s, [order.id]) == 1
    brt.fail_next[:] = ["500"]
    with transaction(seeded) as s:
        (label,) = s.scalars(select(Label).where(Label.order_id == order.id))
        assert cancel_label(s, label, actor="t") == "queued"
    with seeded() as s:
        (job,) = s.scalars(select(OutboundJob).where(OutboundJob.kind == "label_void"))
        assert job.order_id == order.id and job.target == "brt"
    assert not brt.shipments[0].deleted
    # BRT answers again: the job deletes the shipment there.
    report = run_due(seeded, clock=lambda: utcnow() + timedelta(hours=1), only_ids=[job.id])
    assert report.done == [job.id] and brt.shipments[0].deleted
