"""A return received at a real station against the real service process: the packer scans
the RMA, one unit restocked and one written off, closes; the events sync exactly once and
the stock ledger agrees."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from app.scanning.classify import classify
from app.station.replica_store import ReplicaStore
from app.station.returns_desk import client_lookup
from app.station.runtime import StationRuntime
from service.ingest.rows import IngestResult
from service.models import Order, Product, Return, StockMovement
from service.returns import desk
from service.stock.ledger import check, level
from service.users import add_user
from tests.integration.returns.conftest import shipped
from tests.integration.stock.conftest import ingest, stocked
from tests.integration.sync.conftest import Station
from tests.integration.sync.service_runner import station_mutations
from tests.support.station_fakes import FakeClaims, FakeLabels, run_now

__all__ = ["ingest", "shipped", "stocked"]


def test_a_return_restocked_and_written_off_at_a_real_station(
    make_station: Callable[[str], Station],
    stocked: sessionmaker[Session],
    shipped: Callable[..., IngestResult],
    service_engine: Engine,
) -> None:
    order = shipped({"MUG": 2})
    with stocked() as s, s.begin():
        add_user(s, name="Rita", role="packer", badge="BADGE-R001")
        code = desk.create(s, str(order.number), {"MUG": 2}, reason="too big", actor="test").code
    st = make_station("returns-1")
    assert st.engine.run_once()  # the pull brings the user list
    store = ReplicaStore(st.replica, st.id)
    shown: list[str] = []
    runtime = StationRuntime(
        store,
        FakeClaims(store),  # type: ignore[arg-type]
        FakeLabels(),
        run_now,
        lambda m: shown.append(f"{m.tone}: {m.message}"),
        returns_lookup=client_lookup(st.client),
    )
    for text in ("BADGE-R001", "PB:RETURNS", code, "MUG", "PB:RESTOCK", "MUG",
                 "PB:WRITEOFF:DAMAGED", "PB:CLOSE"):  # fmt: skip
        runtime.handle_scan(classify(text.encode()))
    assert shown[-1] == (
        f"green: Return of order {order.number} closed: 1 restocked, 1 written off. "
        "Scan the next parcel."
    ), shown
    assert store.queue_depth() == 3  # saved locally, not yet at the service
    assert st.engine.run_once()
    assert st.engine.run_once()  # a second sync sends nothing again
    assert station_mutations(service_engine, st.id) == {
        1: ("applied", None),
        2: ("applied", None),
        3: ("applied", None),
    }
    with stocked() as s:
        rma = s.scalar(select(Return).where(Return.code == code))
        assert rma is not None and rma.status == "closed"
        assert [(u.disposition, u.reason_code) for u in rma.units] == [
            ("restock", ""),
            ("write_off", "damaged"),
        ]
        mug = s.scalar(select(Product.id).where(Product.sku == "MUG"))
        assert mug is not None
        lv = level(s, mug)
        assert (lv.on_hand, lv.allocated) == (10 - 2 + 1, 0)
        kinds = s.scalars(
            select(StockMovement.kind)
            .where(StockMovement.order_id == order.order_id)
            .order_by(StockMovement.id)
        ).all()
        assert kinds == ["allocated", "shipped", "returned_to_stock", "written_off"]
        assert check(s) == []
        back = s.get(Order, order.order_id)
        assert back is not None and back.status == "returned"  # every shipped unit came back
