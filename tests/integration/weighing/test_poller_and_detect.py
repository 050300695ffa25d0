"""Polling thread (callbacks, status, reconnect) and protocol auto-detection over ptys."""

from __future__ import annotations

import os
import threading
import time
from decimal import Decimal

import pytest

from app.device_status import DeviceKind, DeviceState, DeviceStatus
from app.weighing import ScalePoller, ScaleReading, detect_scale, open_scale
from app.weighing.mtsics import MtSicsScale
from tests.support.scale_emulators import (
    CasEmulator,
    MtSicsEmulator,
    NciEmulator,
    ToledoEmulator,
)


def wait_for(predicate, timeout_s: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_poller_reports_readings_and_status_through_callbacks() -> None:
    readings: list[ScaleReading] = []
    statuses: list[DeviceStatus] = []
    with MtSicsEmulator(weight=Decimal(950)) as emu:
        driver = open_scale(f"mtsics+serial://{emu.port}?timeout=0.2")
        poller = ScalePoller(driver, readings.append, statuses.append, interval_s=0.01)
        poller.start()
        try:
            assert wait_for(lambda: len(readings) >= 3)
            assert readings[-1].grams == 950
            assert statuses[0].kind is DeviceKind.SCALE
            assert statuses[0].state is DeviceState.READY
            emu.silent = True
            assert wait_for(lambda: statuses[-1].state is DeviceState.ERROR)
            assert "does not answer" in statuses[-1].message
            emu.silent = False
            assert wait_for(lambda: statuses[-1].state is DeviceState.READY)
        finally:
            poller.stop()
    assert poller.cpu_seconds > 0


def test_poller_reports_unplug_and_keeps_retrying() -> None:
    statuses: list[DeviceStatus] = []
    emu = MtSicsEmulator(weight=Decimal(10))
    driver = MtSicsScale(emu.port, timeout_s=0.2)
    driver.open()
    poller = ScalePoller(
        driver, lambda r: None, statuses.append, interval_s=0.01, reconnect_s=(0.02, 0.05)
    )
    poller.start()
    try:
        assert wait_for(lambda: bool(statuses) and statuses[-1].state is DeviceState.READY)
        emu.unplug()
        assert wait_for(lambda: statuses[-1].state is DeviceState.DISCONNECTED)
        assert "plugged in" in statuses[-1].message
    finally:
        poller.stop()
        emu.close()


def test_a_failing_callback_does_not_stop_the_scale_thread() -> None:
    calls = threading.Event()
    count = [0]

    def explode(reading: ScaleReading) -> None:
        count[0] += 1
        if count[0] >= 2:
            calls.set()
        raise RuntimeError("view bug")

    with MtSicsEmulator(weight=Decimal(1)) as emu:
        poller = ScalePoller(MtSicsScale(emu.port, timeout_s=0.2), explode, interval_s=0.01)
        poller._driver.open()
        poller.start()
        try:
            assert calls.wait(2)
        finally:
            poller.stop()


@pytest.mark.parametrize(
    ("emulator", "expected"),
    [
        (MtSicsEmulator, "mtsics"),
        (ToledoEmulator, "toledo"),
        (NciEmulator, "nci"),
        (CasEmulator, "cas"),
    ],
)
def test_detection_names_the_protocol_that_answers(emulator, expected) -> None:
    with emulator(weight=Decimal(1)) as emu:
        found = detect_scale(emu.port, timeout_s=0.15)
        assert found is not None
        assert found.url == f"{expected}+serial://{emu.port}"
        # Read-only probing: nothing was zeroed or tared.
        assert not any(cmd.strip() in (b"Z", b"T") for cmd in emu.received)
        assert emu.weight == 1


def test_detection_on_a_silent_port_finds_nothing() -> None:
    master, slave = os.openpty()
    try:
        assert detect_scale(os.ttyname(slave), timeout_s=0.1) is None
    finally:
        os.close(master)
        os.close(slave)
