"""The order lifecycle on both databases: every allowed move works, illegal ones change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from service.errors import IllegalTransition
from service.lifecycle import TRANSITIONS, OrderStatus, can_transition, hold, release, transition
from service.models import ChangeRow, Order, OrderEvent
from tests.support import factories

ALLOWED = sorted((a.value, b.value) for a, nexts in TRANSITIONS.items() for b in nexts)
ILLEGAL_SAMPLE = [
    ("pending", "packed"),
    ("pending", "shipped"),
    ("confirmed", "packed"),
    ("allocated", "shipped"),
    ("shipped", "packed"),
    ("shipped", "cancelled"),
    ("delivered", "pending"),
    ("cancelled", "confirmed"),
    ("returned", "shipped"),
    ("on_hold", "shipped"),
    ("completed", "delivered"),
    ("backorder", "packed"),
]


def test_every_status_has_a_row_and_the_sample_is_illegal() -> None:
    assert set(TRANSITIONS) == set(OrderStatus)
    for current, target in ILLEGAL_SAMPLE:
        assert not can_transition(current, target)
    assert not can_transition("confirmed", "no-such-status")


def test_every_allowed_transition_moves_the_order_and_writes_one_event(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as s, s.begin():
        ids = {pair: factories.order(s, status=pair[0]).id for pair in ALLOWED}
    with sessions() as s, s.begin():
        for (current, target), oid in ids.items():
            order = s.get_one(Order, oid)
            transition(s, order, OrderStatus(target), actor="user:1", reason="test")
    with sessions() as s:
        for (current, target), oid in ids.items():
            order = s.get_one(Order, oid)
            assert order.status == target, (current, target)
            events = s.scalars(select(OrderEvent).where(OrderEvent.order_id == oid)).all()
            assert [(e.from_status, e.to_status, e.actor) for e in events] == [
                (current, target, "user:1")
            ]
            assert events[0].payload == {"reason": "test"}
        changed = set(s.scalars(select(ChangeRow.entity_id).where(ChangeRow.entity == "order")))
        assert changed == set(ids.values())


@pytest.mark.parametrize(("current", "target"), ILLEGAL_SAMPLE)
def test_illegal_transition_raises_and_changes_nothing(
    sessions: sessionmaker[Session], current: str, target: str
) -> None:
    with sessions() as s, s.begin():
        oid = factories.order(s, status=current).id
    with sessions() as s, s.begin():
        order = s.get_one(Order, oid)
        version = order.version
        with pytest.raises(IllegalTransition) as err:
            transition(s, order, OrderStatus(target), actor="user:1")
        assert f"cannot become {target}" in err.value.message
        assert order.status == current and order.version == version
    with sessions() as s:
        assert s.get_one(Order, oid).status == current
        assert s.scalar(select(func.count()).select_from(OrderEvent)) == 0
        assert s.scalar(select(func.count()).select_from(ChangeRow)) == 0


def test_hold_and_release_return_to_the_previous_state(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        order = factories.order(s, status="allocated")
        hold(s, order, [{"code": "address", "message": "Check the address"}], actor="user:2")
        assert order.hold_reasons[0]["code"] == "address"
        release(s, order, actor="user:2", reason="address fixed")
        assert order.status == "allocated"
        assert order.hold_reasons == [] and order.held_from is None
