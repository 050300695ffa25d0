"""Serial scanners through pseudo-terminal pairs: framing, bad bytes, unplug and re-plug."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.device_status import DeviceState, DeviceStatus
from app.scanning.guard import ScanGuard
from app.scanning.scan import Scan, ScanKind
from app.scanning.serial_source import SerialScanner
from app.scanning.source import open_scanner
from tests.support.serial_scanner import PtyScanner

WAIT_S = 3.0


class Recorder:
    """Collects callbacks from the reader thread."""

    def __init__(self) -> None:
        self.scans: queue.Queue[Scan] = queue.Queue()
        self.statuses: queue.Queue[DeviceStatus] = queue.Queue()

    def on_scan(self, scan: Scan) -> None:
        self.scans.put(scan)

    def on_status(self, status: DeviceStatus) -> None:
        self.statuses.put(status)

    def next_scan(self) -> Scan:
        return self.scans.get(timeout=WAIT_S)

    def wait_state(self, state: DeviceState) -> DeviceStatus:
        while True:
            status = self.statuses.get(timeout=WAIT_S)
            if status.state is state:
                return status

    def no_more_scans(self) -> bool:
        try:
            extra = self.scans.get(timeout=0.3)
        except queue.Empty:
            return True
        raise AssertionError(f"unexpected extra scan {extra!r}")


@pytest.fixture
def device(tmp_path: Path) -> Iterator[PtyScanner]:
    emulator = PtyScanner(tmp_path)
    yield emulator
    emulator.close()


def start(device: PtyScanner, **kwargs: object) -> tuple[SerialScanner, Recorder]:
    rec = Recorder()
    kwargs.setdefault("guard", ScanGuard(blanking_s=0, double_scan_s=0))
    scanner = SerialScanner(str(device.path), backoff_initial_s=0.02, backoff_max_s=0.1, **kwargs)  # type: ignore[arg-type]
    scanner.start(rec.on_scan, rec.on_status)
    return scanner, rec


@pytest.fixture
def running(device: PtyScanner) -> Iterator[tuple[SerialScanner, Recorder]]:
    scanner, rec = start(device)
    rec.wait_state(DeviceState.READY)
    yield scanner, rec
    scanner.stop()


def test_burst_of_scans_each_delivered_once_in_order(device, running) -> None:
    _, rec = running
    device.send(b"ORD-1001\rT-A17\r]E04006381333931\r")
    kinds = [rec.next_scan().kind for _ in range(3)]
    assert kinds == [ScanKind.ORDER, ScanKind.TOTE, ScanKind.PRODUCT]
    assert rec.no_more_scans()


def test_scan_split_over_several_writes_is_one_scan(device, running) -> None:
    _, rec = running
    device.send(b"ORD-")
    device.send(b"10")
    device.send(b"02\r")
    scan = rec.next_scan()
    assert (scan.kind, scan.text) == (ScanKind.ORDER, "ORD-1002")
    assert rec.no_more_scans()


@pytest.mark.parametrize("suffix", [b"\r", b"\n", b"\r\n"])
def test_cr_lf_and_crlf_suffixes_give_one_scan_each(device, running, suffix) -> None:
    _, rec = running
    device.send(b"ORD-2001" + suffix + b"ORD-2002" + suffix)
    assert [rec.next_scan().text for _ in range(2)] == ["ORD-2001", "ORD-2002"]
    assert rec.no_more_scans()


def test_tab_suffix_from_url(device) -> None:
    rec = Recorder()
    scanner = open_scanner(f"serial://{device.path}?baudrate=115200&suffix=TAB&blanking_ms=0")
    scanner.start(rec.on_scan, rec.on_status)
    try:
        rec.wait_state(DeviceState.READY)
        device.send(b"T-B22\tT-B23\t")
        assert [rec.next_scan().text for _ in range(2)] == ["T-B22", "T-B23"]
    finally:
        scanner.stop()


def test_bytes_that_are_not_text_are_reported_with_their_bytes(device, running) -> None:
    _, rec = running
    device.send(b"AB\xff\xfeCD\rORD-3001\r")
    bad = rec.next_scan()
    assert bad.kind is ScanKind.INVALID
    assert bad.raw == b"AB\xff\xfeCD"
    assert "not text" in bad.reason
    assert rec.next_scan().text == "ORD-3001"  # the reader carried on


def test_ten_kb_burst_is_one_invalid_scan_and_reader_survives(device, running) -> None:
    _, rec = running
    device.send(b"9" * 10_240 + b"\r")
    device.send(b"ORD-4001\r")
    bad = rec.next_scan()
    assert bad.kind is ScanKind.INVALID
    assert "bytes" in bad.reason
    assert rec.next_scan().text == "ORD-4001"
    assert rec.no_more_scans()


def test_unplug_and_replug_reconnects_and_reports_status(device, running) -> None:
    _, rec = running
    device.send(b"ORD-5001\r")
    assert rec.next_scan().text == "ORD-5001"
    device.unplug()
    down = rec.wait_state(DeviceState.DISCONNECTED)
    assert "unplugged" in down.message
    device.plug()
    assert "reconnected" in rec.wait_state(DeviceState.WARNING).message
    device.send(b"ORD-5002\r")
    assert rec.next_scan().text == "ORD-5002"
    rec.wait_state(DeviceState.READY)  # first good scan after a reconnect clears the warning


def test_unplug_mid_scan_reports_the_partial_read(device, running) -> None:
    _, rec = running
    device.send(b"ORD-60")
    device.wait_drained()
    device.unplug()
    partial = rec.next_scan()
    assert partial.kind is ScanKind.INVALID
    assert partial.raw == b"ORD-60"
    assert "unplugged" in partial.reason


def test_scanner_missing_at_start_is_used_once_plugged_in(tmp_path) -> None:
    device = PtyScanner(tmp_path)
    device.unplug()
    try:
        scanner, rec = start(device)
        assert rec.wait_state(DeviceState.DISCONNECTED).state is DeviceState.DISCONNECTED
        device.plug()
        rec.wait_state(DeviceState.READY)
        device.send(b"BADGE-P001\r")
        assert rec.next_scan().kind is ScanKind.BADGE
        scanner.stop()
    finally:
        device.close()


def test_same_code_twice_quickly_is_flagged_duplicate_not_dropped(device) -> None:
    scanner, rec = start(device, guard=ScanGuard(blanking_s=0, double_scan_s=5))
    try:
        rec.wait_state(DeviceState.READY)
        device.send(b"ORD-7001\rORD-7001\r")
        first, second = rec.next_scan(), rec.next_scan()
        assert (first.duplicate, second.duplicate) == (False, True)
        assert not second.actionable
    finally:
        scanner.stop()


def test_scan_without_suffix_is_reported_not_held_forever(device) -> None:
    scanner, rec = start(device, stale_partial_s=0.2)
    try:
        rec.wait_state(DeviceState.READY)
        device.send(b"ORD-8001")
        scan = rec.next_scan()
        assert scan.kind is ScanKind.INVALID
        assert "suffix" in scan.reason
    finally:
        scanner.stop()
