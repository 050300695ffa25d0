"""Lot and expiry travel with an accepted scan into the order's audit trail."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.models import OrderEvent
from tests.integration.sync_server.conftest import claim, mutation, push


def test_lot_and_expiry_are_kept_and_an_overlong_lot_is_refused(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order
) -> None:
    st = make_station("A")
    oid = make_order(status="confirmed")
    epoch = int(claim(client, st, order_id=oid).json()["leases"][0]["epoch"])
    traced = mutation(
        1,
        "scan_recorded",
        oid,
        epoch,
        code="x",
        outcome="accepted",
        lot="L-42",
        expiry="2028-02-29",
    )
    overlong = mutation(2, "scan_recorded", oid, epoch, code="x", outcome="accepted", lot="L" * 21)
    bad_date = mutation(
        3, "scan_recorded", oid, epoch, code="x", outcome="accepted", expiry="280230"
    )
    r = push(client, st, traced, overlong, bad_date)
    assert [(x["status"], x["reason"]) for x in r.json()["results"]] == [
        ("applied", None),
        ("rejected", "invalid_payload"),
        ("rejected", "invalid_payload"),
    ], r.text
    with sessions() as s:
        (payload,) = s.scalars(
            select(OrderEvent.payload).where(
                OrderEvent.order_id == oid, OrderEvent.type == "scan_recorded"
            )
        )
    assert (payload["lot"], payload["expiry"]) == ("L-42", "2028-02-29")
