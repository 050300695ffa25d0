"""Fixtures for the stock ledger: an operator channel, counted products, orders through ingest."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.channels import add_channel
from service.db import transaction
from service.ingest.model import NormalisedLine, NormalisedOrder, PaymentState, make_address
from service.ingest.rows import IngestResult
from service.ingest.store import run_in_transaction, upsert_order
from service.models import Channel, Product
from service.stock.operations import adjust

_refs = itertools.count(1)


@pytest.fixture
def stocked(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Channel `phone` (operator) and products MUG (10 on hand), PLATE (3), BOWL (untracked)."""
    with transaction(sessions) as s:
        add_channel(s, "operator", "phone")
        s.add_all(
            [
                Product(sku="MUG", name="Mug", weight_grams=300),
                Product(sku="PLATE", name="Plate", weight_grams=500),
                Product(sku="BOWL", name="Bowl", weight_grams=400),
            ]
        )
        s.flush()
        adjust(s, "MUG", quantity=10, reason="opening stock", actor="test")
        adjust(s, "PLATE", quantity=3, reason="opening stock", actor="test")
    return sessions


def normalised(lines: dict[str, int], ref: str | None = None, **fields: object) -> NormalisedOrder:
    """A valid, paid order to a Dutch address with these SKU quantities."""
    return NormalisedOrder(
        channel_order_id=ref or f"REF-{next(_refs)}",
        currency="EUR",
        payment_state=PaymentState.PAID,
        shipping_address=make_address(
            name="Ada Lovelace",
            street1="Damrak 1",
            postcode="1012 LG",
            city="Amsterdam",
            country="NL",
        ),
        carrier="house",
        service="standard",
        lines=tuple(
            NormalisedLine(sku=sku, name=sku.title(), quantity=q) for sku, q in lines.items()
        ),
        **fields,  # type: ignore[arg-type]
    )


@pytest.fixture
def ingest(stocked: sessionmaker[Session]) -> Callable[..., IngestResult]:
    """Take an order in through the real ingest path (create or update) in one transaction."""

    def run(incoming: NormalisedOrder) -> IngestResult:
        with stocked() as s:
            channel = s.scalar(select(Channel).where(Channel.name == "phone"))
            assert channel is not None
            s.rollback()
            return run_in_transaction(
                s, lambda tx: upsert_order(tx, channel, incoming, actor="test")
            )

    return run
