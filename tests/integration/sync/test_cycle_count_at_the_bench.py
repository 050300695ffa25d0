"""A cycle count at a real station against the real service process: the packer scans a bin
label, each unit (or a unit and its quantity) and confirms; the count travels as one
`stock_counted` mutation, exactly once even when the answer is lost, and the ledger records
each difference as one `counted` movement saying who counted. Bad input changes nothing."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from app.scanning.classify import classify
from app.station.replica_store import ReplicaStore
from app.station.runtime import StationRuntime
from service.models import Product, StockMovement
from service.returns.figures import figures
from service.stock.ledger import check, level
from service.users import add_user
from sync.clock import utcnow
from tests.integration.stock.conftest import stocked
from tests.integration.sync.conftest import Station
from tests.integration.sync.service_runner import station_mutations
from tests.support.fault_proxy import FaultProxy
from tests.support.station_fakes import FakeClaims, FakeLabels, run_now

__all__ = ["stocked"]


def _bench(st: Station, shown: list[str]) -> tuple[StationRuntime, ReplicaStore]:
    store = ReplicaStore(st.replica, st.id)
    runtime = StationRuntime(
        store,
        FakeClaims(store),  # type: ignore[arg-type]
        FakeLabels(),
        run_now,
        lambda m: shown.append(f"{m.tone}: {m.message}"),
    )
    return runtime, store


def _scan(runtime: StationRuntime, shown: list[str], *codes: str) -> str:
    for text in codes:
        runtime.handle_scan(classify(text.encode()))
    return shown[-1]


def _counted(sessions: sessionmaker[Session]) -> list[tuple[str, str, int, str]]:
    with sessions() as s:
        rows = s.execute(
            select(Product.sku, StockMovement.location, StockMovement.on_hand_delta,
                   StockMovement.actor)
            .join(Product, Product.id == StockMovement.product_id)
            .where(StockMovement.kind == "counted")
            .order_by(StockMovement.id)
        ).all()  # fmt: skip
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_a_bin_counted_at_a_real_station_moves_stock_once(
    make_station: Callable[[str], Station],
    stocked: sessionmaker[Session],
    service_engine: Engine,
    proxy: FaultProxy,
) -> None:
    with stocked() as s, s.begin():
        rita = add_user(s, name="Rita", role="packer", badge="BADGE-R001").id
    st = make_station("count-1")
    assert st.engine.run_once()  # users and the catalogue
    shown: list[str] = []
    runtime, store = _bench(st, shown)
    runtime.set_status(online=True)

    assert _scan(runtime, shown, "BADGE-R001", "PB:COUNT").startswith("amber: Count mode")
    assert _scan(runtime, shown, "MUG").startswith("red: MUG is not a bin label")
    assert _scan(runtime, shown, "PB:LOC:MAIN").startswith("green: Counting MAIN")
    assert _scan(runtime, shown, "NOT-A-THING").startswith(
        "red: NOT-A-THING is not a known product"
    )
    _scan(runtime, shown, "MUG", "MUG")
    assert _scan(runtime, shown, "PB:QTY:5") == (
        "green: MUG Mug: 6 counted at MAIN. Scan the next unit or PB:CLOSE."
    )
    _scan(runtime, shown, "PLATE")
    assert _scan(runtime, shown, "PB:QTY:0").startswith("green: PLATE Plate: 0 counted")
    assert _scan(runtime, shown, "PB:CLOSE") == (
        "green: Count of MAIN saved: 6 unit(s) of 2 product(s). It goes to the service now. "
        "Scan the next bin."
    )
    assert store.queue_depth() == 1  # one durable mutation for the whole bin

    proxy.fail_next("drop_response")  # the service commits, the station never hears it
    assert not st.engine.run_once()
    assert st.engine.run_once()
    assert st.engine.run_once()  # nothing left to send
    assert station_mutations(service_engine, st.id) == {1: ("applied", None)}
    who = f"user:{rita}@station:{st.id}"
    assert _counted(stocked) == [("MUG", "MAIN", -4, who), ("PLATE", "MAIN", -3, who)]
    with stocked() as s:
        mug = s.scalar(select(Product.id).where(Product.sku == "MUG"))
        assert mug is not None and level(s, mug).on_hand == 6
        assert check(s) == []
        shown_to_supervisor = figures(s, utcnow(), days=2).count_differences  # midnight-safe
    assert {(c.sku, c.difference, c.counted_by) for c in shown_to_supervisor} == {
        ("MUG", -4, "Rita at count-1"),
        ("PLATE", -3, "Rita at count-1"),
    }


def test_an_unknown_bin_is_refused_by_the_service_and_a_count_offline_is_queued(
    make_station: Callable[[str], Station],
    stocked: sessionmaker[Session],
    service_engine: Engine,
    proxy: FaultProxy,
) -> None:
    with stocked() as s, s.begin():
        add_user(s, name="Rita", role="packer", badge="BADGE-R001")
    st = make_station("count-2")
    assert st.engine.run_once()
    shown: list[str] = []
    runtime, store = _bench(st, shown)

    proxy.mode = "drop_request"  # the connection is gone
    assert not st.engine.run_once()
    runtime.set_status(online=False)
    saved = _scan(runtime, shown, "BADGE-R001", "PB:COUNT", "PB:LOC:AISLE-9", "MUG", "PB:CLOSE")
    assert saved == (
        "green: Count of AISLE-9 saved: 1 unit(s) of 1 product(s). Offline: it is queued and "
        "goes to the service when the connection is back. Scan the next bin."
    )
    assert _scan(runtime, shown, "PB:LOC:MAIN", "PB:CLOSE").startswith(
        "red: Nothing was counted here yet"
    )
    assert store.queue_depth() == 1  # the empty bin recorded nothing

    proxy.mode = "pass"
    assert st.engine.run_once()
    assert station_mutations(service_engine, st.id) == {1: ("rejected", "count_refused")}
    assert _counted(stocked) == []  # nothing was recorded for an unknown bin
    rejection = st.engine.status.last_rejection  # what the station's status bar shows
    assert rejection is not None and rejection.reason == "count_refused"
    assert "Location AISLE-9 is not known to the service" in (rejection.message or "")
