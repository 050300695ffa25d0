"""Orders and stock through the real paths: ingest allocates (short: backorder), a cancel
releases, a pack pushed by a station consumes once, adjustments serve backorders."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from service.api.app import create_app
from service.ingest.rows import IngestResult
from service.models import Order, OrderEvent, Product, StockBalance, StockMovement
from service.stock.allocation import consume_order
from service.stock.ledger import Level, StockShort, check, level
from service.stock.operations import adjust, adjust_and_allocate
from tests.integration.stock.conftest import normalised
from tests.integration.sync_server.conftest import claim, enroll_station, mutation, push


def _level(sessions: sessionmaker[Session], sku: str) -> Level:
    with sessions() as s:
        product_id = s.scalar(select(Product.id).where(Product.sku == sku))
        assert product_id is not None
        return level(s, product_id)


def _movements(sessions: sessionmaker[Session], **where: object) -> int:
    with sessions() as s:
        query = select(func.count()).select_from(StockMovement)
        for column, value in where.items():
            query = query.where(getattr(StockMovement, column) == value)
        return s.scalar(query) or 0


def test_ingest_allocates_and_short_stock_means_backorder(
    stocked: sessionmaker[Session], ingest: Callable[..., IngestResult]
) -> None:
    mugs = ingest(normalised({"MUG": 4}))
    assert mugs.status == "confirmed"
    assert _level(stocked, "MUG") == Level(_level(stocked, "MUG").product_id, "MAIN", 10, 4)

    short = ingest(normalised({"MUG": 2, "PLATE": 5}))
    assert short.status == "backorder"
    # All or nothing: the mugs stay free for orders that can ship.
    assert _level(stocked, "MUG").allocated == 4
    assert _level(stocked, "PLATE").allocated == 0
    with stocked() as s:
        event = s.scalar(
            select(OrderEvent).where(
                OrderEvent.order_id == short.order_id, OrderEvent.to_status == "backorder"
            )
        )
        assert event is not None
        assert event.payload["short"] == [{"sku": "PLATE", "needed": 5, "available": 3}]

    untracked = ingest(normalised({"BOWL": 1}))
    assert untracked.status == "confirmed"
    assert _movements(stocked, order_id=untracked.order_id) == 0


def test_ingest_reads_which_products_are_tracked_in_its_one_lookup(
    stocked: sessionmaker[Session], ingest: Callable[..., IngestResult]
) -> None:
    engine = stocked.kw["bind"]
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        untracked = ingest(normalised({"BOWL": 1}))
        read_balances = [s for s in seen if "stock_balances" in s]
        seen.clear()
        mixed = ingest(normalised({"BOWL": 2, "MUG": 1}))
    finally:
        event.remove(engine, "before_cursor_execute", note)
    # An order of untracked products reads the balances only in the lookup (a round trip
    # fewer for every order of a shop that does not count its stock here).
    assert untracked.status == "confirmed"
    assert len(read_balances) == 1 and "UNION ALL" in read_balances[0], read_balances
    assert _movements(stocked, order_id=untracked.order_id) == 0
    # An order with one tracked product among untracked ones is allocated for that one.
    assert mixed.status == "confirmed"
    assert _level(stocked, "MUG").allocated == 1
    assert _movements(stocked, order_id=mixed.order_id) == 1


def test_cancel_releases_and_a_second_cancel_moves_nothing(
    stocked: sessionmaker[Session], ingest: Callable[..., IngestResult]
) -> None:
    ingest(normalised({"MUG": 4}, ref="C-1"))
    assert _level(stocked, "MUG").allocated == 4
    cancelled = ingest(normalised({"MUG": 4}, ref="C-1", cancelled=True))
    assert cancelled.status == "cancelled"
    assert _level(stocked, "MUG").allocated == 0
    before = _movements(stocked)
    ingest(normalised({"MUG": 4}, ref="C-1", cancelled=True))
    assert _movements(stocked) == before


def test_changed_lines_give_back_what_is_no_longer_ordered(
    stocked: sessionmaker[Session], ingest: Callable[..., IngestResult]
) -> None:
    ingest(normalised({"MUG": 4}, ref="L-1"))
    ingest(normalised({"MUG": 1, "PLATE": 2}, ref="L-1"))
    assert _level(stocked, "MUG").allocated == 1
    assert _level(stocked, "PLATE").allocated == 2
    assert check_clean(stocked)


def test_new_stock_serves_backorders_oldest_first(
    stocked: sessionmaker[Session], ingest: Callable[..., IngestResult]
) -> None:
    first = ingest(normalised({"PLATE": 4}))
    second = ingest(normalised({"PLATE": 4}))
    assert (first.status, second.status) == ("backorder", "backorder")
    with stocked() as s:
        after, allocated = adjust_and_allocate(
            s, "plate", quantity=2, reason="delivery from supplier", actor="test"
        )
    assert allocated == [first.number]
    assert (after.on_hand, after.allocated) == (5, 0)  # the level as the adjustment left it
    assert _level(stocked, "PLATE").allocated == 4
    with stocked() as s:
        statuses = {o.number: o.status for o in s.scalars(select(Order))}
    assert statuses[first.number] == "confirmed"
    assert statuses[second.number] == "backorder"


def test_an_adjustment_below_available_is_refused_and_records_nothing(
    stocked: sessionmaker[Session], ingest: Callable[..., IngestResult]
) -> None:
    ingest(normalised({"MUG": 8}))
    before = _movements(stocked)
    with stocked() as s, pytest.raises(StockShort, match="Only 2 of MUG available"):
        adjust(s, "MUG", quantity=-3, reason="broken on the shelf", actor="test")
    assert _movements(stocked) == before
    assert _level(stocked, "MUG").on_hand == 10


def test_a_pack_applied_twice_moves_stock_once(
    service_engine: Engine, stocked: sessionmaker[Session], ingest: Callable[..., IngestResult]
) -> None:
    created = ingest(normalised({"MUG": 3, "PLATE": 1}))
    assert created.order_id is not None
    with TestClient(create_app(service_engine)) as client:
        station = enroll_station(client, stocked, "bench-stock")
        r = claim(client, station, order_id=created.order_id)
        assert r.status_code == 200, r.text
        epoch = r.json()["leases"][0]["epoch"]
        packed = mutation(1, "order_packed", created.order_id, epoch, boxes=1)
        for _ in range(2):  # the retry of a push whose answer was lost
            r = push(client, station, packed)
            assert r.status_code == 200, r.text
            assert r.json()["results"][0]["status"] == "applied"
        # The same pack reported again under a new id (a station that lost its outbox ack).
        r = push(client, station, mutation(2, "order_packed", created.order_id, epoch, boxes=1))
        assert r.status_code == 200, r.text
    assert _movements(stocked, order_id=created.order_id, kind="shipped") == 2  # MUG, PLATE
    assert (_level(stocked, "MUG").on_hand, _level(stocked, "MUG").allocated) == (7, 0)
    assert (_level(stocked, "PLATE").on_hand, _level(stocked, "PLATE").allocated) == (2, 0)
    # And the function itself, called again with the same event: nothing moves.
    with stocked() as s, s.begin():
        order = s.get(Order, created.order_id)
        assert order is not None
        assert consume_order(s, order, actor="test", event_key="pack") == 0
    assert check_clean(stocked)


def test_check_finds_a_balance_that_disagrees_with_the_ledger(
    stocked: sessionmaker[Session],
) -> None:
    assert check_clean(stocked)
    with stocked() as s, s.begin():
        s.execute(update(StockBalance).values(on_hand=StockBalance.on_hand + 1))
    with stocked() as s:
        found = check(s)
    assert {(m.sku, m.balance.on_hand, m.ledger.on_hand) for m in found} == {
        ("MUG", 11, 10),
        ("PLATE", 4, 3),
    }


def check_clean(sessions: sessionmaker[Session]) -> bool:
    """Whether every balance equals the sum of its movements."""
    with sessions() as s:
        return check(s) == []


def test_changes_of_available_stock_are_handed_to_the_publishing_seam(
    stocked: sessionmaker[Session],
    ingest: Callable[..., IngestResult],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from service.stock import publish

    handed: list[list[int]] = []
    monkeypatch.setattr(publish, "_enqueue", lambda _s, ids: handed.append(ids))
    ingest(normalised({"MUG": 1}))  # allocation lowers available
    with stocked() as s:
        ids = dict(s.execute(select(Product.sku, Product.id)).tuples().all())
        s.rollback()
        adjust(s, "PLATE", quantity=1, reason="found one", actor="test")
        s.rollback()  # rolled back: nothing to publish
        adjust(s, "PLATE", quantity=1, reason="found one", actor="test")
        adjust(s, "MUG", quantity=2, reason="delivery", actor="test")
        s.commit()
    assert handed == [[ids["MUG"]], sorted([ids["MUG"], ids["PLATE"]])]


def test_the_backorder_sweep_serves_what_a_bare_movement_left_behind(
    stocked: sessionmaker[Session], ingest: Callable[..., IngestResult]
) -> None:
    from service.stock.allocation import sweep_backorders

    waiting = ingest(normalised({"PLATE": 4}))
    assert waiting.status == "backorder"
    with stocked() as s, s.begin():
        adjust(s, "PLATE", quantity=1, reason="found one", actor="test")  # no retry by itself
    with stocked() as s, s.begin():
        assert sweep_backorders(s, actor="test") == [waiting.number]
    with stocked() as s, s.begin():
        assert sweep_backorders(s, actor="test") == []
    assert _level(stocked, "PLATE").allocated == 4


def test_an_order_released_when_its_product_arrives_is_allocated_or_backordered(
    stocked: sessionmaker[Session], ingest: Callable[..., IngestResult]
) -> None:
    from service.catalogue.revalidate import revalidate_held_orders

    held = ingest(normalised({"MUG": 2, "CUP": 1}))
    short = ingest(normalised({"CUP": 9}))
    assert (held.status, short.status) == ("on_hold", "on_hold")  # unknown_sku CUP
    assert _level(stocked, "MUG").allocated == 0
    with stocked() as s, s.begin():
        s.add(Product(sku="CUP", name="Cup"))
        s.flush()
        adjust(s, "CUP", quantity=5, reason="first delivery", actor="test")
        released = revalidate_held_orders(s, ["CUP"], actor="test")
    assert sorted(released) == sorted([held.number, short.number])
    with stocked() as s:
        statuses = {o.number: o.status for o in s.scalars(select(Order))}
    assert statuses[held.number] == "confirmed"
    assert statuses[short.number] == "backorder"
    assert (_level(stocked, "MUG").allocated, _level(stocked, "CUP").allocated) == (2, 1)


def test_a_site_that_allows_it_sells_below_zero(
    stocked: sessionmaker[Session],
    ingest: Callable[..., IngestResult],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PACKBENCH_STOCK_ALLOW_NEGATIVE", "1")
    oversold = ingest(normalised({"PLATE": 5}))
    assert oversold.status == "confirmed"
    plate = _level(stocked, "PLATE")
    assert (plate.on_hand, plate.allocated, plate.available) == (3, 5, -2)
    with stocked() as s, s.begin():
        after = adjust(s, "MUG", quantity=-12, reason="recount pending", actor="test")
    assert after.available == -2
    with stocked() as s:
        assert check(s) == []
