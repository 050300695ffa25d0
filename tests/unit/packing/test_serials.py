"""A serial number must look like one: never a product code, a piece of one, or too short."""

from __future__ import annotations

import pytest

from app.packing.model import DictCatalog, LineView, OrderView, ProductRef
from app.packing.serials import check_serial
from app.packing.session import PackSession
from app.packing.step import Outcome
from app.scanning.scan import ScanKind
from tests.support.text import en
from tests.unit.packing.factories import (
    MUG,
    PHONE,
    PHONE_GTIN14,
    Station,
    gs1,
    kind,
    line,
    order,
    product,
)

SPEAKER = ProductRef(5, "SPK-BT-MINI", "Mini Speaker", 300, True, ("4012345678901",), ())
SOCKS = ProductRef(6, "SCK-MRN-4346", "Merino Socks", 90, False, (), ("MRN4346",))
SCANNER = ProductRef(
    7, "HHS-200", "Hand Scanner", 250, True, ("4012345678918",), (), serial_pattern=r"HS\d{8}"
)
BROKEN = ProductRef(8, "ODD-1", "Odd Thing", 10, True, (), (), serial_pattern=r"([")


def catalogue() -> DictCatalog:
    return DictCatalog([MUG, PHONE, SPEAKER, SOCKS, SCANNER, BROKEN])


def lv(ref: ProductRef) -> LineView:
    return LineView(
        line_id=ref.product_id * 10,
        sku=ref.sku,
        name=ref.name,
        quantity=1,
        product_id=ref.product_id,
        serial_required=True,
        gtins=ref.gtins,
        aliases=ref.aliases,
        serial_pattern=ref.serial_pattern,
    )


def judge(text: str, ref: ProductRef = PHONE, scan_kind: ScanKind = ScanKind.UNKNOWN):
    the_line = lv(ref)
    return check_serial(text, scan_kind, the_line, order(the_line), catalogue())


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("-MINI", "-MINI is only part of the product code SPK-BT-MINI: the scan was cut short."),
        ("RN-4346", "RN-4346 is only part of the product code SCK-MRN-4346"),
        ("PHONE-X", "PHONE-X is the product code of Phone X, not a serial number."),
        ("mug-blue", "mug-blue is the product code of Blue Mug, not a serial number."),
        ("BM-01", "BM-01 is the product code of Blue Mug"),  # an alias
        ("4006381333931", "4006381333931 is the product code of Blue Mug"),  # a GTIN
        ("X7Q", "X7Q is too short for a serial number (at least 5 characters)."),
        ("/AB123", "/AB123 does not look like a serial number of Phone X."),
    ],
)
def test_fragments_codes_and_short_reads_are_refused_with_the_reason(text, why) -> None:
    verdict = judge(text)
    assert verdict.serial is None
    assert en(verdict.refusal).startswith(why)
    assert en(verdict.refusal).endswith("Scan the serial number of Phone X.")


@pytest.mark.parametrize(
    ("scan_kind", "name"),
    [
        (ScanKind.ORDER, "an order number"),
        (ScanKind.COMMAND, "a command barcode"),
        (ScanKind.BADGE, "a badge"),
        (ScanKind.TOTE, "a tote code"),
    ],
)
def test_station_codes_are_not_serials(scan_kind: ScanKind, name: str) -> None:
    verdict = judge("ORD-100123", scan_kind=scan_kind)
    assert en(verdict.refusal).startswith(f"That is {name}, not a serial number.")


def test_a_real_serial_passes_the_default_pattern() -> None:
    assert judge("SN-0001").serial == "SN-0001"
    assert judge(" R2D2-77/A ").serial == "R2D2-77/A"


def test_the_catalogue_pattern_decides_for_its_product() -> None:
    assert judge("HS12345678", SCANNER).serial == "HS12345678"
    refused = judge("AB12345678", SCANNER)
    assert en(refused.refusal).startswith("AB12345678 does not look like a serial number of Hand")
    # the pattern may allow short serials; the default minimum is only for products without
    short = ProductRef(9, "TAG-1", "Tag", 1, True, (), (), serial_pattern=r"T\d{2}")
    assert judge("T42", short).serial == "T42"


def test_a_broken_catalogue_pattern_falls_back_to_the_default() -> None:
    assert judge("SN-0001", BROKEN).serial == "SN-0001"
    assert judge("-MIN", BROKEN).serial is None


def test_the_fragment_seen_in_the_field_is_refused_in_a_pack_session() -> None:
    """SPK-BT-MINI split in two once: its tail was accepted as another product's serial."""
    station = Station(session=PackSession(catalogue(), packer_id=5))
    station.open(order(line(13, PHONE, 1)))
    station.scan(product(PHONE_GTIN14))
    before = station.session.progress
    step = station.scan(kind("-MINI", ScanKind.UNKNOWN))
    assert (step.outcome, step.tone) == (Outcome.NOT_A_SERIAL, "red")
    assert "cut short" in en(step.message)
    assert station.session.progress is before and step.events == ()
    order_scan = station.scan(kind("ORD-100555", ScanKind.ORDER))
    assert order_scan.outcome is Outcome.NOT_A_SERIAL
    assert en(order_scan.message).startswith("That is an order number, not a serial number.")
    accepted = station.scan(product("SN-77812"))
    assert accepted.outcome is Outcome.ACCEPTED
    assert accepted.events[0].payload.serial == "SN-77812"


def test_order_view_line_carries_the_pattern() -> None:
    the_line = lv(SCANNER)
    assert OrderView(1, "1", "allocated", (the_line,)).line(70) == the_line


def test_a_gs1_serial_is_held_to_the_catalogue_pattern() -> None:
    station = Station(session=PackSession(catalogue(), packer_id=5))
    station.open(order(lv(SCANNER)))
    wrong = station.scan(gs1("04012345678918", serial="XX1"))
    assert (wrong.outcome, wrong.tone) == (Outcome.NOT_A_SERIAL, "red")
    assert en(wrong.message).startswith("XX1 does not look like a serial number of Hand Scanner.")
    right = station.scan(gs1("04012345678918", serial="HS12345678"))
    assert right.outcome is Outcome.ACCEPTED
    assert right.events[0].payload.serial == "HS12345678"
    the_line = lv(SCANNER)
    from app.packing.serials import check_gs1_serial

    assert check_gs1_serial("HS12345678", the_line).serial == "HS12345678"
    refused = check_gs1_serial("XX1", the_line)
    assert en(refused.refusal).startswith("XX1 does not look like a serial number of Hand Scanner.")
    assert check_gs1_serial("X", lv(PHONE)).serial == "X"  # no pattern: the field decides
