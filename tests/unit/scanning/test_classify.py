"""Classification of real barcode contents and of bad input."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.scanning.classify import ScanRules, classify
from app.scanning.errors import ScannerError
from app.scanning.scan import ScanKind

GS = b"\x1d"


def check_digit(payload: str) -> str:
    """GS1 mod-10 check digit for a GTIN/SSCC payload."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return str((10 - total % 10) % 10)


@pytest.mark.parametrize(
    ("raw", "kind", "text"),
    [
        (b"ORD-100123", ScanKind.ORDER, "ORD-100123"),
        (b"T-A17", ScanKind.TOTE, "T-A17"),
        (b"BADGE-P001", ScanKind.BADGE, "BADGE-P001"),
        (b"PB:CLOSE", ScanKind.COMMAND, "PB:CLOSE"),
        (b"PB:NEW-BOX", ScanKind.COMMAND, "PB:NEW-BOX"),
        (b"PBX12345678901", ScanKind.TRACKING, "PBX12345678901"),
        (b"1Z999AA10123456784", ScanKind.TRACKING, "1Z999AA10123456784"),
        (b"RR123456785DE", ScanKind.TRACKING, "RR123456785DE"),
        (b"SKU-RED/42", ScanKind.PRODUCT, "SKU-RED/42"),
        (b"ORD-100123\r\n", ScanKind.ORDER, "ORD-100123"),
    ],
)
def test_station_barcodes(raw: bytes, kind: ScanKind, text: str) -> None:
    scan = classify(raw, source="wedge")
    assert (scan.kind, scan.text, scan.source) == (kind, text, "wedge")
    assert scan.actionable


@pytest.mark.parametrize(
    ("raw", "symbology", "gtin14"),
    [
        (b"]E04006381333931", "]E0", "04006381333931"),  # EAN-13
        (b"4006381333931", None, "04006381333931"),  # EAN-13 without AIM id
        (b"]E0036000291452", "]E0", "00036000291452"),  # UPC-A
        (b"]E496385074", "]E4", "00000096385074"),  # EAN-8
        (b"]I110012345678902", "]I1", "10012345678902"),  # ITF-14
        (b"]E001234565", "]E0", "00012345000065"),  # UPC-E, expanded
    ],
)
def test_retail_codes_are_products_with_gtin14(raw, symbology, gtin14) -> None:
    scan = classify(raw)
    assert (scan.kind, scan.symbology, scan.gtin14) == (ScanKind.PRODUCT, symbology, gtin14)
    assert scan.raw == raw


def test_gs1_128_with_fnc1_separators() -> None:
    scan = classify(b"]C1" + b"0109506000134352" + b"10ABC123" + GS + b"17250131" + b"3103001234")
    assert scan.kind is ScanKind.GS1
    assert scan.symbology == "]C1"
    assert scan.gtin14 == "09506000134352"
    assert scan.ais == {"01": "09506000134352", "10": "ABC123", "17": "250131", "3103": "001234"}
    assert scan.ai_values == {"17": date(2025, 1, 31), "3103": Decimal("1.234")}


def test_gs1_datamatrix_with_lot_expiry_serial() -> None:
    raw = b"]d2" + b"0109506000134352" + b"17261130" + b"10LOT-7" + GS + b"21SN0042"
    scan = classify(raw)
    assert (scan.kind, scan.symbology) == (ScanKind.GS1, "]d2")
    assert scan.ais["10"] == "LOT-7"
    assert scan.ais["21"] == "SN0042"
    assert scan.ais["11" if "11" in scan.ais else "17"] == "261130"


def test_gs1_with_leading_fnc1_and_no_aim_id() -> None:
    scan = classify(GS + b"0109506000134352" + b"10B1" + GS + b"11240115")
    assert scan.kind is ScanKind.GS1
    assert scan.ai_values["11"] == date(2024, 1, 15)


def test_gs1_human_readable_form() -> None:
    scan = classify(b"(01)09506000134352(10)LOT1")
    assert (scan.kind, scan.gtin14, scan.ais["10"]) == (ScanKind.GS1, "09506000134352", "LOT1")


def test_scanner_that_substitutes_a_character_for_gs() -> None:
    rules = ScanRules(gs1_separators=("\x1d", "~"))
    scan = classify(b"]C10109506000134352" + b"10LOT~" + b"21SN1", rules=rules)
    assert scan.kind is ScanKind.GS1
    assert scan.ais == {"01": "09506000134352", "10": "LOT", "21": "SN1"}
    # Without the rule, "~" is read as part of the lot number, which GS1 does not allow.
    assert classify(b"]C10109506000134352" + b"10LOT~" + b"21SN1").kind is ScanKind.INVALID


def test_sscc_bare_and_as_gs1() -> None:
    payload = "37613032110910342"
    sscc = payload + check_digit(payload)
    bare = classify(sscc.encode())
    assert (bare.kind, bare.ais) == (ScanKind.SSCC, {"00": sscc})
    label = classify(b"]C100" + sscc.encode())
    assert (label.kind, label.ais["00"]) == (ScanKind.SSCC, sscc)


@pytest.mark.parametrize(
    "raw",
    [
        b"4006381333932",  # EAN-13, last digit wrong
        b"]E0036000291453",  # UPC-A
        b"]I110012345678903",  # ITF-14
        b"]C10109506000134353" + b"10LOT",  # GTIN inside GS1
        b"376130321109103421",  # SSCC
    ],
)
def test_wrong_check_digit_is_invalid_with_reason(raw: bytes) -> None:
    scan = classify(raw)
    assert scan.kind is ScanKind.INVALID
    assert scan.gtin14 is None
    assert "check digit" in scan.reason
    assert not scan.actionable


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"]C1010950600013", "incomplete"),  # truncated GS1
        (b"]d2" + b"0109506000134352" + b"17", "incomplete"),  # AI without its value
        (b"ORD-10\x0723", "control character"),
        (b"ABC\x00DEF", "control character"),
        (b"\xff\xfe\xfa", "not text"),
        (b"7" * 10_240, "bytes long"),
        (b"", "Nothing was read"),
        (b"\r\n", "Nothing was read"),
    ],
)
def test_bad_input_is_invalid_with_a_sentence(raw: bytes, words: str) -> None:
    scan = classify(raw)
    assert scan.kind is ScanKind.INVALID
    assert words in scan.reason
    assert scan.reason.endswith(".")
    assert scan.raw == raw


def test_unknown_text_says_why() -> None:
    scan = classify(b"hello world!")
    assert scan.kind is ScanKind.UNKNOWN
    assert "hello world!" in scan.reason


def test_custom_rules_change_what_is_an_order() -> None:
    rules = ScanRules(order=r"^SO\d{6}$")
    assert classify(b"SO123456", rules=rules).kind is ScanKind.ORDER
    assert classify(b"ORD-1234", rules=rules).kind is ScanKind.PRODUCT  # now just SKU-shaped


def test_bad_rule_is_a_scanner_error_naming_the_pattern() -> None:
    with pytest.raises(ScannerError, match="order pattern"):
        ScanRules(order="^(ORD")


def test_raw_hex_for_the_test_page() -> None:
    assert classify(b"]E0").raw_hex == "5d 45 30"
