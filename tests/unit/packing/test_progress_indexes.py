"""The per-value indexes that keep a scan cheap on big orders give the same answers as a
count over every unit (they are caches, never a second source of truth)."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from app.packing.gtin import normalise_gtin
from app.packing.progress import Box, PackedUnit, PackProgress
from app.packing.session import PackSession
from app.station.ports import OrderRecord
from app.station.present import order_parts
from tests.unit.packing.factories import (
    MUG,
    MUG_GTIN13,
    PHONE,
    SPARE,
    TOWEL,
    catalog,
    line,
    order,
    product,
)

ORDER = order(line(1, MUG, 3), line(2, TOWEL, 2), line(3, PHONE, 2), line(4, SPARE, 1))


def _counted(units: tuple[PackedUnit, ...]) -> dict[int, int]:
    out: dict[int, int] = {}
    for unit in units:
        out[unit.line_id] = out.get(unit.line_id, 0) + 1
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5), st.booleans()), max_size=30), st.integers(0, 3))
def test_box_counts_follow_every_added_unit(units: list[tuple[int, bool]], split: int) -> None:
    box = Box(1, "M")
    box.counts()  # a box that has counted once follows additions without counting again
    for n, (line_id, serial) in enumerate(units):
        box = box.with_unit(PackedUnit(line_id, f"S{n}" if serial else None))
    fresh = Box(1, "M", units=box.units)  # counts from scratch
    assert box.counts() == fresh.counts() == _counted(box.units)
    assert list(box.counts()) == list(dict.fromkeys(u.line_id for u in box.units))
    assert box.line_ids() == tuple(dict.fromkeys(u.line_id for u in box.units))
    assert box.has_serials == fresh.has_serials == any(u.serial for u in box.units)
    # replace() gives a new value that counts its own units, never the old value's counts
    fewer = replace(box, units=box.units[:split])
    assert fewer.counts() == _counted(box.units[:split])
    assert box == fresh and hash(box) == hash(fresh)  # caches are not part of the value


def test_progress_scanned_and_complete_over_several_boxes() -> None:
    rng = random.Random(5)
    boxes = []
    for box_no in (1, 2, 3):
        units = tuple(PackedUnit(rng.choice((1, 2, 3, 4))) for _ in range(rng.randint(0, 4)))
        boxes.append(Box(box_no, "M", units=units))
    progress = PackProgress(order=ORDER, boxes=tuple(boxes))
    for ln in ORDER.lines:
        expected = sum(1 for b in boxes for u in b.units if u.line_id == ln.line_id)
        assert progress.scanned(ln.line_id) == expected
        assert progress.remaining(ln.line_id) == max(0, ln.quantity - expected)
    assert progress.complete == all(
        progress.scanned(ln.line_id) >= ln.quantity for ln in ORDER.lines
    )
    full = PackProgress(
        order=ORDER,
        boxes=(
            Box(
                1,
                "M",
                units=tuple(
                    PackedUnit(ln.line_id) for ln in ORDER.lines for _ in range(ln.quantity)
                ),
            ),
        ),
    )
    assert full.complete and not PackProgress(order=ORDER, boxes=(Box(1, "M"),)).complete


def test_order_lines_by_id_and_gtin() -> None:
    assert ORDER.line(2) is ORDER.lines[1] and ORDER.line(99) is None
    for ln in ORDER.lines:
        for gtin in ln.gtins:
            key = normalise_gtin(gtin)
            assert key is not None and ORDER.lines_with_gtin14(key) == (ln,)
    assert ORDER.lines_with_gtin14("00000000000000") == ()
    twice = order(line(1, MUG, 1), line(2, MUG, 1))  # the same product on two lines
    key = normalise_gtin(MUG.gtins[0])
    assert key is not None and twice.lines_with_gtin14(key) == twice.lines


def test_screen_rows_are_reused_only_when_unchanged() -> None:
    session = PackSession(catalog())
    session.apply(session.open_order(ORDER))
    record = OrderRecord(view=ORDER, lease=None)
    first = order_parts(session, record, None)["lines"]
    again = order_parts(session, record, None, first)["lines"]  # type: ignore[arg-type]
    assert all(a is b for a, b in zip(first, again, strict=True))  # nothing changed
    session.apply(session.scan(product(MUG_GTIN13)))  # line 1: one more, and highlighted
    after = order_parts(session, record, 1, again)["lines"]  # type: ignore[arg-type]
    assert [a is b for a, b in zip(again, after, strict=True)] == [False, True, True, True]
    assert after == order_parts(session, record, 1)["lines"]  # the same as built afresh
    assert after[0].scanned == 1 and after[0].highlight  # type: ignore[index]
