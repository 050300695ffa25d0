"""The language an order's papers print in: the shop's locale for the order, else the
destination country's, stored on the order and sent to protocol-3 stations with it. A locale
that is junk is logged once and never refuses the order. SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from service.ingest import normalise
from service.models import Order
from service.sync_server.snapshots import orders as order_snapshots
from service.sync_server.snapshots import without_v4
from sync.protocol import OrderSnapshot
from tests.integration.ingest.conftest import shopify_post, woo_post
from tests.support.shop_payloads import shopify_order, woo_order


def _czech(payload: dict[str, Any], address: str = "shipping_address") -> dict[str, Any]:
    payload[address].update(
        address1="Na Pankráci 969/97", zip="140 00", city="Praha", country="Czech Republic"
    )
    payload[address]["country_code"] = "CZ"
    return payload


def _language(sessions: sessionmaker[Session], channel_order_id: str) -> tuple[int, str | None]:
    with sessions() as s:
        oid, language = s.execute(
            select(Order.id, Order.language).where(Order.channel_order_id == channel_order_id)
        ).one()
        return oid, language


def test_the_shops_locale_then_the_country_picks_the_orders_language(
    client: TestClient,
    seeded: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(normalise, "_warned_locales", set())  # once per process: a fresh one
    cases = {
        # the fixture ships to Berlin and says de-DE
        "1001": (shopify_order(1001), "de"),
        # a Czech shopper sending a gift to Berlin: the shop's locale wins
        "1002": (shopify_order(1002, customer_locale="cs-CZ"), "cs"),
        # no locale: the destination country
        "1003": (_czech(shopify_order(1003, customer_locale=None)), "cs"),
        # a language we do not print (Dutch) and a Czech address: Czech
        "1004": (_czech(shopify_order(1004, customer_locale="nl")), "cs"),
        # junk: the country's, and the order is taken all the same
        "1005": (_czech(shopify_order(1005, customer_locale="<script>")), "cs"),
        "1006": (_czech(shopify_order(1006, customer_locale="<script>")), "cs"),
        "1007": (shopify_order(1007, customer_locale=["de"]), "de"),  # not even a string
    }
    with caplog.at_level(logging.WARNING, logger="service.ingest.normalise"):
        for order_id, (payload, _want) in cases.items():
            r = shopify_post(client, payload)
            assert r.status_code == 200, r.text
    for order_id, (_payload, want) in cases.items():
        assert _language(seeded, order_id)[1] == want, order_id
    junk = [r for r in caplog.records if "'<script>'" in r.getMessage()]
    assert len(junk) == 1, caplog.text  # two orders, one log line
    assert any("'nl'" in r.getMessage() for r in caplog.records)


def test_a_woocommerce_language_plugin_sets_it(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    plain = woo_order(801)  # the fixture ships to the Netherlands: no language of ours
    wpml = woo_order(802, meta_data=[{"id": 1, "key": "wpml_language", "value": "hu"}])
    polylang = woo_order(803, meta_data=[{"id": 2, "key": "pll_language", "value": "ro_RO"}])
    for payload in (plain, wpml, polylang):
        r = woo_post(client, payload)
        assert r.status_code == 200, r.text
    assert _language(seeded, "801")[1] == "en"
    assert _language(seeded, "802")[1] == "hu"
    assert _language(seeded, "803")[1] == "ro"


def test_the_snapshot_carries_it_and_an_older_order_gets_its_countrys(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    assert shopify_post(client, shopify_order(2001, customer_locale="cs-CZ")).status_code == 200
    assert (
        shopify_post(client, _czech(shopify_order(2002, customer_locale=None))).status_code == 200
    )
    (first, _l1), (second, _l2) = _language(seeded, "2001"), _language(seeded, "2002")
    with seeded() as s, s.begin():  # as an order from before orders.language
        s.execute(update(Order).where(Order.id == second).values(language=None))
    with seeded() as s:
        snaps = order_snapshots(s, [first, second])
    assert snaps[first]["language"] == "cs"
    assert snaps[second]["language"] == "cs"  # derived from CZ
    for snap in snaps.values():
        OrderSnapshot.model_validate(snap)
        assert "language" not in without_v4(snap, "order")  # nor to a station before 4


def test_a_later_locale_is_taken_even_once_the_order_is_packed(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    """Not a change the warehouse refuses (as it refuses a new address after packing): only
    which language the slip prints in."""
    assert shopify_post(client, shopify_order(3001)).status_code == 200
    oid, language = _language(seeded, "3001")
    assert language == "de"
    with seeded() as s, s.begin():
        s.execute(update(Order).where(Order.id == oid).values(status="packed"))
    later = shopify_order(3001, customer_locale="pl-PL", updated_at="2024-11-11T10:30:02+01:00")
    r = shopify_post(client, later, topic="orders/updated")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "updated", r.json()
    assert _language(seeded, "3001")[1] == "pl"
