"""Weights that learn, across the wire: the real station runtime packs at the real service
process, the service learns, the station pulls what it learned and checks offline with it,
also after a restart with the service gone."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.scanning.classify import classify
from app.station.claims import ClientClaims
from app.station.replica_store import ReplicaStore
from app.station.runtime import StationRuntime
from app.station.screen import ScreenModel
from app.weighing.reading import ScaleReading, WeightUnit
from service.models import Order, Product
from service.users import add_user
from sync.client import StationClient
from sync.replica import Replica
from tests.integration.sync.conftest import Station
from tests.integration.sync.service_runner import ServiceProcess, make_batch, make_orders
from tests.support.station_fakes import FakeLabels, run_now
from tests.support.text import en

BADGE = "P-ANA"


class Bench:
    """The station runtime over the station's own replica and client, driven like a packer."""

    def __init__(self, replica: Replica, station_id: int, client: StationClient) -> None:
        self.labels = FakeLabels()
        self.shown: list[ScreenModel] = []
        self.store = ReplicaStore(replica, station_id)
        self.rt = StationRuntime(
            self.store,
            ClientClaims(client, replica),
            self.labels,
            run_now,
            self.shown.append,
            auto_complete=False,  # this bench closes each order with PB:CLOSE itself
        )

    def scan(self, text: str) -> ScreenModel:
        self.rt.handle_scan(classify(text.encode()))
        return self.rt.model

    def weigh(self, grams: int) -> ScreenModel:
        self.rt.scale_reading(ScaleReading(Decimal(grams), WeightUnit.G, True))
        return self.rt.model

    def open_and_weigh(self, number: str, grams: int) -> ScreenModel:
        """Open the order, scan its one item, empty the platter and put the parcel on."""
        opened = self.scan(number)
        assert opened.tone == "green", opened.message
        assert self.scan("SKU0").tone == "green", self.rt.model.message
        self.weigh(0)
        return self.weigh(grams)

    def finish(self) -> None:
        """Print the label and close the order."""
        self.rt.label_done(len(self.labels.jobs), True, "")
        closed = self.scan("PB:CLOSE")
        assert closed.tone == "green", closed.message


def _numbers(sessions: sessionmaker[Session], ids: list[int]) -> list[str]:
    with sessions() as s:
        return [s.get_one(Order, oid).number for oid in ids]


def test_weights_learned_at_the_service_check_parcels_offline_after_a_restart(
    make_station, sessions: sessionmaker[Session], service: ServiceProcess, tmp_path: Path
) -> None:
    with sessions() as s, s.begin():
        s.add(Product(sku="SKU0", name="Item 0", weight_grams=None))  # weight unknown
        add_user(s, name="Ana", role="packer", badge=BADGE)
    st: Station = make_station("A")
    orders = make_orders(sessions, 5, lines=1, batch_id=make_batch(sessions, st.id, "B-1"))
    numbers = _numbers(sessions, orders)
    assert st.engine.run_once()
    bench = Bench(st.replica, st.id, st.client)
    assert bench.scan(BADGE).tone == "green"

    # Three parcels of the same contents (1 x SKU0 in an M box of 250 g): nothing to check yet.
    for number, grams in zip(numbers[:3], (1000, 1004, 996), strict=True):
        weighed = bench.open_and_weigh(number, grams)
        assert weighed.tone == "green", weighed.message
        assert "not checked" in en(weighed.message)
        assert "checked once 3 have been weighed" in en(weighed.message)
        bench.finish()
    assert st.engine.run_once()  # push the parcels ...
    assert st.engine.run_once()  # ... and pull what the service learned from them

    # The product learned its weight: median of (parcel - 250 g box) = 750 g.
    with sessions() as s:
        assert s.scalar(select(Product.weight_grams).where(Product.sku == "SKU0")) == 750
    product = bench.store.catalog.by_code("SKU0")
    assert product is not None and product.weight_grams == 750

    # Order 4: 8 % heavier is flagged by the learned rule; 2 % heavier passes.
    heavy = bench.open_and_weigh(numbers[3], 1080)
    assert heavy.tone == "amber"
    assert "1.00 kg ± 50 g, learned from 3 parcels" in en(heavy.message)
    bench.scan("PB:REWEIGH")
    bench.weigh(0)
    light = bench.weigh(1020)
    assert light.tone == "green", en(light.message)
    assert "(expected 1.00 kg ± 50 g, learned from 3 parcels)" in en(light.message)
    bench.finish()

    # Order 5 is leased ahead; then the service goes away and the station restarts.
    st.engine.claim_order(orders[4])
    assert st.engine.run_once()
    path = tmp_path / "A.sqlite3"
    st.close()
    service.stop()
    replica = Replica.open(path)
    try:
        offline = StationClient(service.url, token="gone")
        restarted = Bench(replica, st.id, offline)
        assert restarted.scan(BADGE).tone == "green"
        # Order 4's 1020 g parcel taught too: median of (750, 754, 746, 770) g = 752 g, and
        # the profile of four parcels: mean 1005 g, band max(50 g, 5 % = 51 g, 2σ = 21 g).
        again = restarted.store.catalog.by_code("SKU0")
        assert again is not None and again.weight_grams == 752
        flagged = restarted.open_and_weigh(numbers[4], 1080)
        assert flagged.tone == "amber", flagged.message
        assert "1.005 kg ± 51 g, learned from 4 parcels" in en(flagged.message)
        restarted.scan("PB:REWEIGH")
        restarted.weigh(0)
        ok = restarted.weigh(1020)
        assert ok.tone == "green", ok.message
        offline.close()
    finally:
        replica.close()
