"""Fixtures for catalogue tests: the real app on each database, shop channels, held orders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from service.api.app import create_app
from service.channels import add_channel, set_shipping
from service.db import transaction
from service.models import Order
from service.users import TokenRole, create_token
from tests.integration.ingest.conftest import SHOP_SECRET, WOO_SECRET, shopify_post
from tests.support.service_process import child_env
from tests.support.shop_payloads import shopify_order


@pytest.fixture
def client(service_engine: Engine) -> Iterator[TestClient]:
    """A TestClient over the real app on the fresh database."""
    with TestClient(create_app(service_engine)) as c:
        yield c


@pytest.fixture
def shops(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Channels `shop` (Shopify) and `woo` (WooCommerce), and no products at all."""
    with transaction(sessions) as s:
        add_channel(s, "shopify", "shop", secret=SHOP_SECRET)
        add_channel(s, "woocommerce", "woo", secret=WOO_SECRET)
        # The fixture shop's method, mapped as an operator does after `channel add`.
        set_shipping(s, "shop", "DHL Paket", carrier="house", actor="test")
    return sessions


@pytest.fixture
def operator_token(sessions: sessionmaker[Session]) -> str:
    """A bearer token of an operator."""
    with transaction(sessions) as s:
        _row, token = create_token(s, role=TokenRole.OPERATOR, name="catalogue-test")
    return token


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for `packbench-service` subprocesses (file keyring in tmp_path)."""
    return child_env(tmp_path / "keyring.json")


def held_shopify_order(client: TestClient, sessions: sessionmaker[Session], oid: int) -> Order:
    """Post the documented Shopify order (SKUs MUG-350-BLU, PLATE-24) to a catalogue that
    lacks them: it goes on hold for unknown_sku."""
    r = shopify_post(client, shopify_order(oid), webhook_id=f"order-{oid}")
    assert r.status_code == 200, r.text
    order = order_by_channel_id(sessions, str(oid))
    assert order.status == "on_hold"
    assert {r["code"] for r in order.hold_reasons} == {"unknown_sku"}
    return order


def order_by_channel_id(sessions: sessionmaker[Session], channel_order_id: str) -> Order:
    """The order with this channel order id, lines loaded."""
    with sessions() as s:
        order = s.scalar(select(Order).where(Order.channel_order_id == channel_order_id))
        assert order is not None
        _ = list(order.lines)
        return order
