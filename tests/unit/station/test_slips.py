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
from tests.support.text import en

PACKER = UserRecord(1, "Alex Packer", "packer", "BADGE-P001", None)
DOCS = "pdf:///tmp/documents"


def bench(
    tmp_path: Path,
    policy: str,
    country: str = "DE",
    box_contents: bool = False,
    **order_fields: object,
) -> tuple[StationRuntime, PrintQueue]:
    engine = create_engine(f"sqlite:///{tmp_path / 'station.sqlite3'}")
    ensure_schema(engine)
    queue = PrintQueue(engine)
    store = FakeStore(users={PACKER.badge: PACKER})
    store.orders[1] = replace(
        order(1, (MUG, 2), (PLATE, 1)),
        country=country,
        **order_fields,  # type: ignore[arg-type]
    )
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


def pdf_text(pdf: bytes) -> str:
    import pypdfium2

    doc = pypdfium2.PdfDocument(pdf)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in doc)
    finally:
        doc.close()


def test_the_channel_decides_which_orders_get_a_slip(tmp_path: Path) -> None:
    """`channel` (the default): exactly the orders the service marked as wanting one."""
    for n, (wanted, expected) in enumerate(((True, 1), (False, 0), (None, 0))):
        (tmp_path / str(n)).mkdir()
        rt, queue = bench(tmp_path / str(n), "channel", country="NL", packing_slip=wanted)
        pack(rt)
        assert rt.session.progress.packed
        assert len(slips(queue)) == expected, wanted


def test_never_at_the_bench_overrides_a_channel_that_wants_slips(tmp_path: Path) -> None:
    rt, queue = bench(tmp_path, "never", packing_slip=True)
    pack(rt)
    assert slips(queue) == []


def test_the_slip_shows_the_pickup_point_and_the_cash_to_collect(tmp_path: Path) -> None:
    point = ("RO-BUC-1234", "easybox Mega Image Unirii, Bd. Unirii 12, 030167 Bucuresti")
    rt, queue = bench(
        tmp_path, "channel", packing_slip=True, pickup_point=point, cod="249.90 RON", language="en"
    )
    pack(rt)
    (pdf,) = slips(queue)
    text = pdf_text(pdf)
    assert "ORD-100001" in text and MUG.name in text and PLATE.name in text
    assert "Pickup point" in text and "Point id: RO-BUC-1234" in text
    assert "easybox Mega Image Unirii" in text and "Bucuresti" in text
    assert "Cash on delivery: the courier collects 249.90 RON" in text


def test_a_home_delivery_prepaid_slip_says_nothing_of_points_or_cash(tmp_path: Path) -> None:
    rt, queue = bench(tmp_path, "channel", packing_slip=True, language="en")
    pack(rt)
    (pdf,) = slips(queue)
    text = pdf_text(pdf)
    assert "ORD-100001" in text
    assert "Pickup point" not in text and "Cash on delivery" not in text


class PaperlessPrinter:
    """A document printer whose paper runs out, then is loaded again."""

    def __init__(self, url: str) -> None:
        from app.device_status import DeviceKind

        self.url, self.kind, self.paper = url, DeviceKind.DOCUMENT_PRINTER, False
        self.printed: list[bytes] = []

    def status(self) -> object:
        from app.printing.status import READY, PrinterStatus, Problem

        return READY if self.paper else PrinterStatus(frozenset({Problem.PAPER_OUT}))

    def device_status(self, status: object = None) -> object:
        return (status or self.status()).device_status(self.kind, self.url)  # type: ignore[attr-defined]

    def send(self, payload: bytes, name: str = "", preview_png: bytes | None = None) -> None:
        self.printed.append(payload)


def test_a_document_printer_out_of_paper_is_on_screen_and_the_slip_waits(
    tmp_path: Path,
) -> None:
    """Out of paper: a red banner and the status line say what to do; loading paper prints
    the same slip, once, and the status turns back."""
    from app.printing.worker import PrintWorker

    rt, queue = bench(tmp_path, "channel", packing_slip=True)
    printer = PaperlessPrinter(DOCS)
    worker = PrintWorker(
        queue,
        printer,
        on_job=rt.document_job,
        on_status=rt.document_status,  # type: ignore[arg-type]
    )
    pack(rt)
    (job,) = [j for j in queue.jobs(DOCS) if j.document_type == SLIP]
    worker.process(job)
    assert rt.model.tone == "red"
    assert "Packing slip for ORD-100001 not printed" in en(rt.model.message)
    assert "load paper" in en(rt.model.message) and "document prints automatically" in en(
        rt.model.message
    )
    assert en(rt.model.next_step)  # the standing instruction stays under the banner
    status = rt.model.status
    assert status.documents_tone == "red"
    assert "out of paper" in en(status.documents) and "1 slip waiting" in en(status.documents)
    assert printer.printed == []

    printer.paper = True
    worker.run_once()  # not due yet, but the printer says it is back: printed at once
    assert printer.printed == [job.payload]
    assert queue.get(job.id).state == "confirmed"
    assert rt.model.status.documents_tone == "green"
    assert "waiting" not in en(rt.model.status.documents)
    worker.run_once()
    assert printer.printed == [job.payload]  # once


def test_a_slip_the_spooler_took_before_paper_ran_out_is_said_to_print_from_there(
    tmp_path: Path,
) -> None:
    from app.printing.worker import PrintWorker

    rt, queue = bench(tmp_path, "channel", packing_slip=True)
    printer = PaperlessPrinter(DOCS)
    printer.paper = True
    real_send = printer.send

    def send_then_run_out(payload: bytes, name: str = "", preview_png: bytes | None = None) -> None:
        real_send(payload, name, preview_png)
        printer.paper = False

    printer.send = send_then_run_out  # type: ignore[method-assign]
    worker = PrintWorker(
        queue,
        printer,  # type: ignore[arg-type]
        on_job=rt.document_job,
        on_status=rt.document_status,
    )
    pack(rt)
    (job,) = [j for j in queue.jobs(DOCS) if j.document_type == SLIP]
    done = worker.process(job)
    assert done.state == "sent" and done.needs_decision
    assert rt.model.tone == "amber"
    assert en(rt.model.message).startswith("Packing slip for ORD-100001: In the printer's queue")
    assert "It prints from there once fixed" in en(rt.model.message)
    assert worker.queue.next_for(DOCS) is None  # not sent twice
