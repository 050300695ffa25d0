"""Packing slips in the flow: queued once on the document printer when an order is packed,
only where the site asks for them; the real print queue on SQLite.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine

from app.printing.queue import PrintQueue, ensure_schema
from app.scanning.classify import classify
from app.station.ports import UserRecord
from app.station.runtime import StationRuntime
from app.station.slips import SLIP, PackingSlips
from app.weighing.reading import ScaleReading, WeightUnit
from tests.support.pins import checker
from tests.support.station_fakes import (
    MUG,
    PLATE,
    FakeClaims,
    FakeLabels,
    FakeStore,
    order,
    run_now,
)

PACKER = UserRecord(1, "Alex Packer", "packer", "BADGE-P001", None)
DOCS = "pdf:///tmp/documents"


def bench(
    tmp_path: Path, policy: str, country: str = "DE", box_contents: bool = False
) -> tuple[StationRuntime, PrintQueue]:
    engine = create_engine(f"sqlite:///{tmp_path / 'station.sqlite3'}")
    ensure_schema(engine)
    queue = PrintQueue(engine)
    store = FakeStore(users={PACKER.badge: PACKER})
    store.orders[1] = replace(order(1, (MUG, 2), (PLATE, 1)), country=country)
    slips = PackingSlips(
        queue,
        DOCS,
        policy,
        site_country="DE",
        clock=lambda: datetime(2026, 3, 2, tzinfo=UTC),
        box_contents=box_contents,
    )
    rt = StationRuntime(
        store,
        FakeClaims(store),
        FakeLabels(),
        run_now,
        lambda _m: None,
        pin_checker=checker(),
        slips=slips,
    )
    return rt, queue


def pack(rt: StationRuntime) -> None:
    for code in ("BADGE-P001", "ORD-100001", "4006381333931", "4006381333931", "PLT-WHT-27"):
        rt.handle_scan(classify(code.encode()))
    rt.scale_reading(ScaleReading(Decimal(1530), WeightUnit.G, True))
    rt.label_done(1, True, "")  # the label printed: the order finishes by itself


def slips(queue: PrintQueue) -> list[bytes]:
    return [j.payload for j in queue.jobs(DOCS) if j.document_type == SLIP]


def test_a_cross_border_order_gets_one_slip_on_the_document_printer(tmp_path: Path) -> None:
    rt, queue = bench(tmp_path, "cross_border", country="NL")
    pack(rt)
    assert rt.session.progress.packed
    (pdf,) = slips(queue)
    assert (pdf.startswith(b"%PDF") and b"ORD-100001" in pdf) or len(pdf) > 500
    rt.handle_scan(classify(b"PB:CLOSE"))  # a habit scan after auto-complete: still one slip
    assert len(slips(queue)) == 1
    again = PackingSlips(queue, DOCS, "cross_border", site_country="DE")
    assert again.print_for(rt.order) is None  # after a restart: not queued twice
    assert len(slips(queue)) == 1


def test_a_domestic_order_gets_none_unless_every_parcel_is_asked(tmp_path: Path) -> None:
    rt, queue = bench(tmp_path, "cross_border", country="DE")
    pack(rt)
    assert slips(queue) == []
    (tmp_path / "b").mkdir()
    rt, queue = bench(tmp_path / "b", "every_parcel", country="DE")
    pack(rt)
    assert len(slips(queue)) == 1


def test_never_prints_no_slip(tmp_path: Path) -> None:
    rt, queue = bench(tmp_path, "never", country="NL")
    pack(rt)
    assert rt.session.progress.packed and slips(queue) == []


def test_each_box_of_a_multi_box_order_gets_its_contents_label_once(tmp_path: Path) -> None:
    rt, queue = bench(tmp_path, "never", box_contents=True)
    for code in ("BADGE-P001", "ORD-100001", "4006381333931", "4006381333931", "PB:NEW-BOX"):
        rt.handle_scan(classify(code.encode()))
    rt.scale_reading(ScaleReading(Decimal(950), WeightUnit.G, True))  # box 1: 2 mugs + box
    rt.scale_reading(ScaleReading(Decimal(0), WeightUnit.G, True))  # lifted off
    rt.handle_scan(classify(b"PLT-WHT-27"))
    rt.scale_reading(ScaleReading(Decimal(850), WeightUnit.G, True))  # box 2: the plate
    rt.label_done(1, True, "")
    rt.label_done(2, True, "")
    assert rt.session.progress.packed
    jobs = [j for j in queue.jobs(DOCS) if j.document_type == "box_content_label"]
    assert [j.parcel_id for j in jobs] == ["1/1", "1/2"]
    assert all(j.payload.startswith(b"%PDF") for j in jobs)
    assert slips(queue) == []  # slips were not asked for
