"""The cycle-count core: a bin, its units (or a unit and its quantity), one event on confirm;
every bad scan is red and changes nothing."""

from __future__ import annotations

from app.counting.session import CountSession, CountState
from app.station.count_desk import count_entries
from sync.protocol import MutationType, StockCounted
from tests.support.text import en

PRODUCTS = {"MUG": ("MUG", "Mug"), "4006381333931": ("MUG", "Mug"), "PLATE": ("PLATE", "Plate")}


def session(online: bool = True) -> CountSession:
    return CountSession(PRODUCTS.get, lambda: online, packer_id=4)


def test_a_bin_counted_unit_by_unit_and_by_quantity_is_one_event() -> None:
    s = session()
    assert s.scan("PB:LOC:aisle-3").tone == "green"
    assert s.location == "AISLE-3"
    s.scan("MUG")
    s.scan("4006381333931")  # the same product by its GTIN
    assert en(s.scan("PLATE").message).startswith("PLATE Plate: 1 counted at AISLE-3")
    assert en(s.scan("PB:QTY:12").message).startswith("PLATE Plate: 12 counted")
    assert en(s.scan("PB:QTY:0").message).startswith("PLATE Plate: 0 counted")  # none after all
    step = s.scan("PB:CLOSE")
    assert step.tone == "green" and "It goes to the service now." in en(step.message)
    (event,) = step.events
    assert event.type is MutationType.STOCK_COUNTED and event.order_id is None
    assert isinstance(event.payload, StockCounted)
    assert event.payload.location == "AISLE-3" and event.payload.packer_id == 4
    assert [(x.sku, x.counted) for x in event.payload.lines] == [("MUG", 2), ("PLATE", 0)]
    assert s.state is CountState.BIN and s.counts == {}


def test_bad_scans_are_red_and_record_nothing() -> None:
    s = session()
    for text, start in (
        ("MUG", "MUG is not a bin label"),
        ("PB:QTY:3", "Scan a unit before its quantity"),
        ("PB:CLOSE", "PB:CLOSE is not a bin label"),
        ("PB:LOC:", "PB:LOC: is not a bin label"),
        ("PB:LOC:AISLE 3", "PB:LOC:AISLE 3 is not a bin label"),
        ("PB:FOO", "PB:FOO is not a count command"),
    ):
        step = s.scan(text)
        assert (step.tone, step.events) == ("red", ()), text
        assert en(step.message).startswith(start), (text, en(step.message))
    s.scan("PB:LOC:MAIN")
    for text, start in (
        ("PB:CLOSE", "Nothing was counted here yet"),
        ("NOPE", "NOPE is not a known product"),
        ("PB:LOC:B-GRADE", "Still counting MAIN"),
        ("PB:LOGOUT", "Still counting MAIN"),
    ):
        step = s.scan(text)
        assert (step.tone, step.events) == ("red", ()), text
        assert en(step.message).startswith(start), (text, en(step.message))
    s.scan("MUG")
    for text in ("PB:QTY:x", "PB:QTY:-1", "PB:QTY:1000001"):
        assert s.scan(text).tone == "red", text
    assert s.counts == {"MUG": 1}


def test_offline_says_queued_cancel_drops_the_bin_and_then_leaves() -> None:
    s = session(online=False)
    s.scan("PB:LOC:MAIN")
    s.scan("MUG")
    assert "Offline: it is queued" in en(s.scan("PB:CLOSE").message)
    s.scan("PB:LOC:MAIN")
    s.scan("MUG")
    dropped = s.scan("PB:CANCEL")
    assert en(dropped.message).startswith("Count of MAIN dropped") and not dropped.events
    assert s.scan("PB:CANCEL").leave


def test_every_printed_count_code_is_understood_by_count_mode() -> None:
    entries = count_entries()
    assert {e.value for e in entries} >= {"PB:COUNT", "PB:LOC:MAIN", "PB:QTY:0"}
    s = session()
    for entry in entries:
        assert not en(s.scan(entry.value).message).endswith("is not a count command."), entry


def test_the_count_codes_print_on_the_command_sheet_and_read_back() -> None:
    from datetime import UTC, datetime

    from app.printing.documents import CommandSheet
    from app.printing.layouts import command_sheet_pages
    from app.printing.pdf import render_pdf
    from tests.unit.printing.helpers import decoded, pdf_pages

    sheet = CommandSheet(printed_at=datetime(2026, 12, 4, tzinfo=UTC), extra=count_entries())
    found: set[str] = set()
    for page in pdf_pages(render_pdf(command_sheet_pages(sheet))):
        found |= decoded(page)
    assert {e.value for e in count_entries()} <= found
