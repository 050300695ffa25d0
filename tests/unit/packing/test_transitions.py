"""Which actions each pack state allows; everything else is an `IllegalTransition`."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.packing.errors import IllegalTransition, OrderNotPackable, ReasonRequired, StaleStep
from app.packing.progress import PackState
from app.packing.session import PackSession
from app.packing.step import Outcome, Step
from sync.protocol import ExceptionRaised, HoldReason
from tests.support.text import en

from .factories import MUG_GTIN13, MUG_ORDER, Station, order, product

MUG_BOX = 3 * 350 + 250


def _reach(name: str) -> Station:
    """A station whose session is in the named situation, reached by the normal flow."""
    station = Station()
    if name == "idle":
        return station
    station.open(MUG_ORDER)
    if name == "order_open":
        return station
    station.scan_text(MUG_GTIN13)
    if name == "verifying":
        return station
    if name == "held":
        station.do(station.session.hold(HoldReason.DAMAGED_ITEM))
        return station
    if name == "sealed":  # PB:NEW-BOX with items still to scan
        station.do(station.session.new_box())
        return station
    station.scan_text(MUG_GTIN13)
    station.scan_text(MUG_GTIN13)
    if name == "verified":
        return station
    if name == "weighing":  # an out-of-tolerance reading waits for reweigh or override
        station.weigh(MUG_BOX * 2)
        return station
    station.weigh(MUG_BOX)
    if name == "labelling":
        return station
    station.label()
    if name == "labelled":
        return station
    station.close()
    assert name == "packed"
    return station


SITUATIONS = {
    "idle": PackState.IDLE,
    "order_open": PackState.ORDER_OPEN,
    "verifying": PackState.VERIFYING,
    "sealed": PackState.WEIGHING,
    "verified": PackState.VERIFIED,
    "weighing": PackState.WEIGHING,
    "labelling": PackState.LABELLING,
    "labelled": PackState.LABELLING,
    "packed": PackState.PACKED,
    "held": PackState.HELD,
}
OPEN = {"order_open", "verifying", "sealed", "verified", "weighing", "labelling", "labelled"}

ACTIONS: dict[str, tuple[Callable[[PackSession], Step], set[str]]] = {
    "open_order": (lambda s: s.open_order(MUG_ORDER), {"idle", "packed", "held"}),
    "restore": (lambda s: s.restore(MUG_ORDER, ()), {"idle", "packed", "held"}),
    "new_box": (lambda s: s.new_box("S"), {"verifying"}),
    "set_box_type": (
        lambda s: s.set_box_type("L"),
        {"order_open", "verifying", "sealed", "verified", "weighing"},
    ),
    "weight": (lambda s: s.weight(MUG_BOX), {"sealed", "verified", "weighing"}),
    "reweigh": (lambda s: s.reweigh(), {"sealed", "weighing", "labelling"}),
    "override": (lambda s: s.override(9, "checked by hand"), {"weighing"}),
    "label_printed": (lambda s: s.label_printed(1), {"labelling"}),
    "reprint": (
        lambda s: s.label_printed(1, reprint=True, reason="smudged"),
        {"labelled", "packed"},
    ),
    "close": (lambda s: s.close(), {"labelled"}),
    "hold": (lambda s: s.hold(HoldReason.SHORT_PICK), OPEN),
    "release_claim": (lambda s: s.release_claim(), {"order_open", "held"}),
    "cancel": (lambda s: s.cancel(), {"sealed"}),
}


def test_situations_are_the_states_they_claim() -> None:
    for name, state in SITUATIONS.items():
        assert _reach(name).session.state is state, name


@pytest.mark.parametrize("situation", list(SITUATIONS))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_action_is_allowed_exactly_where_the_flow_says(situation: str, action: str) -> None:
    run, allowed = ACTIONS[action]
    session = _reach(situation).session
    before = session.progress
    if situation in allowed:
        step = run(session)
        assert step.tone in ("green", "amber")
        assert en(step.message).endswith(".")
    else:
        with pytest.raises(IllegalTransition) as raised:
            run(session)
        error = raised.value
        assert error.state == session.state.value
        # The view shows the text as is: one plain sentence that says what to do.
        assert str(error) and str(error)[0].isupper() and str(error).endswith(".")
    assert session.progress is before  # computing a step never changes the session


@pytest.mark.parametrize("situation", sorted(OPEN))
@pytest.mark.parametrize("reason", list(HoldReason))
def test_hold_is_reachable_from_every_open_state(situation: str, reason: HoldReason) -> None:
    station = _reach(situation)
    step = station.do(station.session.hold(reason, "parcel crushed"))
    assert (step.state, step.outcome, step.tone) == (PackState.HELD, Outcome.HELD, "amber")
    (event,) = step.events
    assert event.payload == ExceptionRaised(reason=reason, text="parcel crushed", packer_id=5)
    released = station.do(station.session.release_claim())
    assert released.state is PackState.IDLE
    assert released.events[0].type.value == "claim_released"


def test_hold_for_other_reason_needs_a_text() -> None:
    session = _reach("verifying").session
    with pytest.raises(ReasonRequired):
        session.hold(HoldReason.OTHER, "   ")


def test_override_needs_a_reason() -> None:
    session = _reach("weighing").session
    with pytest.raises(ReasonRequired):
        session.override(9, "ok")


def test_a_step_can_be_applied_only_once_and_only_to_the_progress_it_came_from() -> None:
    station = _reach("order_open")
    step = station.session.scan(product(MUG_GTIN13))
    station.session.apply(step)
    with pytest.raises(StaleStep):
        station.session.apply(step)
    first = station.session.scan(product(MUG_GTIN13))
    second = station.session.scan(product(MUG_GTIN13))
    station.session.apply(second)
    with pytest.raises(StaleStep):
        station.session.apply(first)
    assert station.session.progress.scanned(11) == 2


def test_close_says_what_is_missing() -> None:
    station = _reach("verifying")
    with pytest.raises(IllegalTransition, match="Scan the 2 missing items"):
        station.session.close()
    station = _reach("labelling")
    with pytest.raises(IllegalTransition, match="The label for box 1 is still printing"):
        station.session.close()


def test_first_label_must_be_for_the_current_box() -> None:
    session = _reach("labelling").session
    with pytest.raises(IllegalTransition, match="box 1"):
        session.label_printed(2)


def test_orders_that_cannot_be_packed_are_refused() -> None:
    session = Station().session
    with pytest.raises(OrderNotPackable, match="cancelled"):
        session.open_order(order(*MUG_ORDER.lines, status="cancelled"))
    with pytest.raises(OrderNotPackable, match="no items"):
        session.open_order(order())
