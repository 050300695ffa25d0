"""The returns-bench core: every scan gets a state, a tone, one sentence, and events only
when something is really booked in."""

from __future__ import annotations

import pytest

from app.returns.commands import NotAReturnCommand, ReturnCommandName, parse
from app.returns.session import ReturnSession, ReturnState
from sync.protocol import (
    Disposition,
    MutationType,
    ReturnClosed,
    ReturnLineInfo,
    ReturnLookup,
    ReturnReason,
    ReturnUnitReceived,
)
from tests.support.text import en

MUG_EAN = "4006381333931"


def parcel(code: str | None = "RMA-000007", mug_returned: int = 0) -> ReturnLookup:
    return ReturnLookup(
        order_id=42,
        order_number="ORD-100042",
        return_code=code,
        return_status="expected" if code else None,
        lines=[
            ReturnLineInfo(
                line_id=1,
                sku="MUG",
                name="Mug",
                shipped=2,
                returned=mug_returned,
                expected=2,
                gtins=[MUG_EAN.zfill(14)],
                aliases=["MUG-OLD"],
            ),
            ReturnLineInfo(line_id=2, sku="PLATE", name="Plate", shipped=1, returned=0, expected=0),
        ],
    )


def opened(lookup: ReturnLookup | None = None) -> ReturnSession:
    session = ReturnSession(packer_id=5)
    step = session.scan("JJD0099887766")
    assert (step.tone, step.lookup, step.events) == ("amber", "JJD0099887766", ())
    assert session.state is ReturnState.LOOKING_UP
    lookup = lookup or parcel()
    step = session.looked_up(lookup)
    rma = lookup.return_code or "not announced"
    assert step.tone == "green"
    assert en(step.message) == f"Return of order ORD-100042 ({rma}): scan each unit."
    return session


def test_one_unit_restocked_and_one_written_off_then_closed() -> None:
    session = opened()
    step = session.scan(MUG_EAN)  # by its EAN-13
    assert (step.tone, step.events) == ("amber", ())
    assert en(step.message) == "MUG Mug: scan PB:RESTOCK, PB:BGRADE or PB:WRITEOFF."
    step = session.scan("pb:restock")
    assert (
        step.tone == "green"
        and en(step.message) == "MUG restocked. Scan the next unit or PB:CLOSE."
    )
    (event,) = step.events
    assert event.type is MutationType.RETURN_UNIT_RECEIVED and event.order_id == 42
    assert event.payload == ReturnUnitReceived(
        return_code="RMA-000007",
        line_id=1,
        disposition=Disposition.RESTOCK,
        code=MUG_EAN,
        packer_id=5,
    )
    session.scan("mug-old")  # by an alias
    step = session.scan("PB:WRITEOFF:DAMAGED")
    assert en(step.message) == "MUG written off (damaged). Scan the next unit or PB:CLOSE."
    assert step.events[0].payload.reason is ReturnReason.DAMAGED  # type: ignore[union-attr]
    step = session.scan("PB:CLOSE")
    assert step.tone == "green"
    assert en(step.message) == (
        "Return of order ORD-100042 closed: 1 restocked, 1 written off. Scan the next parcel."
    )
    assert step.events[0].payload == ReturnClosed(return_code="RMA-000007", packer_id=5)
    assert session.state is ReturnState.WAITING and session.parcel is None


@pytest.mark.parametrize(
    ("scans", "message"),
    [
        (
            ["BOWL"],
            "BOWL is not in order ORD-100042. Put it aside for a supervisor; nothing was recorded.",
        ),
        (["PB:BGRADE"], "Scan a unit before its disposition; nothing was recorded."),
        (
            ["MUG", "PB:RESTOCK", "MUG", "PB:RESTOCK", "MUG"],
            "Order ORD-100042 shipped 2 of MUG, and all of them are back already; "
            "nothing was recorded.",
        ),
        (
            ["MUG", "PLATE"],
            "Choose what happens to the MUG first: PB:RESTOCK, PB:BGRADE or PB:WRITEOFF.",
        ),
        (["MUG", "PB:CLOSE"], "Choose a disposition for the last unit before closing."),
        (["PB:FROBNICATE"], "PB:FROBNICATE is not a returns command. Use the sheet."),
        (["PB:RESTOCK:DAMAGED"], "PB:RESTOCK:DAMAGED is not a returns command. Use the sheet."),
    ],
)
def test_bad_input_is_red_with_one_sentence_and_records_nothing(
    scans: list[str], message: str
) -> None:
    session = opened()
    *before, last = scans
    for text in before:
        session.scan(text)
    state = session.state
    step = session.scan(last)
    assert (step.tone, en(step.message), step.events) == ("red", message, ())
    assert session.state is state


def test_units_already_back_count_against_what_was_shipped() -> None:
    session = opened(parcel(mug_returned=2))
    step = session.scan("MUG")
    assert step.tone == "red" and "all of them are back already" in en(step.message)


def test_a_disposition_before_any_parcel_and_an_unknown_code_at_the_service() -> None:
    session = ReturnSession()
    step = session.scan("PB:WRITEOFF")
    assert (step.tone, step.events) == ("red", ())
    session.scan("RMA-999999")
    step = session.lookup_failed("There is no return RMA-999999.")
    assert (step.tone, en(step.message)) == ("red", "There is no return RMA-999999.")
    assert session.state is ReturnState.WAITING
    step = session.scan("PB:CLOSE")
    assert step.tone == "red" and step.events == ()


def test_an_unannounced_parcel_cannot_be_closed_empty_but_can_be_left() -> None:
    session = opened(parcel(code=None))
    step = session.scan("PB:CLOSE")
    assert (step.tone, en(step.message)) == (
        "red",
        "No unit was booked in. Scan a unit, or PB:CANCEL.",
    )
    session.scan("MUG")
    assert en(session.scan("PB:CANCEL").message) == "Unit put back. Scan the next unit or PB:CLOSE."
    assert session.scan("PB:CANCEL").tone == "amber"
    assert session.state is ReturnState.WAITING
    assert session.scan("PB:CANCEL").leave is True


def test_command_parsing_is_strict() -> None:
    assert parse("ORD-1") is None
    assert parse("pb:b-grade:wrong-item").name is ReturnCommandName.BGRADE  # type: ignore[union-attr]
    for text in ("PB:WRITEOFF:", "PB:WRITEOFF:BROKEN", "PB:CLOSE:NOW"):
        with pytest.raises(NotAReturnCommand):
            parse(text)


def test_every_printed_returns_code_is_understood_by_returns_mode() -> None:
    from app.station.returns_desk import return_entries

    entries = return_entries()
    assert {e.value for e in entries} >= {"PB:RETURNS", "PB:RESTOCK", "PB:WRITEOFF:NOT-OURS"}
    for entry in entries:
        assert parse(entry.value) is not None
