"""order_packed against the service's view of the boxes: a disagreement is an exception."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.models import Label, Order, OrderException
from tests.integration.sync_server.conftest import claim, mutation, push


def _house_order_claimed(
    client: TestClient, sessions: sessionmaker[Session], station: Any, make_order: Callable
) -> tuple[int, int, Label]:
    oid = make_order(status="confirmed")
    with sessions() as s, s.begin():
        s.get_one(Order, oid).carrier = "house"  # labels made by Packbench, ahead of packing
    r = claim(client, station, order_id=oid)
    assert r.status_code == 200, r.text
    with sessions() as s:
        label = s.scalars(select(Label).where(Label.order_id == oid)).one()
        s.expunge(label)
    return oid, int(r.json()["leases"][0]["epoch"]), label


def _pack_reporting(
    client: TestClient,
    sessions: sessionmaker[Session],
    station: Any,
    make_order: Callable,
    boxes: int,
) -> tuple[int, str]:
    """Claim a house-carrier order, close and label box 1, report `boxes` packed; the order's
    id and number once it is packed (the pack is a physical fact: always applied)."""
    oid, epoch, label = _house_order_claimed(client, sessions, station, make_order)
    closed = mutation(
        1,
        "parcel_closed",
        oid,
        epoch,
        box_no=1,
        box_type="S",
        weight_grams=label.weight_min_grams,
        items=[{"line_id": 1, "quantity": 1}],
    )
    printed = mutation(2, "label_printed", oid, epoch, box_no=1, label_id=label.id)
    packed = mutation(3, "order_packed", oid, epoch, boxes=boxes)
    r = push(client, station, closed, printed, packed)
    assert [x["status"] for x in r.json()["results"]] == ["applied"] * 3, r.text
    with sessions() as s:
        order = s.get_one(Order, oid)
        assert order.status == "packed"
        return oid, order.number


def _exceptions(sessions: sessionmaker[Session], oid: int) -> list[OrderException]:
    with sessions() as s:
        rows = list(s.scalars(select(OrderException).where(OrderException.order_id == oid)))
        s.expunge_all()
        return rows


def test_pack_with_every_box_labelled_raises_nothing(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order
) -> None:
    oid, _number = _pack_reporting(client, sessions, make_station("A"), make_order, boxes=1)
    assert _exceptions(sessions, oid) == []


def test_pack_reporting_a_box_the_service_never_saw_is_kept_and_flagged(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order
) -> None:
    st = make_station("A")
    oid, number = _pack_reporting(client, sessions, st, make_order, boxes=2)
    (exc,) = _exceptions(sessions, oid)
    assert (exc.kind, exc.code) == ("carrier", "packed_incomplete")
    assert exc.message == (
        f"Order {number} was reported packed, but box 2 was never closed. "
        "Check its boxes and labels before dispatch."
    )
    assert exc.details["problems"] == ["box 2 was never closed"]
    assert exc.details["station_id"] == st.id and exc.details["mutation_id"] == 3
