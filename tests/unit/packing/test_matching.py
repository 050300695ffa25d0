"""Item codes: every GTIN length, GS1 element strings, SKUs and aliases find the same product."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.packing.gtin import gtin_check_digit, normalise_gtin
from app.packing.matching import MatchKind, match_scan
from app.packing.model import DictCatalog, LineView, ProductRef
from app.scanning.classify import classify
from app.scanning.scan import ScanKind

from .factories import (
    MIXED_ORDER,
    MUG_GTIN13,
    SPARE_GTIN13,
    TOWEL_GTIN8,
    Station,
    catalog,
    gs1,
    kind,
    order,
    product,
)


@pytest.mark.parametrize(
    "code",
    [
        TOWEL_GTIN8,  # GTIN-8 as printed
        TOWEL_GTIN8.zfill(12),  # the same GTIN as a UPC-A (GTIN-12)
        TOWEL_GTIN8.zfill(13),  # ... as an EAN-13
        TOWEL_GTIN8.zfill(14),  # ... as a GTIN-14
        "TOWEL-1",  # SKU
        "towel-1",  # SKU in the wrong case (Caps Lock on a wedge scanner)
    ],
)
def test_every_gtin_length_and_the_sku_match_the_same_line(code: str) -> None:
    station = Station()
    station.open(MIXED_ORDER)
    step = station.scan_text(code)
    assert (step.outcome.value, step.line_id) == ("accepted", 12)


def test_gs1_element_string_with_lot_and_expiry_matches_by_ai01() -> None:
    # Through the real classifier, which types AI 17 as a date; AI 10 (variable) comes last.
    scan = classify(f"]C101{MUG_GTIN13.zfill(14)}1727123110LOT-7".encode())
    match = match_scan(MIXED_ORDER, catalog(), scan)
    assert match.kind is MatchKind.IN_ORDER
    assert [line.line_id for line in match.lines] == [11]
    assert (match.lot, match.expiry, match.serial) == ("LOT-7", date(2027, 12, 31), None)


@pytest.mark.parametrize(
    ("scan", "expected"),
    [
        (product(SPARE_GTIN13), MatchKind.NOT_IN_ORDER),
        (product("sp9"), MatchKind.NOT_IN_ORDER),
        (product("4006381333938"), MatchKind.UNKNOWN),  # wrong check digit: not a GTIN
        (product("0000000000000"), MatchKind.UNKNOWN),
        (kind("FREE TEXT", ScanKind.UNKNOWN), MatchKind.UNKNOWN),
        (gs1(None, serial="X"), MatchKind.NO_PRODUCT_CODE),
    ],
)
def test_codes_that_are_not_in_the_order(scan, expected) -> None:
    assert match_scan(MIXED_ORDER, catalog(), scan).kind is expected


def test_a_numeric_sku_that_is_also_a_valid_gtin_still_matches_as_sku() -> None:
    numeric = LineView(1, "96385074", "Odd SKU", 1, 9)
    assert match_scan(order(numeric), DictCatalog(), product("96385074")).kind is MatchKind.IN_ORDER


def test_a_gtin_only_the_catalogue_knows_still_finds_the_order_line() -> None:
    bare = LineView(1, "MUG-BLUE", "Blue Mug", 1, product_id=1)  # cached without GTINs
    cat = DictCatalog([ProductRef(1, "MUG-BLUE", gtins=(MUG_GTIN13,))])
    match = match_scan(order(bare), cat, product(MUG_GTIN13))
    assert match.kind is MatchKind.IN_ORDER


# ---------------------------------------------------------------- GTIN normalisation

bodies = st.integers(min_value=0).map(str)


@given(st.sampled_from([7, 11, 12, 13]), st.data())
def test_any_valid_gtin_normalises_to_the_zero_padded_gtin14(body_len: int, data) -> None:
    body = data.draw(st.text("0123456789", min_size=body_len, max_size=body_len))
    gtin = body + str(gtin_check_digit(body))
    assert normalise_gtin(gtin) == gtin.zfill(14)
    assert normalise_gtin(gtin.zfill(14)) == gtin.zfill(14)


@given(st.text("0123456789", min_size=7, max_size=13), st.integers(1, 9))
def test_a_wrong_check_digit_is_never_a_gtin(body: str, off: int) -> None:
    wrong = body + str((gtin_check_digit(body) + off) % 10)
    assert normalise_gtin(wrong) is None


@given(st.text(max_size=20))
def test_normalise_gtin_accepts_any_text_without_raising(text: str) -> None:
    result = normalise_gtin(text)
    assert result is None or (len(result) == 14 and result.isascii() and result.isdigit())
