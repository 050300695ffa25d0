"""The print queue against a loopback printer: nothing lost, nothing printed twice."""

from __future__ import annotations

import os
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from app.device_status import DeviceState, DeviceStatus
from app.printing.layouts import shipping_label
from app.printing.printer import Printer, open_printer
from app.printing.queue import CONFIRMED, FAILED, SENT, PrintJob, PrintQueue, ensure_schema
from app.printing.worker import PrintWorker
from tests.support.printer_emulator import PrinterEmulator
from tests.unit.printing.samples import SHIPPING


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue(tmp_path: Path, clock: Clock) -> PrintQueue:
    return PrintQueue(create_engine(f"sqlite:///{tmp_path / 'station.db'}"), clock=clock)


def label_job(queue: PrintQueue, printer: Printer, order: str = "ORD-100234") -> PrintJob:
    label = shipping_label(SHIPPING)
    return queue.enqueue(
        printer.render(label),
        printer.url,
        "shipping_label",
        order_number=order,
        parcel_id="P1",
        preview_png=printer.preview(label),
    )


def worker_for(
    queue: PrintQueue, printer: Printer
) -> tuple[PrintWorker, list[PrintJob], list[DeviceStatus]]:
    jobs: list[PrintJob] = []
    statuses: list[DeviceStatus] = []
    return (
        PrintWorker(queue, printer, on_job=jobs.append, on_status=statuses.append),
        jobs,
        statuses,
    )


def test_schema_is_created_versioned_and_idempotent(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    ensure_schema(engine)
    ensure_schema(engine)
    assert {"print_jobs", "print_schema"} <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        assert conn.execute(text("select version from print_schema")).all() == [(1,)]


def test_ready_printer_prints_once_and_confirms(queue: PrintQueue) -> None:
    with PrinterEmulator() as emulator:
        printer = open_printer(emulator.url)
        job = label_job(queue, printer)
        worker, _updates, statuses = worker_for(queue, printer)
        done = worker.process(job)
        assert done.state == CONFIRMED and done.attempts == 1
        assert emulator.jobs == [job.payload]
        assert statuses[-1].state is DeviceState.READY
        assert worker.run_once() > 0  # nothing left: idle
        assert len(emulator.jobs) == 1


@pytest.mark.parametrize(
    ("state", "words"),
    [
        ("paper_out", "Printer out of paper: load labels and the label prints automatically"),
        ("head_open", "head is open"),
        ("paused", "paused"),
        ("silent", "does not answer"),
        ("garbage", "cannot be understood"),
    ],
)
def test_fault_keeps_job_then_prints_once_when_fixed(
    queue: PrintQueue, clock: Clock, state: str, words: str
) -> None:
    with PrinterEmulator(state=state) as emulator:
        printer = open_printer(emulator.url)
        job = label_job(queue, printer)
        worker, _updates, statuses = worker_for(queue, printer)
        failed = worker.process(job)
        assert failed.state == FAILED and words in (failed.last_error or "")
        assert failed.next_attempt_at is not None
        assert emulator.jobs == []  # nothing printed half
        assert statuses[-1].state is DeviceState.ERROR
        worker.run_once()  # still broken, not yet due: nothing happens
        assert emulator.jobs == []
        emulator.state = "ready"
        worker.run_once()  # printer back: retried before the backoff ends
        assert queue.get(job.id).state == CONFIRMED
        assert emulator.jobs == [job.payload]
        worker.run_once()
        assert len(emulator.jobs) == 1


def test_printer_disappearing_mid_job_is_resent_whole(queue: PrintQueue, clock: Clock) -> None:
    big = b"^XA^FO0,0^GFA,200000,200000,100," + b"F" * 400_000 + b"^FS^XZ"
    with PrinterEmulator(drop_after=50_000) as emulator:
        printer = open_printer(emulator.url)
        job = queue.enqueue(big, printer.url, "carrier_label", order_number="ORD-1")
        worker, _, _ = worker_for(queue, printer)
        failed = worker.process(job)
        assert failed.state == FAILED
        assert "broke while sending" in (failed.last_error or "")
        assert emulator.jobs == []
        emulator.drop_after = None
        clock.now += timedelta(minutes=5)
        assert worker.process(queue.get(job.id)).state == CONFIRMED
        assert emulator.jobs == [big]  # the whole job, once


def test_fault_after_sending_is_not_resent_but_waits_for_a_person(
    queue: PrintQueue, clock: Clock
) -> None:
    with PrinterEmulator(state_after_job="paper_out") as emulator:
        printer = open_printer(emulator.url)
        job = label_job(queue, printer)
        worker, _updates, _ = worker_for(queue, printer)
        sent = worker.process(job)
        assert sent.state == SENT and sent.needs_decision
        assert "Check whether the label printed" in (sent.last_error or "")
        emulator.state = "ready"
        clock.now += timedelta(hours=1)
        worker.run_once()
        assert len(emulator.jobs) == 1  # never silently printed twice
        again = queue.reprint(job.id, by_user="packer-7", reason="label did not come out")
        assert again.reprint_of == job.id and again.requested_by == "packer-7"
        worker.run_once()
        assert queue.get(again.id).state == CONFIRMED
        assert emulator.jobs == [job.payload, job.payload]


def test_reprint_of_confirmed_label_prints_again_linked(queue: PrintQueue) -> None:
    with PrinterEmulator() as emulator:
        printer = open_printer(emulator.url)
        job = label_job(queue, printer)
        worker, _, _ = worker_for(queue, printer)
        worker.process(job)
        with pytest.raises(ValueError):
            queue.reprint(job.id, by_user="packer-7", reason=" ")
        again = queue.reprint(job.id, by_user="packer-7", reason="label smudged")
        worker.run_once()
        assert queue.get(again.id).state == CONFIRMED
        assert len(emulator.jobs) == 2
        assert [j.id for j in queue.jobs(order_number="ORD-100234")] == [job.id, again.id]


def test_reprint_of_a_failed_job_stops_the_original_retrying(
    queue: PrintQueue, clock: Clock
) -> None:
    with PrinterEmulator(state="paper_out") as emulator:
        printer = open_printer(emulator.url)
        job = label_job(queue, printer)
        worker, _, _ = worker_for(queue, printer)
        worker.process(job)
        again = queue.reprint(job.id, by_user="sup-1", reason="moved to this printer")
        emulator.state = "ready"
        clock.now += timedelta(minutes=5)
        worker.run_once()
        worker.run_once()
        assert queue.get(job.id).state == FAILED
        assert queue.get(again.id).state == CONFIRMED
        assert len(emulator.jobs) == 1


def test_unresolvable_printer_host_keeps_job_with_reason(queue: PrintQueue) -> None:
    printer = open_printer("zpl+tcp://printer.invalid:9100?timeout=0.5")
    job = label_job(queue, printer)
    worker, _, statuses = worker_for(queue, printer)
    failed = worker.process(job)
    assert (
        failed.state == FAILED and "cannot be found" in (failed.last_error or "")
    ) or "not reachable" in (failed.last_error or "")
    assert statuses[-1].state is DeviceState.DISCONNECTED


def test_worker_thread_drains_queue_and_reports(queue: PrintQueue) -> None:
    with PrinterEmulator() as emulator:
        printer = open_printer(emulator.url)
        confirmed = threading.Event()
        seen: list[PrintJob] = []

        def on_job(job: PrintJob) -> None:
            seen.append(job)
            if len([j for j in seen if j.state == CONFIRMED]) == 3:
                confirmed.set()

        worker = PrintWorker(queue, printer, on_job=on_job, idle_interval=0.05)
        worker.start()
        try:
            for order in ("A-1", "A-2", "A-3"):
                label_job(queue, printer, order)
                worker.wake()
            assert confirmed.wait(10)
        finally:
            worker.stop()
        assert [j.order_number for j in seen] == ["A-1", "A-2", "A-3"]
        assert len(emulator.jobs) == 3


def test_escpos_tcp_printer_status_and_print(queue: PrintQueue) -> None:
    with PrinterEmulator(language="escpos", state="paper_out") as emulator:
        printer = open_printer(emulator.url)
        job = label_job(queue, printer)
        worker, _, _ = worker_for(queue, printer)
        assert worker.process(job).state == FAILED
        emulator.state = "ready"
        worker.run_once()
        assert queue.get(job.id).state == CONFIRMED
        assert emulator.jobs[0].startswith(b"\x1b@")


def test_file_printer_writes_zpl_and_png_preview(queue: PrintQueue, tmp_path: Path) -> None:
    printer = open_printer(f"file://{tmp_path / 'out'}")
    job = label_job(queue, printer)
    assert PrintWorker(queue, printer).process(job).state == CONFIRMED
    files = sorted(p.suffix for p in (tmp_path / "out").iterdir())
    assert files == [".png", ".zpl"]


def test_cups_queue_prints_raw_and_reports_stopped_queue(
    queue: PrintQueue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    spool = tmp_path / "spool"
    state = tmp_path / "state"
    state.write_text("idle.  enabled since now")
    (bin_dir / "lp").write_text(f'#!/bin/sh\necho "$@" > {spool}.args\ncat > {spool}\n')
    (bin_dir / "lpstat").write_text(f'#!/bin/sh\necho "printer Office is $(cat {state})"\n')
    for script in bin_dir.iterdir():
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    printer = open_printer("cups://Office")
    state.write_text("disabled since now")
    job = queue.enqueue(b"%PDF-fake", printer.url, "packing_slip")
    failed = PrintWorker(queue, printer).process(job)
    assert failed.state == FAILED and "queue is stopped" in (failed.last_error or "")
    state.write_text("idle.  enabled since now")
    assert PrintWorker(queue, printer).process(queue.get(job.id)).state == CONFIRMED
    assert spool.read_bytes() == b"%PDF-fake"
    assert "-d Office -o raw" in Path(f"{spool}.args").read_text()


def test_a_queued_label_wakes_the_idle_worker_at_once(queue: PrintQueue) -> None:
    """The worker idles for a minute between polls; a new label must not wait for it."""
    with PrinterEmulator() as emulator:
        printer = open_printer(emulator.url)
        done = threading.Event()
        worker = PrintWorker(
            queue,
            printer,
            on_job=lambda job: done.set() if job.state == CONFIRMED else None,
            idle_interval=60.0,
        )
        worker.start()
        try:
            assert not done.wait(0.3)  # idle: nothing to print, asleep for a minute
            job = label_job(queue, printer)
            assert done.wait(2.0), "the worker slept through a queued label"
            assert emulator.jobs == [job.payload]
            other = queue.enqueue(b"^XA^XZ", "zpl+tcp://127.0.0.1:1", "shipping_label")
            assert queue.get(other.id).state != CONFIRMED  # another printer's job: not ours
        finally:
            worker.stop()
