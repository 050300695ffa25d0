"""Supervisor figures for returns and stock, on a clock the test controls."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.ingest.rows import IngestResult
from service.models import Order
from service.returns import desk
from service.returns.figures import figures
from service.returns.states import Disposition
from service.stock.allocation import consume_order
from service.stock.operations import count
from sync import clock

START = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def test_waiting_returns_dispositions_per_day_and_low_stock(
    stocked: sessionmaker[Session], shipped: Callable[..., IngestResult]
) -> None:
    with clock.frozen(START) as frozen:
        first = shipped({"MUG": 3})
        second = shipped({"PLATE": 1})
        with stocked() as s, s.begin():
            code = desk.create(s, str(first.number), {"MUG": 2}, reason="r", actor="t").code
            desk.create(s, str(second.number), {"PLATE": 1}, reason="r", actor="t")
            desk.receive(s, code, "MUG", Disposition.RESTOCK, reason=None, actor="t")
        frozen.advance(timedelta(days=1))
        with stocked() as s, s.begin():
            desk.receive(s, code, "MUG", Disposition.WRITE_OFF, reason="damaged", actor="t")
        with stocked() as s:
            body = figures(s, clock.utcnow(), days=3, below=8)
    assert (body.expected, body.waiting_for_inspection) == (1, 1)
    assert [(d.day, d.restock, d.write_off) for d in body.dispositions] == [
        ("2026-03-09", 0, 0),
        ("2026-03-10", 1, 0),
        ("2026-03-11", 0, 1),
    ]
    # MUG: 10 - 3 shipped + 1 restocked = 8 (not below 8); PLATE: 3 - 1 = 2.
    assert [(x.sku, x.available) for x in body.low_stock] == [("PLATE", 2)]
    assert body.oversold == []


def test_a_pack_of_stock_the_ledger_never_had_is_shown_oversold(
    stocked: sessionmaker[Session], shipped: Callable[..., IngestResult]
) -> None:
    order = shipped({"BOWL": 1})  # taken in before BOWL was counted: not allocated
    with stocked() as s:
        # Counted at zero only now; the pack (in shipped()) came first, so re-run it.
        with s.begin():
            count(s, "BOWL", counted=0, reason="first count", actor="t")
            found = s.scalar(select(Order).where(Order.id == order.order_id))
            assert found is not None
            assert consume_order(s, found, actor="t", event_key="late-pack") == 1
        body = figures(s, clock.utcnow(), days=1, below=0)
    assert [(x.order_number, x.sku) for x in body.oversold] == [(order.number, "BOWL")]
    assert [(x.sku, x.available) for x in body.low_stock] == [("BOWL", -1)]


def test_count_differences_of_the_last_days_newest_first_with_who_counted(
    stocked: sessionmaker[Session],
) -> None:
    with clock.frozen(START) as frozen:
        with stocked() as s, s.begin():
            count(s, "PLATE", counted=1, reason="shelf count", actor="operator:ana")
        frozen.advance(timedelta(days=5))
        with stocked() as s, s.begin():
            count(s, "MUG", counted=7, reason="shelf count", actor="user:4@station:2")
            count(s, "PLATE", counted=1, reason="agrees", actor="user:4@station:2")  # no move
        frozen.advance(timedelta(hours=1))
        with stocked() as s, s.begin():
            count(s, "MUG", counted=9, reason="found two", actor="user:5@station:2")
        with stocked() as s:
            body = figures(s, clock.utcnow(), days=3)
    assert [(c.sku, c.location, c.difference, c.actor) for c in body.count_differences] == [
        ("MUG", "MAIN", 2, "user:5@station:2"),
        ("MUG", "MAIN", -3, "user:4@station:2"),
    ]  # the PLATE count five days ago is outside the three days
    assert body.count_differences[0].at == START + timedelta(days=5, hours=1)
    assert body.count_differences[0].counted_by == "user:5 at station:2"  # no such user here
