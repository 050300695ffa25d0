"""Ledger invariants with several threads taking orders in, packing (some twice) and adjusting
the same SKUs at once, through the real functions, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, lazyload, sessionmaker

from service.ingest.rows import IngestResult
from service.models import Order, Product, StockBalance, StockMovement
from service.stock.allocation import consume_order
from service.stock.ledger import StockShort, check
from service.stock.operations import adjust_and_allocate
from tests.integration.stock.conftest import normalised

THREADS = 4
ROUNDS = 12


def _pack(sessions: sessionmaker[Session], order_id: int) -> None:
    """What the push path does for order_packed: lock the order, consume its stock."""
    with sessions() as s, s.begin():
        order = s.scalar(
            select(Order)
            .options(lazyload(Order.channel))
            .where(Order.id == order_id)
            .with_for_update()
        )
        assert order is not None
        consume_order(s, order, actor="station:test", event_key="pack")


def test_ledger_invariants_hold_under_concurrent_packing_and_adjusting(
    stocked: sessionmaker[Session], ingest: Callable[..., IngestResult]
) -> None:
    packed: list[int] = []
    outcomes: dict[str, int] = defaultdict(int)
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            start.wait()
            for _ in range(ROUNDS):
                result = ingest(
                    normalised(
                        {"MUG": rng.randint(1, 3), "PLATE": 1}
                        if rng.random() < 0.5
                        else {"MUG": rng.randint(1, 2)}
                    )
                )
                with lock:
                    outcomes[result.status or ""] += 1
                if result.status == "confirmed" and result.order_id is not None:
                    _pack(stocked, result.order_id)
                    with lock:
                        packed.append(result.order_id)
                        again = rng.choice(packed)
                    _pack(stocked, again)  # a pack applied twice, maybe by another thread
                try:
                    with stocked() as s:
                        adjust_and_allocate(
                            s,
                            rng.choice(["MUG", "PLATE"]),
                            quantity=rng.choice([-2, -1, 1, 2, 3]),
                            reason="concurrency test",
                            actor="test",
                        )
                except StockShort:
                    with lock:
                        outcomes["refused"] += 1
        except BaseException as exc:  # reported below, with the thread's traceback
            errors.append(exc)
            raise

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert outcomes["confirmed"] > 0 and packed

    with stocked() as s:
        assert check(s) == []  # every balance is the sum of its movements
        # On hand and allocated recomputed here by hand, too, not only through check().
        for balance in s.scalars(select(StockBalance)):
            sums = s.execute(
                select(
                    func.sum(StockMovement.on_hand_delta), func.sum(StockMovement.allocated_delta)
                ).where(
                    StockMovement.product_id == balance.product_id,
                    StockMovement.location == balance.location,
                )
            ).one()
            assert (balance.on_hand, balance.allocated) == (sums[0], sums[1])
        # Replayed in ledger order (movements of one product are written under its row lock,
        # so id order is commit order), available never went below zero.
        running: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for m in s.scalars(select(StockMovement).order_by(StockMovement.id)):
            figures = running[m.product_id]
            figures[0] += m.on_hand_delta
            figures[1] += m.allocated_delta
            assert figures[0] - figures[1] >= 0, f"available below zero at movement {m.id}"
            assert figures[1] >= 0
        # Each packed order shipped each product once, exactly its ordered quantity.
        shipped = s.execute(
            select(
                StockMovement.order_id,
                StockMovement.product_id,
                func.count(),
                func.sum(StockMovement.on_hand_delta),
            )
            .where(StockMovement.kind == "shipped")
            .group_by(StockMovement.order_id, StockMovement.product_id)
        ).all()
        assert {row[0] for row in shipped} == set(packed)
        skus = dict(s.execute(select(Product.id, Product.sku)).tuples().all())
        for order_id, product_id, count, delta in shipped:
            order = s.get(Order, order_id)
            assert order is not None
            ordered = sum(li.quantity for li in order.lines if li.sku == skus[product_id])
            assert (count, -delta) == (1, ordered)
