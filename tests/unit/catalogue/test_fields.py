"""Parsing single catalogue values: units, GTINs, patterns, URLs, CSV cells."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.catalogue.csv_file import read_catalogue
from service.catalogue.fields import (
    FieldError,
    parse_bool,
    parse_dimensions,
    parse_gtin,
    parse_pattern,
    parse_url,
    parse_weight,
)


@pytest.mark.parametrize(
    ("text", "grams"),
    [("250 g", 250), ("0.25 kg", 250), ("0,25kg", 250), ("1 lb", 454), ("8 oz", 227),
     ("2 LBS", 907), ("", None)],
)  # fmt: skip
def test_weights_in_every_unit_become_grams(text: str, grams: int | None) -> None:
    assert parse_weight(text) == grams


@pytest.mark.parametrize("text", ["250", "3 stone", "1.5.2 kg", "-1 kg", "kg"])
def test_a_weight_without_a_known_unit_is_refused(text: str) -> None:
    with pytest.raises(FieldError) as err:
        parse_weight(text)
    assert err.value.field == "weight"


@given(st.integers(min_value=0, max_value=10**6))
def test_grams_and_kilograms_agree(grams: int) -> None:
    kilograms = Decimal(grams) / 1000
    assert parse_weight(f"{grams} g") == grams
    assert parse_weight(f"{kilograms} kg") == grams


def test_dimensions_take_one_unit_for_all_three() -> None:
    assert parse_dimensions("30x20x10 cm") == (300, 200, 100)
    assert parse_dimensions("12 × 9 × 1.5 in") == (305, 229, 38)
    for bad in ("30x20 cm", "30x20x10", "30x20x10 ft"):
        with pytest.raises(FieldError):
            parse_dimensions(bad)


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_every_gtin13_with_its_check_digit_is_accepted_and_no_other_digit(body: str) -> None:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    check = (10 - total % 10) % 10
    assert parse_gtin(body + str(check)) == "0" + body + str(check)
    wrong = (check + 1) % 10
    with pytest.raises(FieldError, match="check digit"):
        parse_gtin(body + str(wrong))


def test_patterns_urls_and_yes_no() -> None:
    assert parse_pattern("SN[0-9]{8}") == "SN[0-9]{8}"
    assert parse_pattern("  ") is None
    with pytest.raises(FieldError, match="not a valid regular expression"):
        parse_pattern("SN[0-9")
    assert parse_url("https://cdn.example.com/a.jpg") == "https://cdn.example.com/a.jpg"
    for bad in ("ftp://x/a.jpg", "cdn.example.com/a.jpg", "https:///a.jpg"):
        with pytest.raises(FieldError):
            parse_url(bad)
    assert (parse_bool("Yes", "x"), parse_bool("0", "x"), parse_bool("", "x")) == (
        True,
        False,
        False,
    )
    with pytest.raises(FieldError):
        parse_bool("maybe", "serial_required")


def test_a_csv_with_a_bom_semicolons_and_quoted_cells_reads_like_any_other() -> None:
    data = '\ufeffsku;name;gtins\n"A-1";"Mug; blue";"4006381333931 | 96385074"\n\n'.encode()
    parsed = read_catalogue(data)
    assert parsed.problems == []
    [change] = parsed.changes
    assert (change.sku, change.row) == ("A-1", 2)
    assert change.values == {
        "name": "Mug; blue",
        "gtins": ["04006381333931", "00000096385074"],
    }


def test_a_row_with_a_stray_separator_is_named() -> None:
    parsed = read_catalogue(b"sku,name\nA-1,Mug,extra\n")
    assert [str(p) for p in parsed.problems] == [
        "row 2: more cells than the header has columns (a stray separator?)."
    ]
