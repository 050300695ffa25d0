"""Properties over random packer behaviour: scans are untrusted, the rules must hold anyway."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.packing.errors import PackingError
from app.packing.events import PackEvent
from app.packing.progress import PackProgress, replay
from app.packing.step import Step
from app.scanning.scan import Scan, ScanKind
from sync.protocol import HoldReason
from tests.support.text import en

from .factories import (
    MIXED_ORDER,
    MUG_GTIN13,
    PHONE_GTIN14,
    SPARE_GTIN13,
    TOWEL_GTIN8,
    Station,
    gs1,
    kind,
    product,
)

KNOWN_SCANS = [
    product(MUG_GTIN13),
    product("mug-blue"),
    product(TOWEL_GTIN8.zfill(13)),
    product(PHONE_GTIN14),
    product(SPARE_GTIN13),
    product("SN-0001"),
    product("SN-0002"),
    gs1(PHONE_GTIN14, serial="SN-0001"),
    gs1(PHONE_GTIN14, serial="SN-0003"),
    gs1(None, serial="SN-0004"),
    kind("ORD-1001", ScanKind.ORDER),
    kind("ORD-2", ScanKind.ORDER),
    kind("BADGE-S1", ScanKind.BADGE),
    kind("1Z999", ScanKind.TRACKING),
    kind("garbage", ScanKind.INVALID, "Wrong check digit."),
    *(
        kind(text, ScanKind.COMMAND)
        for text in (
            "PB:CLOSE",
            "PB:NEW-BOX",
            "PB:REWEIGH",
            "PB:CANCEL",
            "PB:BOX:S",
            "PB:BOX:NOPE",
            "PB:HOLD",
            "PB:HOLD:SHORT-PICK",
            "PB:REPRINT",
            "PB:WHAT",
        )
    ),
]

random_scans = st.builds(
    lambda text, scan_kind: Scan(raw=text.encode(), text=text, kind=scan_kind),
    st.text(max_size=30),
    st.sampled_from(list(ScanKind)),
)


def _weigh_right(station: Station) -> Step:
    expected = station.session.expected_grams()
    return station.session.weight(expected or 500)


ACTIONS: dict[str, Callable[[Station], Step]] = {
    "weigh_right": _weigh_right,
    "weigh_wrong": lambda s: s.session.weight(99_999),
    "label": lambda s: (
        s.session.label_printed(s.session.progress.box.box_no)
        if s.session.progress.boxes
        else s.session.close()
    ),
    "reprint": lambda s: s.session.label_printed(1, reprint=True, reason="smudged"),
    "override_weight": lambda s: s.session.override(9, "checked on the bench"),
    "override_serial": lambda s: s.session.override(9, "no label", "serial"),
    "hold": lambda s: s.session.hold(HoldReason.ADDRESS_PROBLEM),
    "release": lambda s: s.session.release_claim(),
    "reopen": lambda s: s.session.open_order(MIXED_ORDER),
}

# Mostly the moves of a packer who knows the job, so runs reach weighing, labels and
# close; random scans and holds are mixed in as the untrusted part.
HELPFUL = [
    *[("scan", product(MUG_GTIN13))] * 4,
    *[("scan", product(TOWEL_GTIN8))] * 2,
    ("scan", product(PHONE_GTIN14)),
    ("scan", product("SN-0001")),
    *[("weigh_right", None)] * 3,
    *[("label", None)] * 3,
    ("scan", kind("PB:CLOSE", ScanKind.COMMAND)),
    ("scan", kind("PB:NEW-BOX", ScanKind.COMMAND)),
]
SCRIPT: list[tuple[str, Scan | None]] = [
    ("scan", product(MUG_GTIN13)),
    ("scan", kind("PB:NEW-BOX", ScanKind.COMMAND)),
    ("weigh_right", None),
    ("label", None),
    ("scan", product(MUG_GTIN13)),
    ("scan", product(TOWEL_GTIN8)),
    ("scan", product(PHONE_GTIN14)),
    ("scan", product("SN-0001")),
    ("weigh_wrong", None),
    ("override_weight", None),
    ("label", None),
    ("scan", kind("PB:CLOSE", ScanKind.COMMAND)),
]
serial_scans = st.integers(1, 4).map(lambda n: ("scan", gs1(PHONE_GTIN14, serial=f"SN-{n}")))
helpful = st.sampled_from(HELPFUL)
moves = st.one_of(
    helpful,
    helpful,
    helpful,
    helpful,
    serial_scans,
    st.sampled_from(KNOWN_SCANS).map(lambda scan: ("scan", scan)),
    random_scans.map(lambda scan: ("scan", scan)),
    st.sampled_from(sorted(ACTIONS)).map(lambda name: (name, None)),
)


def _recorded_facts(progress: PackProgress) -> object:
    """What a restore must give back: items, serials, labels, holds; and weights of boxes
    already done (the box being weighed may have an unrecorded reweigh or type choice)."""
    done = progress.boxes[:-1]
    return (
        progress.order,
        [(box.box_no, box.units, box.labelled) for box in progress.boxes],
        [(box.box_type, box.weight_grams) for box in done],
        progress.hold_reason,
        progress.packed,
    )


def _check_step(station: Station, step: Step) -> None:
    before = station.session.progress
    assert step.base is before
    assert en(step.message) and en(step.message).endswith((".", "?"))
    if step.tone == "red":
        assert step.progress is before, step.outcome  # bad input changes nothing
    for recorded in step.events:  # every event survives the outbox round trip
        again = PackEvent.from_record(
            recorded.type.value, recorded.order_id, recorded.payload_json(), recorded.lease_epoch
        )
        assert again == recorded


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(SCRIPT)), st.lists(moves, max_size=30))
def test_random_packing_keeps_every_rule(
    script_len: int, random_moves: list[tuple[str, Scan | None]]
) -> None:
    # Start from some point of a correct two-box run, so random moves hit every state.
    moves_made = SCRIPT[:script_len] + random_moves
    station = Station()
    station.open(MIXED_ORDER)
    order_start = 0  # events of the order currently open start here in the outbox
    for name, scan in moves_made:
        try:
            step = station.session.scan(scan) if scan is not None else ACTIONS[name](station)
        except PackingError as error:
            assert str(error).endswith(".")
            continue
        _check_step(station, step)
        event(f"{step.state.value}/{step.outcome.value}")
        if step.outcome.value in ("order_opened", "released"):
            order_start = len(station.outbox) + len(step.events)
        station.do(step)
        progress = station.session.progress
        if progress.order is None:
            continue
        for line in progress.order.lines:
            assert progress.scanned(line.line_id) <= line.quantity  # never over-packed
        serials = [u.serial for b in progress.boxes for u in b.units if u.serial]
        assert len(serials) == len(set(serials))
        restored = replay(progress.order, station.outbox[order_start:], "M")
        assert _recorded_facts(restored) == _recorded_facts(progress)


@settings(max_examples=200, deadline=None)
@given(random_scans)
def test_any_scan_in_an_open_order_gets_an_answer_never_an_exception(scan: Scan) -> None:
    station = Station()
    station.open(MIXED_ORDER)
    step = station.session.scan(scan)
    _check_step(station, step)
