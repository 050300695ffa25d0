"""Property-based tests: any bytes classify without an exception, valid GTINs round-trip."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.scanning.classify import classify
from app.scanning.scan import Scan, ScanKind
from tests.unit.scanning.test_classify import check_digit

AIM = st.sampled_from([b"", b"]E0", b"]C1", b"]d2", b"]Q3", b"]e0", b"]I1", b"]E4", b"]X9", b"]"])
GS1ISH = st.text(alphabet="0123456789\x1dABCDEF()-~", max_size=60).map(str.encode)


def _sane(scan: Scan, raw: bytes) -> None:
    assert isinstance(scan.kind, ScanKind)
    assert scan.raw == raw
    if scan.kind in (ScanKind.INVALID, ScanKind.UNKNOWN):
        assert scan.reason
        assert scan.gtin14 is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_always_classify(raw: bytes) -> None:
    _sane(classify(raw), raw)


@settings(max_examples=300, deadline=None)
@given(AIM, GS1ISH)
def test_gs1_like_strings_always_classify(aim: bytes, body: bytes) -> None:
    raw = aim + body
    scan = classify(raw)
    _sane(scan, raw)
    if scan.kind is ScanKind.GS1 and scan.gtin14:
        assert len(scan.gtin14) == 14


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([7, 11, 12, 13]).flatmap(
        lambda n: st.text("0123456789", min_size=n, max_size=n)
    )
)
def test_valid_gtin_is_product_and_any_other_check_digit_is_invalid(payload: str) -> None:
    good = payload + check_digit(payload)
    scan = classify(good.encode())
    assert (scan.kind, scan.gtin14) == (ScanKind.PRODUCT, good.zfill(14))
    wrong = payload + str((int(check_digit(payload)) + 1) % 10)
    assert classify(wrong.encode()).kind is ScanKind.INVALID
