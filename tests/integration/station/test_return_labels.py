"""Labels of the returns bench, as the label printer receives them: the station runtime with
the durable print queue and its worker sends ZPL to a printer on a loopback socket; an
independent ZPL renderer draws each job and zxing-cpp reads the barcodes back. A unit's label
prints once even when the station dies between queueing it and saving the unit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from app.printing.model import MEDIA_4X6
from app.printing.printer import open_printer
from app.printing.queue import PrintQueue
from app.printing.worker import PrintWorker
from app.returns.session import UnitLabel
from app.scanning.classify import classify
from app.station.ports import UserRecord
from app.station.return_labels import ReturnLabels
from app.station.runtime import StationRuntime
from sync.protocol import Disposition, MutationType, ReturnLineInfo, ReturnLookup
from tests.support.printer_emulator import PrinterEmulator
from tests.support.station_fakes import FakeClaims, FakeLabels, FakeStore, run_now
from tests.support.zpl_renderer import ZplRenderer, install
from tests.unit.printing.helpers import decoded

PACKER = UserRecord(1, "Alex Packer", "packer", "BADGE-P001", None)
PARCEL = ReturnLookup(
    order_id=77,
    order_number="ORD-100077",
    return_code="RMA-000003",
    lines=[
        ReturnLineInfo(line_id=5, sku="MUG", name="Blue mug", shipped=2, returned=0, expected=2),
        ReturnLineInfo(line_id=6, sku="CUP", name="Cup", shipped=1, returned=0, expected=1),
    ],
)


@pytest.fixture(scope="module")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZplRenderer]:
    node = install()
    if node is None:
        pytest.skip("node/npm is not installed: the independent ZPL renderer cannot run")
    yield ZplRenderer(node, tmp_path_factory.mktemp("zpl"))


class Bench:
    """A returns bench: runtime, print queue in the station database, worker, printer."""

    def __init__(self, tmp_path: Path, emulator: PrinterEmulator, store: FakeStore) -> None:
        self.queue = PrintQueue(create_engine(f"sqlite:///{tmp_path / 'station.db'}"))
        self.printer = open_printer(emulator.url)
        self.labels = ReturnLabels(self.queue, self.printer, "bench-7")
        self.shown: list[str] = []
        self.runtime = StationRuntime(
            store, FakeClaims(store), FakeLabels(), run_now,
            lambda m: self.shown.append(f"{m.tone}: {m.message}"),
            returns_lookup=lambda _code: PARCEL, return_labels=self.labels,
        )  # fmt: skip
        self.worker = PrintWorker(self.queue, self.printer, idle_interval=0.05)

    def scan(self, *codes: str) -> str:
        for text in codes:
            self.runtime.handle_scan(classify(text.encode()))
        return self.shown[-1]


def _wait_jobs(emulator: PrinterEmulator, count: int) -> list[bytes]:
    deadline = time.monotonic() + 20
    while len(emulator.jobs) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # nothing more should come
    return list(emulator.jobs)


def test_restock_b_grade_and_close_print_their_labels_once_and_a_reprint(
    tmp_path: Path, renderer: ZplRenderer
) -> None:
    store = FakeStore(users={PACKER.badge: PACKER})
    with PrinterEmulator() as emulator:
        bench = Bench(tmp_path, emulator, store)
        bench.worker.start()
        try:
            bench.scan("BADGE-P001", "PB:RETURNS", "RMA-000003", "MUG", "PB:RESTOCK")
            bench.scan("MUG", "PB:BGRADE:DAMAGED", "CUP", "PB:WRITEOFF")
            assert bench.scan("PB:CLOSE").startswith("green: Return of order ORD-100077 closed")
            jobs = _wait_jobs(emulator, 3)
            assert bench.scan("PB:REPRINT") == "green: The last return label prints again."
            reprinted = _wait_jobs(emulator, 4)
        finally:
            bench.worker.stop()
    assert len(jobs) == 3  # a write-off gets no label
    assert reprinted[3] == jobs[2]  # the slip again, byte for byte
    images = renderer.render(
        {"bin": jobs[0], "bgrade": jobs[1], "slip": jobs[2]},
        MEDIA_4X6.width_mm, MEDIA_4X6.height_mm, 203,
    )  # fmt: skip
    assert decoded(images["bin"]) == {"PB:LOC:MAIN", "MUG"}
    assert decoded(images["bgrade"]) == {"BG-ORD-100077-5-2"}  # the line's second unit
    assert decoded(images["slip"]) == {"RMA-000003"}
    kinds = [j.document_type for j in bench.queue.jobs()]
    assert kinds == ["bin_label", "bgrade_label", "return_slip", "return_slip"]
    assert bench.queue.jobs()[3].reprint_of == bench.queue.jobs()[2].id


def test_a_label_queued_before_a_crash_is_not_printed_again_and_a_failed_save_withdraws_it(
    tmp_path: Path,
) -> None:
    store = FakeStore(users={PACKER.badge: PACKER})
    with PrinterEmulator() as emulator:
        bench = Bench(tmp_path, emulator, store)
        # The station died after queueing the first MUG's bin label, before saving the unit.
        crashed = UnitLabel(77, "ORD-100077", "RMA-000003", 5, "MUG", "Blue mug",
                            Disposition.RESTOCK, None)  # fmt: skip
        first, _problem = bench.labels.unit_label(crashed, 1)
        bench.scan("BADGE-P001", "PB:RETURNS", "RMA-000003", "MUG")
        assert bench.scan("PB:RESTOCK").startswith("green: MUG restocked")
        assert [j.id for j in bench.queue.jobs()] == [first]  # the same job, not a second
        # A save that fails withdraws the label it queued: the scan did not happen.
        store.fail_next_record = True
        bench.scan("MUG")
        assert bench.scan("PB:RESTOCK").startswith("red: Could not save")
        withdrawn = bench.queue.jobs()[-1]
        assert withdrawn.id != first and withdrawn.state == "failed" and not withdrawn.retryable
        assert bench.scan("PB:RESTOCK").startswith("green: MUG restocked")  # scanned again
        bench.worker.start()
        try:
            jobs = _wait_jobs(emulator, 2)
        finally:
            bench.worker.stop()
    assert len(jobs) == 2  # unit 1 once, unit 2 once; the withdrawn job never printed
    assert [e.type for e in store.recorded] == [MutationType.RETURN_UNIT_RECEIVED] * 2
