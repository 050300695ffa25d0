"""Printer status parsing and device URLs: what the status bar says and what settings accept."""

from __future__ import annotations

import pytest

from app.device_status import DeviceKind, DeviceState
from app.printing.errors import BadPrinterUrl, HeadOpen, PaperOut, PrinterPaused, StatusUnknown
from app.printing.printer import Language, open_printer
from app.printing.status import (
    Problem,
    host_status_answer,
    parse_escpos_status,
    parse_host_status,
    parse_lpstat,
)
from app.printing.transport import (
    CupsTransport,
    DirectoryTransport,
    SerialTransport,
    TcpTransport,
    UsbTransport,
)


def test_ready_zebra_status() -> None:
    status = parse_host_status(host_status_answer())
    assert status.ready
    assert status.device_status(DeviceKind.LABEL_PRINTER, "u").state is DeviceState.READY


@pytest.mark.parametrize(
    ("flags", "error", "words"),
    [
        ({"paper_out": True}, PaperOut, "out of paper: load labels"),
        ({"head_open": True}, HeadOpen, "head is open"),
        ({"paused": True}, PrinterPaused, "paused"),
        ({"ribbon_out": True}, Exception, "ribbon"),
        ({"buffer_full": True}, Exception, "buffer full"),
    ],
)
def test_zebra_fault_flags(flags: dict[str, bool], error: type[Exception], words: str) -> None:
    status = parse_host_status(host_status_answer(**flags))
    assert not status.ready
    assert words in status.message
    with pytest.raises(error):
        status.raise_for_problem()
    assert status.device_status(DeviceKind.LABEL_PRINTER, "u").state is DeviceState.ERROR


def test_paper_out_wins_over_pause_in_the_message() -> None:
    status = parse_host_status(host_status_answer(paper_out=True, paused=True))
    assert status.message.startswith("Printer out of paper")


@pytest.mark.parametrize("answer", [None, b""])
def test_silent_zebra_is_an_error_not_ready(answer: bytes | None) -> None:
    status = parse_host_status(answer)
    assert status.problems == {Problem.NO_ANSWER}
    with pytest.raises(StatusUnknown):
        status.raise_for_problem()


@pytest.mark.parametrize(
    "answer", [b"\x02HELLO\x03", b"garbage" * 5, host_status_answer().replace(b"030,0", b"030,X")]
)
def test_garbled_zebra_answer_is_an_error(answer: bytes) -> None:
    assert parse_host_status(answer).problems == {Problem.GARBLED}


def test_escpos_status_bytes() -> None:
    assert parse_escpos_status([b"\x12", b"\x12", b"\x12"]).ready
    paper_out = parse_escpos_status([b"\x1a", b"\x32", b"\x72"])
    assert Problem.PAPER_OUT in paper_out.problems
    low = parse_escpos_status([b"\x12", b"\x12", b"\x1e"])
    assert low.ready and low.problems == {Problem.PAPER_LOW}
    assert low.device_status(DeviceKind.LABEL_PRINTER, "u").state is DeviceState.WARNING
    assert parse_escpos_status([b"\xff", b"\x12", b"\x12"]).problems == {Problem.GARBLED}
    assert parse_escpos_status([None, None, None]).problems == {Problem.NO_ANSWER}


def test_lpstat_states() -> None:
    idle = "printer Office is idle.  enabled since Mon 06 May 2024\n"
    assert parse_lpstat(idle, "Office").ready
    stopped = parse_lpstat("printer Office disabled since Mon -\n\treason unknown\n", "Office")
    assert stopped.problems == {Problem.QUEUE_STOPPED}
    assert parse_lpstat("", "Office").problems == {Problem.OFFLINE}


@pytest.mark.parametrize(
    ("url", "transport", "language"),
    [
        ("zpl+tcp://10.0.0.5:9100", TcpTransport, Language.ZPL),
        ("zpl+serial:///dev/ttyS0?baudrate=19200", SerialTransport, Language.ZPL),
        ("escpos+usb://04b8:0202", UsbTransport, Language.ESCPOS),
        ("escpos+tcp://host:9100", TcpTransport, Language.ESCPOS),
        ("cups://QueueName", CupsTransport, Language.PDF),
        ("cups://Zebra?lang=zpl", CupsTransport, Language.ZPL),
        ("file:///tmp/labels", DirectoryTransport, Language.ZPL),
        ("pdf:///tmp/docs", DirectoryTransport, Language.PDF),
    ],
)
def test_device_urls_open(url: str, transport: type, language: Language) -> None:
    printer = open_printer(url)
    assert isinstance(printer.transport, transport)
    assert printer.language is language


def test_url_options() -> None:
    printer = open_printer("zpl+tcp://10.0.0.5?dpi=300&media=4x3")
    assert (printer.dpi, printer.media.name) == (300, "4x3")
    assert printer.transport.description == "10.0.0.5:9100"
    assert open_printer("escpos+tcp://h:9100").escpos.width_px == 512  # type: ignore[union-attr]
    assert open_printer("pdf:///tmp/x").kind is DeviceKind.DOCUMENT_PRINTER


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("lpt://printer", "not supported"),
        ("zpl+tcp://:9100", "needs a host"),
        ("zpl+tcp://host:notaport", "bad number"),
        ("escpos+usb://epson", "vendor:product"),
        ("zpl+tcp://host?dpi=250", "dpi must be"),
        ("zpl+tcp://host?media=letter", "unknown media"),
        ("cups://", "queue name"),
        ("file://", "needs a folder"),
        ("escpos+tcp://h?profile=NoSuchPrinter", "NoSuchPrinter"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, words: str) -> None:
    with pytest.raises(BadPrinterUrl) as caught:
        open_printer(url)
    assert words in caught.value.message
