"""Batching rules: grouping, urgency, limits, codes, and assigning a batch to a station."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.batching import BatchRule, ItemMix, assign_batch, create_batches
from service.db import utcnow
from service.errors import Conflict, NotFound, ValidationFailed
from service.models import Batch, ChangeRow, Order, OrderEvent
from tests.support import factories

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def _batch_orders(s: Session, batch: Batch) -> list[Order]:
    return list(s.scalars(select(Order).where(Order.batch_id == batch.id).order_by(Order.id)))


def test_orders_are_grouped_by_service_and_item_mix_and_allocated(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as s, s.begin():
        single_std = [factories.order(s).id for _ in range(3)]
        multi_std = factories.order(s, lines=[("MUG-BLU-350", 2)]).id
        express = factories.order(s, service="express", priority=2).id
        pending = factories.order(s, status="pending").id
    with sessions() as s, s.begin():
        batches = create_batches(s, BatchRule(), actor="operator:ops", now=NOW)
        summary = [
            (b.code, b.service, b.rule["single_item"], len(_batch_orders(s, b))) for b in batches
        ]
    # The express (priority 2) batch comes first and takes the first code of the day.
    assert summary == [
        ("B-20261129-001", "express", True, 1),
        ("B-20261129-002", "standard", True, 3),
        ("B-20261129-003", "standard", False, 1),
    ]
    with sessions() as s:
        for oid in [*single_std, multi_std, express]:
            order = s.get_one(Order, oid)
            assert order.status == "allocated" and order.batch_id is not None
            event = s.scalars(select(OrderEvent).where(OrderEvent.order_id == oid)).one()
            assert (event.from_status, event.to_status) == ("confirmed", "allocated")
        assert s.get_one(Order, pending).batch_id is None


def test_max_orders_splits_and_codes_continue_the_day(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        for _ in range(5):
            factories.order(s)
    with sessions() as s, s.begin():
        first = create_batches(s, BatchRule(max_orders=2, limit=3), actor="op", now=NOW)
        assert [len(_batch_orders(s, b)) for b in first] == [2, 1]
    with sessions() as s, s.begin():
        second = create_batches(s, BatchRule(max_orders=10), actor="op", now=NOW)
        assert [(b.code, len(_batch_orders(s, b))) for b in second] == [("B-20261129-003", 2)]
    with sessions() as s, s.begin():
        assert create_batches(s, BatchRule(), actor="op", now=NOW) == []


def test_filters_single_multi_carrier_cutoff_priority(sessions: sessionmaker[Session]) -> None:
    soon = utcnow() + timedelta(hours=2)
    with sessions() as s, s.begin():
        due_soon = factories.order(s, cutoff_at=soon).id
        factories.order(s, cutoff_at=soon + timedelta(days=1))
        factories.order(s, lines=[("A", 1), ("B", 1)], priority=1)
        factories.order(s, carrier="dhl")
    with sessions() as s, s.begin():
        rule = BatchRule(carrier="house", cutoff_before=soon + timedelta(minutes=1))
        (batch,) = create_batches(s, rule, actor="op", now=NOW)
        assert [o.id for o in _batch_orders(s, batch)] == [due_soon]
        assert batch.cutoff_at == soon
    with sessions() as s, s.begin():
        (multi,) = create_batches(s, BatchRule(items=ItemMix.MULTI), actor="op", now=NOW)
        assert multi.rule["single_item"] is False and multi.priority == 1
    with sessions() as s, s.begin():
        assert create_batches(s, BatchRule(min_priority=1), actor="op", now=NOW) == []


def test_a_rule_that_cannot_work_is_refused(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, pytest.raises(ValidationFailed) as err:
        create_batches(s, BatchRule(max_orders=0), actor="op")
    assert err.value.field == "max_orders"


def test_assigning_a_batch_publishes_it_and_its_orders_to_stations(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as s, s.begin():
        oids = [factories.order(s).id for _ in range(2)]
        station_id = factories.station(s).id
        (batch,) = create_batches(s, BatchRule(), actor="op", now=NOW)
        batch_id = batch.id
    with sessions() as s:
        before = s.scalar(select(ChangeRow.id).order_by(ChangeRow.id.desc()).limit(1))
    with sessions() as s, s.begin():
        assign_batch(s, batch_id, station_id, actor="op")
    with sessions() as s:
        batch = s.get_one(Batch, batch_id)
        assert (batch.status, batch.station_id) == ("assigned", station_id)
        changes = s.execute(
            select(ChangeRow.entity, ChangeRow.entity_id).where(ChangeRow.id > (before or 0))
        ).all()
        assert sorted(changes) == sorted([("batch", batch_id)] + [("order", o) for o in oids])
    with sessions() as s, s.begin():
        with pytest.raises(NotFound):
            assign_batch(s, batch_id, 9999, actor="op")
        s.get_one(Batch, batch_id).status = "done"
    with sessions() as s, pytest.raises(Conflict):
        assign_batch(s, batch_id, station_id, actor="op")


def test_reassigning_a_batch_tells_the_old_station_it_left(
    sessions: sessionmaker[Session],
) -> None:
    from service.changes import number_changes
    from service.sync_server.pull import pull

    with sessions() as s, s.begin():
        oids = [factories.order(s).id for _ in range(2)]
        first = factories.station(s, "bench-a").id
        second = factories.station(s, "bench-b").id
        (batch,) = create_batches(s, BatchRule(), actor="op", now=NOW)
        batch_id = batch.id
        assign_batch(s, batch_id, first, actor="op")
    with sessions() as s:
        number_changes(s)  # as the pull endpoint does before it reads
        with s.begin():
            cursor = pull(s, first, 0).cursor
    with sessions() as s, s.begin():
        assign_batch(s, batch_id, second, actor="op")
    with sessions() as s:
        number_changes(s)
        with s.begin():
            page = pull(s, first, cursor)
    gone = {(c.entity, c.entity_id) for c in page.changes if c.data is None}
    assert ("batch", batch_id) in gone
    assert {("order", o) for o in oids} <= gone
    with sessions() as s, s.begin():
        seen = {(c.entity, c.entity_id) for c in pull(s, second, 0).changes if c.data}
    assert ("batch", batch_id) in seen and {("order", o) for o in oids} <= seen
