"""Pure frame parsers: what each protocol's bytes mean to the packer."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.weighing import (
    ScaleCommandRejected,
    ScaleError,
    ScaleFault,
    ScaleProtocolError,
    UnknownUnit,
    WeightUnit,
)
from app.weighing.cas import parse_cas_line, split_cas_frame
from app.weighing.hidpos import parse_hid_pos_report
from app.weighing.mtsics import parse_mtsics_weight, split_mtsics_frame
from app.weighing.nci import parse_nci_frame, split_nci_frame
from app.weighing.toledo import parse_toledo_frame, split_toledo_frame


@pytest.mark.parametrize(
    ("frame", "grams", "stable", "flag"),
    [
        (b"S S     100.00 g", Decimal("100.00"), True, None),
        (b"S D       1.250 kg", Decimal("1250.000"), False, None),
        (b"S S      -3.00 g", Decimal("-3.00"), True, None),
        (b"S +", Decimal(0), False, "overload"),
        (b"S -", Decimal(0), False, "underload"),
    ],
)
def test_mtsics_weight_answers(frame, grams, stable, flag) -> None:
    reading = parse_mtsics_weight(frame)
    assert reading.grams == grams and reading.stable is stable
    if flag:
        assert getattr(reading, flag)


@pytest.mark.parametrize(
    ("frame", "error", "words"),
    [
        (b"ES", ScaleCommandRejected, "did not recognise"),
        (b"ET", ScaleCommandRejected, "baud rate"),
        (b"EL", ScaleCommandRejected, "cannot execute"),
        (b"S I", ScaleCommandRejected, "busy"),
        (b"S S 12 ct", UnknownUnit, "'ct'"),
        (b"S S abc g", ScaleProtocolError, "weight"),
    ],
)
def test_mtsics_errors_are_typed_and_worded(frame, error, words) -> None:
    with pytest.raises(error, match=words):
        parse_mtsics_weight(frame)


def test_mtsics_split_skips_noise_and_waits_for_the_rest() -> None:
    assert split_mtsics_frame(b"S S   1 g") == (None, b"S S   1 g", b"")
    frame, rest, dropped = split_mtsics_frame(b"\xffjunk\r\n#S S   1 g\r\nS D")
    assert frame == b"S S   1 g" and rest == b"S D" and b"junk" in dropped


def test_toledo_weight_and_status_records() -> None:
    assert parse_toledo_frame(b"002.50").grams == Decimal("1133.980925")
    assert parse_toledo_frame(b"001.00", WeightUnit.KG).grams == 1000
    assert not parse_toledo_frame(b"?a").stable  # 0x61: motion
    assert parse_toledo_frame(b"?b").overload  # 0x62: out of range
    assert parse_toledo_frame(b"?d").underload  # 0x64: under zero
    with pytest.raises(ScaleProtocolError):
        parse_toledo_frame(b"12x.4")
    assert split_toledo_frame(b"zz\x02001.00\rrest") == (b"001.00", b"rest", b"zz")


def test_nci_weight_status_and_lb_oz() -> None:
    reading = parse_nci_frame(b"0001.25kg\r\n00\r")
    assert reading.grams == 1250 and reading.stable
    assert parse_nci_frame(b"2lb 3.5oz\r\n00\r").grams == Decimal("35.5") * Decimal("28.349523125")
    assert not parse_nci_frame(b"10\r").stable  # byte 1 bit 0: motion
    assert parse_nci_frame(b"02\r").overload  # byte 2 bit 1: over capacity
    assert parse_nci_frame(b"01\r").underload
    with pytest.raises(ScaleFault, match="faulty calibration"):
        parse_nci_frame(b"08\r")
    with pytest.raises(ScaleCommandRejected):
        parse_nci_frame(b"?\r")
    assert split_nci_frame(b"x\n00\r\x03\n") == (b"00\r", b"\n", b"x")


def test_cas_lines() -> None:
    assert parse_cas_line(b"ST,GS,+  1.234kg").grams == 1234
    moving = parse_cas_line(b"US,NT,-  0.010kg")
    assert not moving.stable and moving.grams == -10
    assert parse_cas_line(b"ST,GS,01,+  250.0 g").grams == 250
    assert parse_cas_line(b"OL,GS,+       kg").overload
    frame, rest, dropped = split_cas_frame(b"GS,+1kg\r\nST,GS,+  1.000lb\r\n")
    assert frame == b"ST,GS,+  1.000lb" and dropped and rest == b""


@pytest.mark.parametrize(
    ("report", "grams", "stable", "flag"),
    [
        (bytes([3, 4, 2, 0, 0xE8, 0x03]), Decimal(1000), True, None),  # 1000 g stable
        (bytes([3, 2, 2, 0, 0, 0]), Decimal(0), True, "at_zero"),
        (bytes([3, 3, 2, 0, 0x10, 0]), Decimal(16), False, None),  # in motion
        (
            bytes([3, 4, 11, 0xFF, 0x2C, 0x01]),
            Decimal("30.0") * Decimal("28.349523125"),
            True,
            None,
        ),
        (bytes([3, 4, 12, 0xFE, 0xFA, 0x00]), Decimal("2.50") * Decimal("453.59237"), True, None),
        (bytes([3, 5, 2, 0, 0x05, 0]), Decimal(-5), False, "underload"),
        (bytes([3, 6, 3, 0, 0, 0]), Decimal(0), False, "overload"),
    ],
)
def test_hid_pos_reports(report, grams, stable, flag) -> None:
    reading = parse_hid_pos_report(report)
    assert reading is not None
    assert reading.grams == grams and reading.stable is stable
    if flag:
        assert getattr(reading, flag)


def test_hid_pos_other_reports_faults_and_units() -> None:
    assert parse_hid_pos_report(bytes([4, 0, 0, 0, 0, 0])) is None
    with pytest.raises(ScaleFault):
        parse_hid_pos_report(bytes([3, 1, 2, 0, 0, 0]))
    with pytest.raises(UnknownUnit, match="unit code 4"):
        parse_hid_pos_report(bytes([3, 4, 4, 0, 1, 0]))  # carats
    with pytest.raises(ScaleProtocolError):
        parse_hid_pos_report(b"\x03\x04")


@given(st.binary(max_size=40))
def test_untrusted_bytes_never_crash_a_parser_with_an_untyped_error(data: bytes) -> None:
    for parse in (
        parse_mtsics_weight,
        parse_toledo_frame,
        parse_nci_frame,
        parse_cas_line,
        parse_hid_pos_report,
    ):
        with contextlib.suppress(ScaleError):  # typed errors are the expected outcome
            parse(data)
