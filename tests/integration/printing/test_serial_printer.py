"""A Zebra printer on a serial line, emulated on a pseudo-terminal: status, jobs, faults."""

from __future__ import annotations

import os
import select
import threading
import tty
from collections.abc import Iterator

import pytest

from app.printing.errors import PrinterError
from app.printing.printer import open_printer
from app.printing.status import host_status_answer


class PtyZebra:
    """Answers `~HS` like a Zebra on its serial port and keeps every other byte as job data."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.port = os.ttyname(self.slave)
        self.paper_out = False
        self.silent = False
        self.received = bytearray()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            self.received += data
            if b"~HS" in data and not self.silent:
                os.write(self.master, host_status_answer(paper_out=self.paper_out))

    @property
    def jobs(self) -> bytes:
        return bytes(self.received).replace(b"~HS", b"")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def zebra() -> Iterator[PtyZebra]:
    printer = PtyZebra()
    yield printer
    printer.close()


def test_status_and_a_whole_job_over_the_serial_line(zebra: PtyZebra) -> None:
    printer = open_printer(f"zpl+serial://{zebra.port}?baudrate=9600&timeout=1")
    assert printer.status().ready
    job = b"^XA^FO50,50^A0N,40,40^FDORD-100001^FS^XZ"
    printer.send(job)
    deadline = 50
    while zebra.jobs != job and deadline:
        select.select([], [], [], 0.02)
        deadline -= 1
    assert zebra.jobs == job


def test_paper_out_and_a_silent_printer_are_reported_not_ignored(zebra: PtyZebra) -> None:
    printer = open_printer(f"zpl+serial://{zebra.port}?timeout=0.5")
    zebra.paper_out = True
    status = printer.status()
    assert not status.ready and "paper" in status.message.lower()
    zebra.paper_out, zebra.silent = False, True
    status = printer.status()
    assert not status.ready  # Zebra printers stay silent in some faults: never "ready"


def test_a_port_that_does_not_exist_says_so() -> None:
    printer = open_printer("zpl+serial:///dev/ttyNOPE9?timeout=0.2")
    with pytest.raises(PrinterError, match="cannot be opened"):
        printer.send(b"^XA^XZ")
    assert not printer.status().ready
