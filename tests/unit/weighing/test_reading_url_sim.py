"""Units, device URLs, the simulator and manual entry."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.weighing import (
    BadScaleUrl,
    ManualEntryNotAllowed,
    ManualScale,
    ScaleDisconnected,
    ScaleError,
    ScaleReading,
    ScaleTimeout,
    SimulatedScale,
    UnknownUnit,
    WeightUnit,
    parse_unit,
    scale_from_url,
)
from app.weighing.mtsics import MtSicsScale
from app.weighing.reading import from_grams, to_grams
from app.weighing.toledo import ToledoScale


def test_units_convert_exactly() -> None:
    assert to_grams(Decimal(1), WeightUnit.LB) == Decimal("453.59237")
    assert to_grams(Decimal(16), WeightUnit.OZ) == Decimal("453.592370000")
    assert to_grams(Decimal("1.5"), WeightUnit.KG) == 1500
    assert ScaleReading(Decimal("0.0005"), WeightUnit.KG, stable=True).whole_grams == 1


@given(st.decimals(min_value=0, max_value=100000, places=3))
def test_kg_round_trip_is_exact(grams: Decimal) -> None:
    assert to_grams(from_grams(grams, WeightUnit.KG), WeightUnit.KG) == grams


def test_unknown_unit_says_which() -> None:
    assert parse_unit(" LB ") is WeightUnit.LB
    with pytest.raises(UnknownUnit, match="'tael'"):
        parse_unit("tael")


def test_serial_urls() -> None:
    d = scale_from_url("mtsics+serial:///dev/ttyUSB0?baudrate=19200")
    assert isinstance(d, MtSicsScale)
    assert d.port_name == "/dev/ttyUSB0" and d.settings.baudrate == 19200
    assert d.settings.xonxoff  # MT-SICS factory default handshake
    t = scale_from_url("toledo+serial://COM3?unit=kg")
    assert isinstance(t, ToledoScale) and t.port_name == "COM3"
    assert (t.settings.bytesize, t.settings.parity) == (7, "E") and t.unit is WeightUnit.KG
    assert scale_from_url("hidpos://0922:8003").url == "hidpos://0922:8003"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("scale://x", "unknown scale type"),
        ("mtsics+tcp://host", "unknown scale type"),
        ("nci+serial://", "no serial port"),
        ("cas+serial:///dev/ttyS0?baud=9600", "unknown option baud"),
        ("cas+serial:///dev/ttyS0?baudrate=fast", "not a number"),
        ("hidpos://dymo", "hex"),
        ("", "unknown scale type"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, words: str) -> None:
    with pytest.raises(BadScaleUrl, match=words):
        scale_from_url(url)


def test_manual_entry_only_where_permitted() -> None:
    with pytest.raises(ManualEntryNotAllowed, match="not permitted"):
        scale_from_url("manual")
    manual = scale_from_url("manual", allow_manual=True)
    assert isinstance(manual, ManualScale)
    with pytest.raises(ScaleTimeout, match="type the parcel weight"):
        manual.read()
    reading = manual.enter("1.2", WeightUnit.KG)
    assert reading.manual and reading.stable and reading.grams == 1200
    with pytest.raises(ScaleError, match="above zero"):
        manual.enter("-3")


def test_simulator_settles_after_the_configured_time() -> None:
    now = [100.0]
    sim = SimulatedScale(settle_s=0.5, clock=lambda: now[0])
    with pytest.raises(ScaleDisconnected):
        sim.read()
    sim.open()
    sim.set_weight(812)
    assert not sim.read().stable
    now[0] += 0.6
    assert sim.read().stable and sim.read().grams == 812
    sim.moving = True
    assert not sim.read().stable
    sim.moving, sim.overloaded = False, True
    assert sim.read().overload
    sim.overloaded, sim.silent = False, True
    with pytest.raises(ScaleTimeout):
        sim.read()
    sim.silent = False
    sim.zero()
    assert sim.read().grams == 0
    assert scale_from_url("sim://?grams=250&settle=0").url == "sim://?grams=250&settle=0"
