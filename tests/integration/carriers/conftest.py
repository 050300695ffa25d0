"""Fixtures for carrier and shipping tests: orders with weighed products, a shop channel."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.models import Order, Product
from tests.support import factories

_numbers = itertools.count(500001)
_SHIP_TO = {
    "ship_name": "Ada Lovelace",
    "ship_street1": "Main 1",
    "ship_postcode": "10115",
    "ship_city": "Berlin",
    "ship_country": "DE",
}


@pytest.fixture
def make_order(sessions: sessionmaker[Session]) -> Callable[..., int]:
    """An order of two products (300 g x2, 450 g x1) for `carrier`; returns its id."""

    def make(
        carrier: str = "house",
        status: str = "allocated",
        channel: str = "shop",
        kind: str = "operator",
        settings: dict[str, Any] | None = None,
        **fields: Any,
    ) -> int:
        with sessions() as s, s.begin():
            ch = factories.channel(s, channel, kind, settings)
            products = {}
            for sku, grams in (("MUG", 300), ("BOOK", 450)):
                p = s.scalar(select(Product).where(Product.sku == sku))
                if p is None:
                    p = Product(sku=sku, name=sku.title(), weight_grams=grams)
                    s.add(p)
                    s.flush()
                products[sku] = p
            lines: list[dict[str, Any]] = [
                {"sku": "MUG", "product_id": products["MUG"].id, "quantity": 2},
                {"sku": "BOOK", "product_id": None, "quantity": 1},
            ]
            return factories.order_row(
                s,
                next(_numbers),
                ch,
                lines,
                status=status,
                carrier=carrier,
                **(_SHIP_TO | fields),  # a test's fields win, e.g. an empty street
            ).id

    return make


def pack(sessions: sessionmaker[Session], order_id: int, weights: list[int]) -> list[str]:
    """Pack an order the way the station would: boxes closed, labels fitting, packed.

    Returns the tracking numbers of its boxes (as labelled once the last box closed: a second
    box makes the first box's house label again, "1 of 2").
    """
    from service.lifecycle import OrderStatus, transition
    from service.models import Parcel
    from service.shipping.labels import check_weight

    with sessions() as s, s.begin():
        order = s.get_one(Order, order_id)
        for box, grams in enumerate(weights, start=1):
            label = check_weight(s, order, box, grams)
            assert label is not None
            parcel = s.scalar(
                select(Parcel).where(Parcel.order_id == order_id, Parcel.box_no == box)
            )
            assert parcel is not None
            parcel.status, parcel.weight_grams = "closed", grams
            parcel.tracking_number = label.tracking_number
        s.flush()
        numbers = [
            str(p.tracking_number)
            for p in s.scalars(
                select(Parcel).where(Parcel.order_id == order_id).order_by(Parcel.box_no)
            )
        ]
        for step in (OrderStatus.PICKING, OrderStatus.PACKED):
            transition(s, order, step, actor="test")
    return numbers
