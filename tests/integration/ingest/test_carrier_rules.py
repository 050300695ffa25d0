"""A channel's carrier rule table picks carrier and product at ingest, and says which rule.

Orders arrive through the real Shopify webhook route on each database; the table is set
through the HTTP API (admin) as an operator would, and the choice is read back from the
order view's history.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.channels import update_channel
from service.db import transaction
from service.models import ApiToken, Channel, OfficeAudit, Order, Product
from service.security import token_hash
from tests.integration.console.conftest import office, sign_in
from tests.integration.ingest.conftest import shopify_post
from tests.support.shop_payloads import shopify_order

__all__ = ["office"]  # the console fixture, for the order page

ADMIN = "admin-token-rules-0123456789"
OPERATOR = "op-token-rules-0123456789"

TABLE: dict[str, Any] = {
    "rules": [
        {
            "name": "RO cash",
            "countries": ["RO"],
            "cod": True,
            "carrier": "cargus",
            "service": "standard",
        },
        {"name": "to a point", "delivery": "pickup", "carrier": "packeta", "service": "z-point"},
        {"name": "heavy", "min_grams": 5000, "carrier": "dpd", "service": "classic"},
        {
            "name": "light DE",
            "countries": ["de"],
            "max_grams": 2000,
            "carrier": "gls",
            "service": "business",
        },
    ],
    "fallback": {"carrier": "house", "service": "standard"},
}


@pytest.fixture
def shop(client: TestClient, seeded: sessionmaker[Session]) -> dict[str, dict[str, str]]:
    """Tokens, weights (mug 300 g, plate 500 g), pickup points read from note attributes."""
    with transaction(seeded) as s:
        s.add(ApiToken(token_hash=token_hash(ADMIN), role="admin", name="it"))
        s.add(ApiToken(token_hash=token_hash(OPERATOR), role="operator", name="desk"))
        for product in s.scalars(select(Product)):
            product.weight_grams = {"MUG-350-BLU": 300, "PLATE-24": 500}[product.sku]
        update_channel(
            s, "shop", settings={"pickup_point": {"from": "note_attributes", "id": "point_id"}}
        )
    return {
        "admin": {"Authorization": f"Bearer {ADMIN}"},
        "operator": {"Authorization": f"Bearer {OPERATOR}"},
    }


def _order(
    oid: int,
    *,
    country: str = "DE",
    cod: bool = False,
    point: str = "",
    mugs: int = 2,
    extra_sku: str = "",
) -> dict[str, Any]:
    payload = shopify_order(oid)
    if country == "RO":
        payload["shipping_address"].update(
            country="Romania",
            country_code="RO",
            zip="010011",
            city="Bucuresti",
            phone="+40721234567",
        )
    elif country == "FR":
        payload["shipping_address"].update(
            country="France", country_code="FR", zip="75001", city="Paris"
        )
    if cod:
        payload["financial_status"] = "pending"
        payload["payment_gateway_names"] = ["Cash on Delivery (COD)"]
    if point:
        payload["note_attributes"] = [{"name": "point_id", "value": point}]
    payload["line_items"][0]["quantity"] = mugs
    if extra_sku:
        extra = dict(payload["line_items"][1])
        extra.update(id=777001, sku=extra_sku, title="Unknown thing")
        payload["line_items"].append(extra)
    return payload


def _chosen(
    client: TestClient, sessions: sessionmaker[Session], oid: int, auth: dict[str, str]
) -> tuple[str, str, list[dict[str, Any]]]:
    with sessions() as s:
        order = s.scalar(select(Order).where(Order.channel_order_id == str(oid)))
        assert order is not None
        carrier, service, order_id = order.carrier, order.service, order.id
    view = client.get(f"/v1/orders/{order_id}", headers=auth)
    assert view.status_code == 200, view.text
    events = [e for e in view.json()["events"] if e["type"] == "carrier_chosen"]
    return carrier, service, events


def test_the_table_picks_carrier_and_product_and_the_order_says_which_rule(
    client: TestClient, seeded: sessionmaker[Session], shop: dict[str, dict[str, str]]
) -> None:
    put = client.put("/v1/channels/shop/carrier-rules", json=TABLE, headers=shop["admin"])
    assert put.status_code == 200, put.text
    assert put.json()["rules"][3]["countries"] == ["DE"]  # stored as ISO codes

    cases = [
        # (order id, payload, carrier, service, what chose)
        (9501, _order(9501), "gls", "business", {"rule": 4, "name": "light DE", "grams": 1350}),
        (
            9502,
            _order(9502, country="RO", cod=True),
            "cargus",
            "standard",
            {"rule": 1, "name": "RO cash", "cod": True, "country": "RO"},
        ),
        (9503, _order(9503, country="RO"), "house", "standard", {"rule": "fallback"}),
        (9504, _order(9504, point="4711"), "packeta", "z-point", {"rule": 2, "delivery": "pickup"}),
        (9505, _order(9505, mugs=20), "dpd", "classic", {"rule": 3, "grams": 6750}),
        (
            9506,
            _order(9506, country="FR"),
            "house",
            "standard",
            {"rule": "fallback", "delivery": "home"},
        ),
        # A line whose weight is unknown: no weight band matches, so not "light DE".
        (
            9507,
            _order(9507, extra_sku="NO-SUCH-SKU"),
            "house",
            "standard",
            {"rule": "fallback", "grams": None},
        ),
    ]
    for oid, payload, carrier, service, by in cases:
        r = shopify_post(client, payload)
        assert r.status_code in (200, 201), (oid, r.text)
        got_carrier, got_service, events = _chosen(client, seeded, oid, shop["operator"])
        assert (got_carrier, got_service) == (carrier, service), oid
        assert len(events) == 1, (oid, events)
        payload_seen = events[0]["payload"]
        assert {k: payload_seen.get(k) for k in by} == by, (oid, payload_seen)
        assert payload_seen["carrier"] == carrier and payload_seen["service"] == service
    # The order without a known weight is held for its unknown product, not for its carrier.
    with seeded() as s:
        held = s.scalar(select(Order).where(Order.channel_order_id == "9507"))
        assert held is not None
        assert [r["code"] for r in held.hold_reasons] == ["unknown_sku"]


def test_without_a_fallback_the_method_mapping_chooses_and_says_so(
    client: TestClient, seeded: sessionmaker[Session], shop: dict[str, dict[str, str]]
) -> None:
    table = {"rules": [{"countries": ["RO"], "carrier": "cargus", "service": "standard"}]}
    assert (
        client.put("/v1/channels/shop/carrier-rules", json=table, headers=shop["admin"]).status_code
        == 200
    )
    assert shopify_post(client, _order(9601)).json()["order_status"] == "confirmed"
    carrier, service, events = _chosen(client, seeded, 9601, shop["operator"])
    assert (carrier, service) == ("house", "standard")  # the fixture's DHL Paket mapping
    assert events[0]["payload"]["rule"] == "method mapping"
    shopify_post(client, _order(9602, country="RO"))
    carrier, service, events = _chosen(client, seeded, 9602, shop["operator"])
    assert (carrier, service) == ("cargus", "standard")
    assert events[0]["payload"]["rule"] == 1 and "name" not in events[0]["payload"]


def test_the_carrier_checks_run_against_the_carrier_the_rule_chose(
    client: TestClient, seeded: sessionmaker[Session], shop: dict[str, dict[str, str]]
) -> None:
    # House delivers to no pickup point: a rule sending points to house must hold them.
    table = {"rules": [{"delivery": "pickup", "carrier": "house", "service": "standard"}]}
    assert (
        client.put("/v1/channels/shop/carrier-rules", json=table, headers=shop["admin"]).status_code
        == 200
    )
    r = shopify_post(client, _order(9701, point="4711"))
    assert r.json()["order_status"] == "on_hold", r.text
    assert [h["code"] for h in r.json()["hold_reasons"]] == ["pickup_point_unsupported"]


@pytest.mark.parametrize(
    ("table", "words"),
    [
        (
            {"rules": [TABLE["rules"][0], {**TABLE["rules"][1], "carrier": "dhl"}]},
            ["Rule 2, carrier", "'dhl'"],
        ),
        ({"rules": [{**TABLE["rules"][0], "weight": 3}]}, ["Rule 1, weight", "unknown key"]),
        ({"rules": [{**TABLE["rules"][0], "countries": ["XX"]}]}, ["Rule 1, countries", "'XX'"]),
        (
            {"rules": [{"min_grams": 900, "max_grams": 100, "carrier": "gls", "service": "b"}]},
            ["Rule 1, min_grams", "more than max_grams"],
        ),
        ({"rules": []}, ["rules", "at least one rule"]),
        ([{"delivery": "locker", "carrier": "gls", "service": "b"}], ["Rule 1, delivery"]),
        (
            {"rules": [TABLE["rules"][0]], "fallback": {"carrier": "nope", "service": "x"}},
            ["fallback, carrier"],
        ),
    ],
)
def test_a_bad_table_is_refused_with_the_rule_and_field_and_changes_nothing(
    client: TestClient,
    seeded: sessionmaker[Session],
    shop: dict[str, dict[str, str]],
    table: Any,
    words: list[str],
) -> None:
    good = {"rules": [TABLE["rules"][0]]}
    assert (
        client.put("/v1/channels/shop/carrier-rules", json=good, headers=shop["admin"]).status_code
        == 200
    )
    r = client.put("/v1/channels/shop/carrier-rules", json=table, headers=shop["admin"])
    assert r.status_code == 422, r.text
    for word in words:
        assert word in r.json()["message"]
    after = client.get("/v1/channels/shop/carrier-rules", headers=shop["operator"]).json()
    assert after == {"rules": [{**TABLE["rules"][0]}], "fallback": None}


def test_setting_the_table_needs_an_admin_and_is_audited(
    client: TestClient, seeded: sessionmaker[Session], shop: dict[str, dict[str, str]]
) -> None:
    empty = client.get("/v1/channels/shop/carrier-rules", headers=shop["operator"])
    assert empty.json() == {"rules": [], "fallback": None}
    refused = client.put("/v1/channels/shop/carrier-rules", json=TABLE, headers=shop["operator"])
    assert refused.status_code == 403
    missing = client.put("/v1/channels/nope/carrier-rules", json=TABLE, headers=shop["admin"])
    assert missing.status_code == 404
    assert (
        client.put("/v1/channels/shop/carrier-rules", json=TABLE, headers=shop["admin"]).status_code
        == 200
    )
    with seeded() as s:
        rows = s.scalars(select(OfficeAudit).where(OfficeAudit.action == "carrier_rules_set"))
        (row,) = rows.all()
        assert (row.actor, row.target) == ("admin:it", "channel:shop")
        assert row.details["after"]["fallback"] == TABLE["fallback"]
        assert row.at is not None
        channel = s.scalar(select(Channel).where(Channel.name == "shop"))
        assert channel is not None and len(channel.settings["carrier_rules"]["rules"]) == 4


def test_setting_a_table_places_orders_held_for_an_unmapped_carrier(
    client: TestClient, seeded: sessionmaker[Session], shop: dict[str, dict[str, str]]
) -> None:
    for oid, country in ((9801, "DE"), (9802, "FR")):
        payload = _order(oid, country=country)
        payload["shipping_lines"][0].update(code="UPS Express", title="UPS Express Saver")
        r = shopify_post(client, payload)
        assert [h["code"] for h in r.json()["hold_reasons"]] == ["carrier_unmapped"], r.text
    table = {"rules": [{"name": "DE", "countries": ["DE"], "carrier": "gls", "service": "eu"}]}
    put = client.put("/v1/channels/shop/carrier-rules", json=table, headers=shop["admin"])
    assert put.status_code == 200, put.text
    assert len(put.json()["released"]) == 1
    carrier, service, events = _chosen(client, seeded, 9801, shop["operator"])
    assert (carrier, service) == ("gls", "eu")
    assert events[0]["payload"]["rule"] == 1 and events[0]["actor"] == "admin:it"
    with seeded() as s:
        placed = s.scalar(select(Order).where(Order.channel_order_id == "9801"))
        still = s.scalar(select(Order).where(Order.channel_order_id == "9802"))
        assert placed is not None and still is not None
        assert placed.status == "confirmed" and placed.number in put.json()["released"]
        assert still.status == "on_hold" and still.carrier == "ups"  # no rule for FR


def test_the_console_order_timeline_shows_which_rule_chose(
    client: TestClient,
    seeded: sessionmaker[Session],
    shop: dict[str, dict[str, str]],
    office: None,
) -> None:
    client.put("/v1/channels/shop/carrier-rules", json=TABLE, headers=shop["admin"])
    shopify_post(client, _order(9901))
    shopify_post(client, _order(9902, country="FR"))
    sign_in(client, "viewer")
    with seeded() as s:
        ids = dict(s.execute(select(Order.channel_order_id, Order.id)).tuples().all())
    page = client.get(f"/console/orders/{ids['9901']}")
    assert page.status_code == 200, page.text
    assert "carrier chosen" in page.text
    assert "gls / business by rule 4 “light DE”" in page.text
    other = client.get(f"/console/orders/{ids['9902']}").text
    assert "house / standard by fallback" in other


def test_method_rules_and_a_channel_update_that_changes_the_choice(
    client: TestClient, seeded: sessionmaker[Session], shop: dict[str, dict[str, str]]
) -> None:
    table = {
        "rules": [
            {"methods": ["dhl paket"], "countries": ["FR"], "carrier": "dpd", "service": "fr"},
            {"methods": ["Other Method"], "carrier": "brt", "service": "x"},
        ],
        "fallback": {"carrier": "gls", "service": "eu"},
    }
    assert (
        client.put("/v1/channels/shop/carrier-rules", json=table, headers=shop["admin"]).status_code
        == 200
    )
    payload = _order(9951)
    assert shopify_post(client, payload).json()["order_status"] == "confirmed"
    carrier, service, events = _chosen(client, seeded, 9951, shop["operator"])
    assert (carrier, service) == ("gls", "eu") and events[0]["payload"]["rule"] == "fallback"
    # The customer's address moves to France: the method rule for FR now chooses.
    moved = _order(9951, country="FR")
    moved["updated_at"] = "2030-01-01T00:00:00+00:00"
    r = shopify_post(client, moved, topic="orders/updated")
    assert r.status_code == 200, r.text
    carrier, service, events = _chosen(client, seeded, 9951, shop["operator"])
    assert (carrier, service) == ("dpd", "fr")
    assert [e["payload"]["rule"] for e in events] == ["fallback", 1]
    # The same update again changes nothing and records nothing.
    shopify_post(client, moved, topic="orders/updated")
    assert len(_chosen(client, seeded, 9951, shop["operator"])[2]) == 2
