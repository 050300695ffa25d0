"""Suffix framing and device URL parsing."""

from __future__ import annotations

import pytest

from app.scanning.errors import ScannerError
from app.scanning.framing import LineFramer, parse_byte_name
from app.scanning.guard import ScanGuard
from app.scanning.serial_source import SerialScanner
from app.scanning.source import open_scanner


def test_crlf_gives_one_frame_and_split_input_joins() -> None:
    framer = LineFramer(b"\r")
    assert framer.feed(b"ORD-1") == []
    frames = framer.feed(b"001\r\nORD-1002\n")
    assert [f.data for f in frames] == [b"ORD-1001", b"ORD-1002"]


def test_prefix_is_removed_and_tab_suffix_frames() -> None:
    framer = LineFramer(b"\t", prefix=b"\x02")
    assert [f.data for f in framer.feed(b"\x02T-A1\t\x02T-A2\t")] == [b"T-A1", b"T-A2"]


def test_overlong_line_is_one_problem_frame_and_rest_is_discarded() -> None:
    framer = LineFramer(b"\r", max_length=100)
    frames = framer.feed(b"x" * 1000 + b"\rORD-1\r")
    assert len(frames) == 2
    assert frames[0].problem and len(frames[0].data) == 101
    assert frames[1].data == b"ORD-1" and not frames[1].problem


def test_flush_with_problem_keeps_the_partial_bytes() -> None:
    framer = LineFramer(b"\r")
    framer.feed(b"ORD-")
    (frame,) = framer.flush("unplugged")
    assert (frame.data, frame.problem) == (b"ORD-", "unplugged")


@pytest.mark.parametrize(("name", "value"), [("CR", b"\r"), ("crlf", b"\r\n"), ("0x1d", b"\x1d")])
def test_byte_names(name: str, value: bytes) -> None:
    assert parse_byte_name(name, "suffix") == value


def test_serial_url_settings_are_applied() -> None:
    scanner = open_scanner(
        "serial:///dev/ttyACM0?baudrate=115200&suffix=CRLF&double_scan_ms=1500&max_len=200"
    )
    assert isinstance(scanner, SerialScanner)
    assert (scanner.port, scanner.baudrate, scanner.rules.max_length) == (
        "/dev/ttyACM0",
        115200,
        200,
    )
    assert scanner.guard.double_scan_s == 1.5


def test_windows_com_port_url() -> None:
    scanner = open_scanner("serial://COM3")
    assert isinstance(scanner, SerialScanner) and scanner.port == "COM3"


def test_explicit_guard_is_used() -> None:
    guard = ScanGuard(blanking_s=0)
    scanner = open_scanner("serial:///dev/ttyS0", guard=guard)
    assert isinstance(scanner, SerialScanner) and scanner.guard is guard


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("", "No scanner configured"),
        ("usb://0922:8003", "Unknown scanner type"),
        ("serial://", "names no device"),
        ("serial:///dev/ttyACM0?baud=9600", "baud"),
        ("serial:///dev/ttyACM0?baudrate=fast", "must be a number"),
        ("serial:///dev/ttyACM0?suffix=0xZZ", "not valid hex"),
    ],
)
def test_bad_urls_raise_scanner_error_with_actionable_message(url: str, words: str) -> None:
    with pytest.raises(ScannerError, match=words):
        open_scanner(url)
