"""Each serial protocol driven through its pty emulator, as the packer would experience it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from app.weighing import (
    ScaleCommandRejected,
    ScaleCommandUnsupported,
    ScaleDisconnected,
    ScaleFault,
    ScaleProtocolError,
    ScaleTimeout,
    UnknownUnit,
)
from app.weighing.cas import CasScale
from app.weighing.mtsics import MtSicsScale
from app.weighing.nci import NciScale
from app.weighing.serial_base import SerialScaleDriver
from app.weighing.toledo import ToledoScale
from tests.support.scale_emulators import (
    CasEmulator,
    MtSicsEmulator,
    NciEmulator,
    PtyScaleEmulator,
    ToledoEmulator,
)

PAIRS = {
    "mtsics": (MtSicsEmulator, MtSicsScale, "g"),
    "toledo": (ToledoEmulator, ToledoScale, "lb"),
    "nci": (NciEmulator, NciScale, "lb"),
    "cas": (CasEmulator, CasScale, "kg"),
}
GRAMS_PER = {"g": Decimal(1), "kg": Decimal(1000), "lb": Decimal("453.59237")}


def settle(emu: PtyScaleEmulator) -> None:
    """Let a streaming scale (CAS) write two frames after a change: the second was made after
    it, whatever the first was. A fixed sleep failed on a loaded machine (no new frame yet).
    A polled scale answers each request as it is then: nothing to wait for."""
    if isinstance(emu, CasEmulator):
        sent = emu.frames_sent
        deadline = time.monotonic() + 5
        while emu.frames_sent < sent + 2 and time.monotonic() < deadline:
            time.sleep(0.005)


@pytest.fixture(params=sorted(PAIRS))
def rig(request: pytest.FixtureRequest) -> Iterator[tuple[PtyScaleEmulator, SerialScaleDriver]]:
    emu_cls, drv_cls, unit = PAIRS[request.param]
    emu = emu_cls(weight=Decimal("2.50"), unit=unit)
    driver = drv_cls(emu.port, timeout_s=0.25)
    driver.open()
    yield emu, driver
    driver.close()
    emu.close()


def test_stable_weight_is_converted_exactly_to_grams(rig) -> None:
    emu, driver = rig
    reading = driver.read()
    assert reading.stable and reading.is_weight
    assert reading.grams == Decimal("2.50") * GRAMS_PER[emu.unit]


def test_moving_scale_is_reported_as_moving_not_as_a_weight(rig) -> None:
    emu, driver = rig
    emu.moving = True
    settle(emu)  # CAS streams: a moving frame
    reading = driver.read()
    assert not reading.stable and not reading.is_weight
    assert "still moving" in str(reading.describe())


def test_overload_is_flagged(rig) -> None:
    emu, driver = rig
    emu.overload = True
    settle(emu)
    reading = driver.read()
    assert reading.overload and not reading.is_weight
    assert "overloaded" in str(reading.describe())


def test_negative_weight_is_never_a_weight(rig) -> None:
    emu, driver = rig
    emu.weight = Decimal("-0.40")
    settle(emu)
    reading = driver.read()
    assert not reading.is_weight
    assert "negative weight" in str(reading.describe())


def test_noise_before_a_frame_is_skipped(rig) -> None:
    emu, driver = rig
    emu.garbage = b"\x00\xfe#@!"
    settle(emu)
    reading = driver.read()
    assert reading.grams == Decimal("2.50") * GRAMS_PER[emu.unit]


def test_frame_split_across_reads_is_reassembled(rig) -> None:
    emu, driver = rig
    emu.split = True
    settle(emu)
    assert driver.read().grams == Decimal("2.50") * GRAMS_PER[emu.unit]


def test_silent_scale_says_it_does_not_answer(rig) -> None:
    emu, driver = rig
    emu.silent = True
    time.sleep(0.05)
    if isinstance(driver, CasScale):  # forget what was streamed before it went quiet
        driver._port.reset_input_buffer()
        driver._buffer = b""
    with pytest.raises(ScaleTimeout, match="does not answer"):
        driver.read()


def test_unplug_mid_read_raises_disconnected(rig) -> None:
    emu, driver = rig
    emu.unplug_on_command = True
    with pytest.raises(ScaleDisconnected, match="plugged in"):
        for _ in range(3):  # CAS: a buffered whole frame may come first
            driver.read()


def test_garbage_only_is_a_protocol_error_not_a_timeout() -> None:
    with MtSicsEmulator() as emu:
        emu.answer = lambda command: b"\xff\xfe junk that is not MT-SICS\r\n"  # type: ignore[method-assign]
        driver = MtSicsScale(emu.port, timeout_s=0.2)
        driver.open()
        with pytest.raises(ScaleProtocolError, match="not MT-SICS"):
            driver.read()
        driver.close()


# --- MT-SICS specifics ----------------------------------------------------------------------
@pytest.fixture
def mt() -> Iterator[tuple[MtSicsEmulator, MtSicsScale]]:
    emu = MtSicsEmulator(weight=Decimal("812.4"))
    driver = MtSicsScale(emu.port, timeout_s=0.25)
    driver.open()
    yield emu, driver
    driver.close()
    emu.close()


def test_mtsics_unit_change_to_pounds(mt) -> None:
    emu, driver = mt
    emu.weight, emu.unit = Decimal("1.5"), "lb"
    assert driver.read().grams == Decimal("680.388555")


def test_mtsics_unknown_unit_is_refused(mt) -> None:
    emu, driver = mt
    emu.unit = "ct"
    with pytest.raises(UnknownUnit, match="'ct'"):
        driver.read()


def test_mtsics_underload_and_busy(mt) -> None:
    emu, driver = mt
    emu.underload = True
    assert driver.read().underload
    emu.underload, emu.busy = False, True
    with pytest.raises(ScaleCommandRejected, match="busy"):
        driver.read()


def test_mtsics_zero_and_tare(mt) -> None:
    emu, driver = mt
    with pytest.raises(ScaleCommandRejected, match="above its zero range"):
        driver.zero()
    emu.weight = Decimal("3.1")
    driver.zero()
    assert driver.read().at_zero
    emu.weight = Decimal(250)
    driver.tare()
    assert driver.read().grams == 0
    emu.moving = True
    with pytest.raises(ScaleCommandRejected, match="still moving"):
        driver.zero()


# --- Toledo / NCI / CAS specifics ---------------------------------------------------------------
def test_toledo_zero_and_no_tare() -> None:
    with ToledoEmulator(weight=Decimal("0.20"), unit="lb") as emu:
        driver = ToledoScale(emu.port, timeout_s=0.25)
        driver.open()
        driver.zero()
        assert driver.read().at_zero
        emu.weight = Decimal(5)
        with pytest.raises(ScaleCommandRejected, match="did not zero"):
            driver.zero()
        with pytest.raises(ScaleCommandUnsupported, match="Tare on the scale"):
            driver.tare()
        driver.close()


def test_nci_fault_and_zero() -> None:
    with NciEmulator(weight=Decimal("1.00"), unit="kg") as emu:
        driver = NciScale(emu.port, timeout_s=0.25)
        driver.open()
        assert driver.read().grams == 1000
        driver.zero()
        assert driver.status().at_zero
        emu.ram_error = True
        with pytest.raises(ScaleFault, match="RAM error"):
            driver.read()
        driver.close()


def test_cas_reports_the_newest_frame_not_a_stale_one() -> None:
    with CasEmulator(weight=Decimal("1.000"), interval_s=0.01) as emu:
        driver = CasScale(emu.port, timeout_s=0.25)
        driver.open()
        time.sleep(0.1)  # frames pile up unread
        emu.weight = Decimal("2.000")
        settle(emu)
        assert driver.read().grams == 2000
        with pytest.raises(ScaleCommandUnsupported):
            driver.zero()
        driver.close()
