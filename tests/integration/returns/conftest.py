"""Fixtures for returns: the stock fixtures, a shipped order, an operator API client."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, lazyload, sessionmaker

from service.api.app import create_app
from service.ingest.rows import IngestResult
from service.lifecycle import OrderStatus, transition
from service.models import Order, Parcel
from service.stock.allocation import consume_order
from service.users import create_token
from tests.integration.stock.conftest import ingest, normalised, stocked

__all__ = ["ingest", "stocked"]


def ship(sessions: sessionmaker[Session], order_id: int, tracking: str | None = None) -> None:
    """Pack (consuming stock, as the push path does) and ship an order, with one parcel."""
    with sessions() as s, s.begin():
        order = s.scalar(select(Order).options(lazyload(Order.channel)).where(Order.id == order_id))
        assert order is not None
        for step in (OrderStatus.ALLOCATED, OrderStatus.PICKING, OrderStatus.PACKED):
            transition(s, order, step, actor="test")
        consume_order(s, order, actor="test")
        transition(s, order, OrderStatus.SHIPPED, actor="test")
        s.add(Parcel(order_id=order.id, box_no=1, status="closed", tracking_number=tracking))


@pytest.fixture
def shipped(
    stocked: sessionmaker[Session], ingest: Callable[..., IngestResult]
) -> Callable[..., IngestResult]:
    """Take an order in (allocated) and ship it; returns its ingest result."""

    def make(lines: dict[str, int], tracking: str | None = None) -> IngestResult:
        result = ingest(normalised(lines))
        assert result.status == "confirmed" and result.order_id is not None
        ship(stocked, result.order_id, tracking)
        return result

    return make


@pytest.fixture
def operator_client(service_engine: Engine, stocked: sessionmaker[Session]) -> Iterator[TestClient]:
    """A TestClient whose requests carry an operator token."""
    with stocked() as s, s.begin():
        _row, token = create_token(s, role="operator", name="desk")
    with TestClient(create_app(service_engine)) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client
