"""End to end at the returns bench: the real `packbench` process against a real
`packbench-service` process, driven by a serial scanner on a pty, printing to a Zebra on a
loopback socket. A return is received (one unit restocked, one B-grade) and its labels come
out of the printer and read back; then a bin is counted. The service's ledger must agree."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from app.printing.model import MEDIA_4X6
from service.db import make_engine, make_sessionmaker
from service.lifecycle import OrderStatus, transition
from service.models import Order, Parcel, Product, Return, StockMovement, User
from service.stock.allocation import consume_order
from service.stock.ledger import B_GRADE, MAIN, check, level
from tests.e2e.test_station_e2e import Bench, _bench
from tests.support.zpl_renderer import ZplRenderer, install
from tests.unit.printing.helpers import decoded

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("e2e")]


def _ship(session: Session, order_id: int) -> list[str]:
    """Pack (consuming stock) and ship a demo order; its SKUs, one per unit."""
    order = session.scalar(
        select(Order).options(lazyload(Order.channel)).where(Order.id == order_id)
    )
    assert order is not None
    for step in (OrderStatus.PICKING, OrderStatus.PACKED):
        transition(session, order, step, actor="e2e")
    consume_order(session, order, actor="e2e")
    transition(session, order, OrderStatus.SHIPPED, actor="e2e")
    session.add(Parcel(order_id=order.id, box_no=1, status="closed", tracking_number=None))
    return [line.sku for line in order.lines for _ in range(line.quantity)]


def _wait(condition: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError("the service never got there")


def test_a_return_with_labels_and_a_bin_count_at_a_real_station(tmp_path: Path) -> None:
    with _bench(tmp_path) as bench:
        _return_and_count(bench, tmp_path)


def _return_and_count(bench: Bench, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'service.sqlite3'}")
    sessions = make_sessionmaker(engine)
    order = next(o for o in bench.orders if len(o.items) >= 2)
    with sessions() as s, s.begin():
        skus = [li.sku for li in s.get(Order, order.id).lines]  # type: ignore[union-attr]
    for sku in set(skus):  # the products' stock is tracked from here on
        answer = bench.api.post(
            "/v1/stock/adjustments", json={"sku": sku, "count": 10, "reason": "e2e opening"}
        )
        assert answer.status_code == 200, answer.text
    with sessions() as s, s.begin():
        units = _ship(s, order.id)
    answer = bench.api.post(
        "/v1/returns",
        json={"order": order.number, "lines": [{"sku": units[0], "quantity": 1},
                                               {"sku": units[1], "quantity": 1}],
              "reason": "e2e"},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    code = answer.json()["code"]
    with sessions() as s:
        ids = {sku: s.scalar(select(Product.id).where(Product.sku == sku)) for sku in units}
        before = {sku: level(s, pid).on_hand for sku, pid in ids.items()}  # type: ignore[arg-type]

    bench.scan("BADGE-P001", "screen batches green")
    bench.scan("PB:RETURNS", "Returns mode")
    bench.scan(code, f"green: Return of order {order.number} ({code})")
    bench.scan(order.items[0].code, "PB:RESTOCK, PB:BGRADE or PB:WRITEOFF")
    bench.scan("PB:RESTOCK", "restocked. Scan the next unit")
    bench.scan(order.items[1].code, "PB:RESTOCK, PB:BGRADE or PB:WRITEOFF")
    bench.scan("PB:BGRADE:DAMAGED", "B-grade (damaged)")
    bench.scan("PB:CLOSE", f"Return of order {order.number} closed: 1 B-grade, 1 restocked")

    deadline = time.monotonic() + 30
    while len(bench.printer.jobs) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    jobs = list(bench.printer.jobs)
    assert len(jobs) == 3, f"{len(jobs)} label jobs"
    node = install()
    if node is not None:  # the independent renderer reads what the printer got
        images = ZplRenderer(node, tmp_path).render(
            {"bin": jobs[0], "bgrade": jobs[1], "slip": jobs[2]},
            MEDIA_4X6.width_mm, MEDIA_4X6.height_mm, 203,
        )  # fmt: skip
        assert decoded(images["bin"]) == {"PB:LOC:MAIN", units[0]}
        line_id = _line_of(sessions, order.id, units[1], second=units[0] == units[1])
        assert decoded(images["bgrade"]) == {f"BG-{order.number}-{line_id}-1"}
        assert decoded(images["slip"]) == {code}

    def closed() -> bool:
        with sessions() as s:
            rma = s.scalar(select(Return).where(Return.code == code))
            return rma is not None and rma.status == "closed"

    _wait(closed)
    with sessions() as s:
        first = ids[units[0]]
        assert first is not None
        assert level(s, first).on_hand == before[units[0]] + 1
        assert level(s, ids[units[1]], B_GRADE).on_hand == 1  # type: ignore[arg-type]

    # A cycle count of MAIN: the first product, six on the shelf (one scan, then a case of 5).
    bench.scan("PB:COUNT", "Count mode")
    bench.scan("PB:LOC:MAIN", "Counting MAIN")
    bench.scan(order.items[0].code, "1 counted at MAIN")
    bench.scan("PB:QTY:6", "6 counted at MAIN")
    bench.scan("PB:CLOSE", "Count of MAIN saved: 6 unit(s) of 1 product(s)")

    def counted() -> bool:
        with sessions() as s:
            return level(s, first).on_hand == 6

    _wait(counted)
    with sessions() as s:
        rows = s.execute(
            select(StockMovement.on_hand_delta, StockMovement.actor).where(
                StockMovement.kind == "counted", StockMovement.location == MAIN,
                StockMovement.reason.like("cycle count at a bench%"),
            )
        ).all()  # fmt: skip
        packer = s.scalar(select(User.id).where(User.badge == "BADGE-P001"))
        assert len(rows) == 1 and rows[0][1].startswith(f"user:{packer}@station:")
        assert rows[0][0] == 6 - (before[units[0]] + 1)
        assert check(s) == []
    engine.dispose()


def _line_of(sessions: object, order_id: int, sku: str, second: bool) -> int:
    with sessions() as s:  # type: ignore[operator]
        lines = [li for li in s.get(Order, order_id).lines if li.sku == sku]
    return int(lines[0].id)
