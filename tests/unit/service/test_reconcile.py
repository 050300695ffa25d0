"""Reconciliation finds stuck orders once, respects resolutions, and closes what moved on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.db import utcnow
from service.errors import ValidationFailed
from service.lifecycle import OrderStatus, transition
from service.models import Order, OrderException, Parcel
from service.reconcile import Thresholds, reconcile
from tests.support import factories


def _open(s: Session) -> list[tuple[int, str]]:
    rows = s.scalars(select(OrderException).where(OrderException.resolved_at.is_(None))).all()
    return sorted((e.order_id, e.code) for e in rows)


def test_each_stuck_case_gets_one_exception_and_a_rerun_adds_none(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as s, s.begin():
        paid = factories.order(s, status="confirmed", age_hours=30).id
        factories.order(s, status="confirmed", age_hours=30, payment_state="pending")
        factories.order(s, status="confirmed", age_hours=2)
        packed = factories.order(s, status="packed", age_hours=60, status_age_hours=26).id
        factories.order(s, status="packed", age_hours=60, status_age_hours=3)
        shipped = factories.order(s, status="shipped", age_hours=99, status_age_hours=50).id
        tracked = factories.order(s, status="shipped", age_hours=99, status_age_hours=50)
        s.add(Parcel(order_id=tracked.id, box_no=1, tracking_number="HX123"))
    with sessions() as s, s.begin():
        report = reconcile(s)
        assert len(report.opened) == 3
    with sessions() as s:
        assert _open(s) == sorted(
            [
                (paid, "paid_not_packed"),
                (packed, "packed_not_shipped"),
                (shipped, "shipped_no_tracking"),
            ]
        )
        message = s.scalars(
            select(OrderException.message).where(OrderException.order_id == paid)
        ).one()
        assert "not packed" in message and "30 hours" in message
    with sessions() as s, s.begin():
        again = reconcile(s)
        assert (again.opened, again.still_open) == ([], 3)
    with sessions() as s:
        assert len(_open(s)) == 3


def test_thresholds_come_from_the_caller(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        factories.order(s, status="confirmed", age_hours=5)
    with sessions() as s, s.begin():
        assert reconcile(s, Thresholds(paid_hours=6)).opened == []
        assert len(reconcile(s, Thresholds(paid_hours=4)).opened) == 1
    with pytest.raises(ValidationFailed):
        Thresholds(packed_hours=0).check()


def test_resolved_exception_is_not_reopened_within_the_grace_period(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as s, s.begin():
        factories.order(s, status="confirmed", age_hours=30)
    with sessions() as s, s.begin():
        (exc_id,) = reconcile(s).opened
        exc = s.get_one(OrderException, exc_id)
        exc.resolved_at, exc.resolved_by = utcnow(), "user:1"
    with sessions() as s, s.begin():
        assert reconcile(s).opened == []
    # A day after the resolution the order is still not packed: raise it again.
    with sessions() as s, s.begin():
        assert len(reconcile(s, now=utcnow() + timedelta(hours=25)).opened) == 1


def test_open_exception_is_closed_when_the_order_moves_on(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as s, s.begin():
        oid = factories.order(s, status="packed", age_hours=60, status_age_hours=30).id
    with sessions() as s, s.begin():
        (exc_id,) = reconcile(s).opened
    with sessions() as s, s.begin():
        transition(s, s.get_one(Order, oid), OrderStatus.SHIPPED, actor="station:1")
        s.add(Parcel(order_id=oid, box_no=1, tracking_number="HX9"))
    with sessions() as s, s.begin():
        report = reconcile(s)
        assert report.auto_resolved == [exc_id] and report.opened == []
        assert s.get_one(OrderException, exc_id).resolved_by == "reconcile"
