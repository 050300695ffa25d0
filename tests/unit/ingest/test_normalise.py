"""Normalisation tables: postcodes per country (good and bad), countries, phones, SKUs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.ingest.normalise import (
    POSTCODE_COUNTRIES,
    normalise_country,
    normalise_phone,
    normalise_postcode,
    normalise_sku,
    phones_deferred,
)

GOOD_POSTCODES = [
    ("DE", "10178", "10178"),
    ("DE", " 01067 ", "01067"),
    ("DE", "D-10178", "10178"),
    ("NL", "1012lg", "1012 LG"),
    ("NL", "1012 LG", "1012 LG"),
    ("BE", "1000", "1000"),
    ("BE", "B-9000", "9000"),
    ("FR", "75008", "75008"),
    ("FR", "F-75008", "75008"),
    ("IT", "00184", "00184"),
    ("ES", "28013", "28013"),
    ("ES", "52001", "52001"),
    ("AT", "1010", "1010"),
    ("AT", "A-1010", "1010"),
    ("CZ", "11000", "110 00"),
    ("CZ", "110 00", "110 00"),
    ("SK", "81101", "811 01"),
    ("PL", "00-950", "00-950"),
    ("PL", "00950", "00-950"),
    ("RO", "010011", "010011"),
    ("HU", "1051", "1051"),
    ("GB", "SW1A 1AA", "SW1A 1AA"),
    ("GB", "sw1a1aa", "SW1A 1AA"),
    ("GB", "M1 1AE", "M1 1AE"),
    ("GB", "B33 8TH", "B33 8TH"),
    ("GB", "CR2 6XH", "CR2 6XH"),
    ("GB", "EC1A 1BB", "EC1A 1BB"),
    ("US", "90210", "90210"),
    ("US", "90210-1234", "90210-1234"),
    ("US", "902101234", "90210-1234"),
    ("CH", "8001", "8001"),  # no rule: accepted as typed
]

BAD_POSTCODES = [
    ("DE", "1017"),
    ("DE", "101788"),
    ("DE", "ABCDE"),
    ("NL", "0123 AB"),  # never starts with 0
    ("NL", "1012 SS"),  # SA/SD/SS are not issued
    ("NL", "1012"),
    ("BE", "0999"),
    ("BE", "10000"),
    ("FR", "7500"),
    ("IT", "0018"),
    ("ES", "53001"),  # provinces end at 52
    ("ES", "00123"),
    ("AT", "0100"),
    ("AT", "10100"),
    ("CZ", "1100"),
    ("SK", "811 011"),
    ("PL", "00-95"),
    ("PL", "000-950"),
    ("RO", "01001"),
    ("HU", "0123"),
    ("GB", "SW1A"),
    ("GB", "12345"),
    ("GB", "SW1A 1A"),
    ("US", "9021"),
    ("US", "90210-12"),
    ("US", "ABCDE"),
    ("DE", ""),
    ("CH", ""),
]


@pytest.mark.parametrize(("country", "raw", "expected"), GOOD_POSTCODES)
def test_good_postcodes_are_normalised(country: str, raw: str, expected: str) -> None:
    assert normalise_postcode(country, raw) == expected


@pytest.mark.parametrize(("country", "raw"), BAD_POSTCODES)
def test_bad_postcodes_are_refused(country: str, raw: str) -> None:
    assert normalise_postcode(country, raw) is None


def test_every_required_country_has_a_rule() -> None:
    required = {"DE", "NL", "BE", "FR", "IT", "ES", "AT", "CZ", "SK", "PL", "RO", "HU", "GB", "US"}
    assert required <= POSTCODE_COUNTRIES


@given(st.sampled_from(sorted(POSTCODE_COUNTRIES)), st.text(max_size=20))
def test_postcode_normalisation_never_raises_and_is_idempotent(country: str, raw: str) -> None:
    once = normalise_postcode(country, raw)
    if once is not None:
        assert normalise_postcode(country, once) == once


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("DE", "DE"),
        ("de", "DE"),
        (" Germany ", "DE"),
        ("Deutschland", "DE"),
        ("DEU", "DE"),
        ("UK", "GB"),
        ("United Kingdom", "GB"),
        ("GBR", "GB"),
        ("The Netherlands", "NL"),
        ("NLD", "NL"),
        ("Czech Republic", "CZ"),
        ("Czechia", "CZ"),
        ("Österreich", "AT"),
        ("USA", "US"),
        ("United States", "US"),
        ("Polska", "PL"),
        ("ch", "CH"),
    ],
)
def test_countries_to_alpha2(raw: str, expected: str) -> None:
    assert normalise_country(raw) == expected


@pytest.mark.parametrize("raw", ["", None, "XX", "Narnia", "EU", "001", "D"])
def test_unknown_countries_are_none(raw: str | None) -> None:
    assert normalise_country(raw) is None


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("030 901820", "DE", "+4930901820"),
        ("+49 30 901820", None, "+4930901820"),
        ("0049 30 901820", "DE", "+4930901820"),
        ("020 555 0123", "NL", "+31205550123"),
        ("06 12345678", "NL", "+31612345678"),
        ("020 7946 0018", "GB", "+442079460018"),
        ("(202) 555-0143", "US", "+12025550143"),
        ("601 123 456", "CZ", "+420601123456"),
        ("+48 22 123 45 67", "DE", "+48221234567"),  # explicit country code wins
    ],
)
def test_phones_to_e164(raw: str, region: str | None, expected: str) -> None:
    assert normalise_phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region"),
    [("123", "DE"), ("", "DE"), (None, "DE"), ("not a phone", "DE"), ("030 901820", None)],
)
def test_invalid_phones_are_none(raw: str | None, region: str | None) -> None:
    assert normalise_phone(raw, region) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" mug-350-blu ", "MUG-350-BLU"), ("\tplate-24\n", "PLATE-24"), (None, "")],
)
def test_sku_upper_and_stripped(raw: str | None, expected: str) -> None:
    assert normalise_sku(raw) == expected


def test_a_number_read_again_in_another_country_is_read_anew() -> None:
    # Remembered answers are per (number, country): Berlin's 030 is no Austrian number.
    assert normalise_phone("030 901820", "DE") == "+4930901820"
    assert normalise_phone("030 901820", "AT") is None
    assert normalise_phone("030 901820", None) is None
    assert normalise_phone(" 030 901820", "DE") == "+4930901820"
    assert normalise_phone("030 901820", "DE") == "+4930901820"


def test_phones_deferred_leaves_numbers_out_only_inside_its_block() -> None:
    with phones_deferred():
        assert normalise_phone("030 901820", "DE") is None
    assert normalise_phone("030 901820", "DE") == "+4930901820"
