"""Weight learning on the service: every accepted parcel weight kept once, profiles and
unit weights derived from it, and both shipped to stations through the pull."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from service.models import (
    LearnedUnitWeight,
    Order,
    OrderLine,
    ParcelWeight,
    Product,
    WeightProfile,
)
from service.weights.history import record_parcel_weight
from sync.contents import contents_key
from sync.protocol import PROTOCOL_HEADER, ParcelClosed, PullResponse
from tests.integration.sync_server.conftest import StationAuth, claim, mutation, push
from tests.support.service_process import child_env, run_cli

KEY = contents_key([("SKU0", 1)], "M")
V2 = {PROTOCOL_HEADER: "2"}


class Bench:
    """One station packing one-line orders (SKU0 x1) and pushing their parcels."""

    def __init__(
        self,
        client: TestClient,
        sessions: sessionmaker[Session],
        station: StationAuth,
        make_order: Callable[..., int],
    ) -> None:
        self.client, self.sessions, self.station = client, sessions, station
        self.make_order = make_order
        self.next_id = 1

    def pack(
        self, grams: int, *, box_grams: int | None = 250, **flags: Any
    ) -> tuple[int, int, int]:
        """Claim a fresh order and push its one parcel; returns (order, epoch, line) ids."""
        oid = self.make_order(status="allocated", lines=1)
        r = claim(self.client, self.station, order_id=oid)
        assert r.status_code == 200, r.text
        epoch = r.json()["leases"][0]["epoch"]
        with self.sessions() as s:
            line = s.scalars(select(OrderLine.id).where(OrderLine.order_id == oid)).one()
        self.close_box(oid, epoch, line, grams, box_grams=box_grams, **flags)
        return oid, epoch, line

    def close_box(
        self, oid: int, epoch: int, line: int, grams: int, *, box_grams: int | None, **flags: Any
    ) -> None:
        extra = {"box_grams": box_grams} if box_grams is not None else {}
        closed = mutation(
            self.next_id,
            "parcel_closed",
            oid,
            epoch,
            box_no=1,
            box_type="M",
            weight_grams=grams,
            items=[{"line_id": line, "quantity": 1}],
            **extra,
            **flags,
        )
        self.next_id += 1
        r = push(self.client, self.station, closed)
        assert r.json()["results"][0]["status"] == "applied", r.text

    def pull(self, cursor: int = 0, headers: dict[str, str] = V2) -> PullResponse:
        r = self.client.get(
            f"/v1/sync/pull?cursor={cursor}", headers={**self.station.headers, **headers}
        )
        assert r.status_code == 200, r.text
        return PullResponse.model_validate(r.json())


def _weightless_sku0(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        s.add(Product(sku="SKU0", name="Item 0", weight_grams=None))


def _profile(sessions: sessionmaker[Session]) -> WeightProfile | None:
    with sessions() as s:
        row = s.scalar(select(WeightProfile).where(WeightProfile.contents_key == KEY))
        if row is not None:
            s.expunge(row)
        return row


def test_repeated_contents_become_a_profile_the_station_pulls(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order
) -> None:
    bench = Bench(client, sessions, make_station("A"), make_order)
    bench.pack(1000)
    bench.pack(1010)
    first = bench.pull()  # two parcels teach nothing a station may use yet
    assert not any(c.entity == "weight_profile" for c in first.changes)
    cursor = first.cursor
    bench.pack(990)
    profile = _profile(sessions)
    assert profile is not None
    assert (profile.parcels, profile.mean_grams) == (3, 1000.0)
    assert round(profile.stdev_grams, 3) == 10.0
    changes = [c for c in bench.pull(cursor).changes if c.entity == "weight_profile"]
    assert len(changes) == 1 and changes[0].data is not None
    assert changes[0].data["contents_key"] == KEY
    assert changes[0].data["parcels"] == 3
    snapshot = [c for c in bench.pull().changes if c.entity == "weight_profile"]
    assert [c.entity_id for c in snapshot] == [profile.id]


def test_a_station_older_than_protocol_2_is_sent_no_profiles(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order
) -> None:
    bench = Bench(client, sessions, make_station("A"), make_order)
    for grams in (1000, 1010, 990):
        bench.pack(grams)
    assert any(c.entity == "weight_profile" for c in bench.pull().changes)
    old = bench.pull(headers={})
    assert old.snapshot and not any(c.entity == "weight_profile" for c in old.changes)
    assert not any(c.entity == "weight_profile" for c in bench.pull(1, headers={}).changes)


def test_typed_in_weights_are_kept_but_teach_nothing(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order
) -> None:
    _weightless_sku0(sessions)
    bench = Bench(client, sessions, make_station("A"), make_order)
    for grams in (1000, 1010, 990):
        bench.pack(grams, manual=True)
    with sessions() as s:
        rows = s.execute(select(ParcelWeight.source, ParcelWeight.learn)).all()
        assert [tuple(r) for r in rows] == [("manual", False)] * 3
        assert s.scalar(select(Product.weight_grams).where(Product.sku == "SKU0")) is None
    profile = _profile(sessions)
    assert profile is not None and profile.parcels == 0


def test_supervisor_overridden_weights_are_learned(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order
) -> None:
    bench = Bench(client, sessions, make_station("A"), make_order)
    bench.pack(1000)
    bench.pack(1100, overridden=True)
    with sessions() as s:
        sources = list(s.scalars(select(ParcelWeight.source).order_by(ParcelWeight.id)))
    assert sources == ["scale", "override"]
    profile = _profile(sessions)
    assert profile is not None and (profile.parcels, profile.mean_grams) == (2, 1050.0)


def test_a_product_without_weight_learns_one_from_single_product_parcels(
    client: TestClient,
    sessions: sessionmaker[Session],
    service_db: tuple[str, Engine],
    make_station,
    make_order,
    tmp_path: Path,
) -> None:
    _weightless_sku0(sessions)
    bench = Bench(client, sessions, make_station("A"), make_order)
    cursor = bench.pull().cursor
    bench.pack(610)
    bench.pack(640, box_grams=None)  # the empty box's weight unknown: no unit weight from it
    bench.pack(600)
    with sessions() as s:
        assert s.scalar(select(Product.weight_grams).where(Product.sku == "SKU0")) is None
    bench.pack(900)  # something extra in the box: the median is not moved by it
    with sessions() as s:
        product = s.scalars(select(Product).where(Product.sku == "SKU0")).one()
        # (610-250, 600-250, 900-250) -> median 360 g
        assert product.weight_grams == 360
        learned = s.get_one(LearnedUnitWeight, product.id)
        assert (learned.grams, learned.parcels) == (360, 3)
        product_id = product.id
    pulled = [c for c in bench.pull(cursor).changes if c.entity == "product"]
    assert [(c.entity_id, (c.data or {}).get("weight_grams")) for c in pulled] == [
        (product_id, 360)
    ]
    env = child_env(tmp_path / "keyring.json")
    shown = run_cli("product", "show", "SKU0", "--db", service_db[0], env=env)
    assert shown.returncode == 0, shown.stderr
    assert "weight:          360 g (learned from 3 single-product parcels)" in shown.stdout
    # The learned weight keeps following new parcels: (610, 600, 900, 620, 630) -> 370 g.
    bench.pack(620)
    bench.pack(630)
    with sessions() as s:
        assert s.scalar(select(Product.weight_grams).where(Product.sku == "SKU0")) == 370


def test_a_weight_someone_set_is_never_replaced(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order, make_product
) -> None:
    make_product("SKU0")  # 100 g in the catalogue
    bench = Bench(client, sessions, make_station("A"), make_order)
    for grams in (610, 600, 620):
        bench.pack(grams)
    with sessions() as s:
        assert s.scalar(select(Product.weight_grams).where(Product.sku == "SKU0")) == 100
        assert s.scalar(select(func.count()).select_from(LearnedUnitWeight)) == 0


def test_a_reweighed_box_replaces_its_first_weight(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order
) -> None:
    bench = Bench(client, sessions, make_station("A"), make_order)
    oid, epoch, line = bench.pack(1000)
    bench.close_box(oid, epoch, line, 1200, box_grams=250)  # PB:REWEIGH, an item added
    with sessions() as s:
        rows = s.execute(select(ParcelWeight.grams, ParcelWeight.learn).order_by(ParcelWeight.id))
        assert [tuple(r) for r in rows] == [(1000, False), (1200, True)]
    profile = _profile(sessions)
    assert profile is not None and (profile.parcels, profile.mean_grams) == (1, 1200.0)


def test_the_same_mutation_is_kept_once(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order
) -> None:
    bench = Bench(client, sessions, make_station("A"), make_order)
    oid, _epoch, line = bench.pack(1000)
    parcel = ParcelClosed(
        box_no=1, box_type="M", weight_grams=1000, items=[{"line_id": line, "quantity": 1}]
    )
    with sessions() as s, s.begin():
        order = s.get_one(Order, oid)
        first = s.scalars(select(ParcelWeight)).one()
        again = record_parcel_weight(
            s,
            station_id=bench.station.id,
            mutation_id=1,
            order=order,
            parcel=parcel,
            weighed_at=first.weighed_at,
        )
        assert again is not None and again.id == first.id
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(ParcelWeight)) == 1


def test_two_stations_closing_the_same_contents_at_once_share_one_profile(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order
) -> None:
    a = Bench(client, sessions, make_station("A"), make_order)
    b = Bench(client, sessions, make_station("B"), make_order)
    claimed = []
    for bench in (a, b, a, b):
        oid = bench.make_order(status="allocated", lines=1)
        r = claim(client, bench.station, order_id=oid)
        assert r.status_code == 200, r.text
        with sessions() as s:
            line = s.scalars(select(OrderLine.id).where(OrderLine.order_id == oid)).one()
        claimed.append((bench, oid, r.json()["leases"][0]["epoch"], line))
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def pack(mine: list[tuple[Bench, int, int, int]]) -> None:
        try:
            start.wait()
            for bench, oid, epoch, line in mine:
                bench.close_box(oid, epoch, line, 1000 + oid % 7, box_grams=250)
        except BaseException as exc:  # reported below: a thread's assert is not seen
            errors.append(exc)

    threads = [
        threading.Thread(target=pack, args=([c for c in claimed if c[0] is bench],))
        for bench in (a, b)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with sessions() as s:
        profiles = list(s.scalars(select(WeightProfile)))
        kept = list(s.scalars(select(ParcelWeight.grams)))
    assert len(profiles) == 1 and len(kept) == 4
    assert profiles[0].parcels == 4
    assert abs(profiles[0].mean_grams - sum(kept) / 4) < 1e-9
