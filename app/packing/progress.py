"""Immutable pack progress and the reducer that rebuilds it from recorded events.

The live session computes events first and then folds them with `apply_event`, so a
progress restored from the event log after a crash is the same progress by construction.
Each closed box's label waits until the last box is weighed (a box closed while items remain
opens the next box at once), so a label can say "parcel 1 of 2". Only prompts that are never
recorded (a serial being asked for, a box sealed with PB:NEW-BOX but not yet
weighed, the type chosen for the box being filled) are lost.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from app.packing.events import PackEvent
from app.packing.model import OrderView
from sync.protocol import (
    ExceptionRaised,
    HoldReason,
    LabelPrinted,
    OverrideGranted,
    ParcelClosed,
    ScanOutcome,
    ScanRecorded,
    WeightRecorded,
)

log = logging.getLogger(__name__)


class PackState(StrEnum):
    IDLE = "idle"
    ORDER_OPEN = "order_open"
    VERIFYING = "verifying"
    VERIFIED = "verified"
    WEIGHING = "weighing"
    LABELLING = "labelling"
    PACKED = "packed"
    HELD = "held"


OPEN_STATES = frozenset(
    {
        PackState.ORDER_OPEN,
        PackState.VERIFYING,
        PackState.VERIFIED,
        PackState.WEIGHING,
        PackState.LABELLING,
    }
)


@dataclass(frozen=True, slots=True)
class PackedUnit:
    """One item put in a box, with its serial number where one was captured."""

    line_id: int
    serial: str | None = None


@dataclass(frozen=True, slots=True)
class Box:
    """One parcel of the order: its items in scan order, type, weight and label."""

    box_no: int
    box_type: str
    units: tuple[PackedUnit, ...] = ()
    sealed: bool = False  # no more items go in: PB:NEW-BOX or a weighing started
    weight_grams: int | None = None  # the accepted weight
    rejected_grams: int | None = None  # out of tolerance, awaiting a reweigh or an override
    labelled: bool = False
    manual: bool = False  # the last weight was typed in, not read from a scale
    # Units per line, worked out once per Box value (a box of an order with hundreds of lines
    # and thousands of units is asked per line on every scan); never set by callers.
    _counts: dict[int, int] | None = field(default=None, init=False, repr=False, compare=False)
    _serials: bool = field(default=False, init=False, repr=False, compare=False)

    def counts(self) -> dict[int, int]:
        """Units per line id in this box, in first-scanned order (do not modify the dict)."""
        counts = self._counts
        if counts is None:
            counts = {}
            for unit in self.units:
                counts[unit.line_id] = counts.get(unit.line_id, 0) + 1
            object.__setattr__(self, "_counts", counts)
            object.__setattr__(self, "_serials", any(u.serial is not None for u in self.units))
        return counts

    @property
    def has_serials(self) -> bool:
        """Whether any unit in the box carries a serial number."""
        self.counts()
        return self._serials

    def quantity(self, line_id: int) -> int:
        """How many units of the line are in this box."""
        return self.counts().get(line_id, 0)

    def with_unit(self, unit: PackedUnit) -> Box:
        """This box with one more unit; its per-line counts follow without a recount."""
        box = replace(self, units=(*self.units, unit))
        if self._counts is not None:
            counts = dict(self._counts)
            counts[unit.line_id] = counts.get(unit.line_id, 0) + 1
            object.__setattr__(box, "_counts", counts)
            object.__setattr__(box, "_serials", self._serials or unit.serial is not None)
        return box

    def line_ids(self) -> tuple[int, ...]:
        """Lines present in this box, in first-scanned order."""
        return tuple(self.counts())

    def serials(self, line_id: int) -> list[str]:
        """Serials captured for the line in this box."""
        return [u.serial for u in self.units if u.line_id == line_id and u.serial is not None]


@dataclass(frozen=True, slots=True)
class PendingSerial:
    """An item scan waiting for its serial number; it is not counted until the serial comes."""

    line_id: int
    code: str


@dataclass(frozen=True, slots=True)
class PackProgress:
    """Everything the session knows about the open order; a new value on every change."""

    order: OrderView | None = None
    boxes: tuple[Box, ...] = ()
    hold_reason: HoldReason | None = None
    hold_text: str = ""
    packed: bool = False
    pending_serial: PendingSerial | None = None
    next_box_type: str | None = None  # chosen with PB:NEW-BOX for the box after this one
    # Worked out once per value (the state is asked many times per scan); never set by callers.
    _scanned: dict[int, int] | None = field(default=None, init=False, repr=False, compare=False)
    _complete: bool | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def state(self) -> PackState:
        """The pack state, derived from the progress so the two can never disagree."""
        if self.order is None or not self.boxes:
            return PackState.IDLE
        if self.packed:
            return PackState.PACKED
        if self.hold_reason is not None:
            return PackState.HELD
        box = self.boxes[-1]
        if box.weight_grams is not None:
            return PackState.LABELLING  # the last box is weighed: every box gets its label
        if box.sealed or box.rejected_grams is not None:
            return PackState.WEIGHING
        if self.complete:
            return PackState.VERIFIED
        if any(b.units for b in self.boxes):
            return PackState.VERIFYING
        return PackState.ORDER_OPEN

    @property
    def box(self) -> Box:
        """The box being filled or weighed now (the last one)."""
        return self.boxes[-1]

    @property
    def unlabelled(self) -> tuple[Box, ...]:
        """Weighed boxes whose label has not printed yet, in box order.

        Labels print once the last box is weighed, so each can say "parcel n of m".
        """
        return tuple(b for b in self.boxes if b.weight_grams is not None and not b.labelled)

    def _totals(self) -> dict[int, int]:
        totals = self._scanned
        if totals is None:
            if len(self.boxes) == 1:
                totals = self.boxes[0].counts()
            else:
                totals = {}
                for box in self.boxes:
                    for line_id, n in box.counts().items():
                        totals[line_id] = totals.get(line_id, 0) + n
            object.__setattr__(self, "_scanned", totals)
        return totals

    def scanned(self, line_id: int) -> int:
        """Units of the line accepted so far, over all boxes."""
        return self._totals().get(line_id, 0)

    def scanned_counts(self) -> Mapping[int, int]:
        """Units accepted so far per line id, over all boxes (lines with none are absent)."""
        return self._totals()

    def remaining(self, line_id: int) -> int:
        """Units of the line still to scan (0 when complete)."""
        line = self.order.line(line_id) if self.order is not None else None
        return 0 if line is None else max(0, line.quantity - self.scanned(line_id))

    @property
    def complete(self) -> bool:
        """Every line has all its units scanned."""
        if self.order is None:
            return False
        done = self._complete
        if done is None:
            totals = self._totals()
            done = all(totals.get(line.line_id, 0) >= line.quantity for line in self.order.lines)
            object.__setattr__(self, "_complete", done)
        return done

    @property
    def units_scanned(self) -> int:
        """Accepted units over all boxes."""
        return sum(len(box.units) for box in self.boxes)

    def serials(self) -> frozenset[str]:
        """Every serial captured for this order, to refuse the same one twice."""
        return frozenset(u.serial for b in self.boxes for u in b.units if u.serial is not None)


def opened(order: OrderView, box_type: str) -> PackProgress:
    """Fresh progress for an order just opened: one empty box."""
    return PackProgress(order=order, boxes=(Box(1, box_type),))


def _with_box(progress: PackProgress, box: Box) -> PackProgress:
    index = box.box_no - 1
    return replace(progress, boxes=(*progress.boxes[:index], box, *progress.boxes[index + 1 :]))


def _box(progress: PackProgress, box_no: int, box_type: str) -> tuple[PackProgress, Box | None]:
    """The box with this number, creating empty boxes up to it (events name boxes by number)."""
    if box_no < 1:
        return progress, None
    boxes = progress.boxes
    while len(boxes) < box_no:
        boxes = (*boxes, Box(len(boxes) + 1, box_type))
    progress = replace(progress, boxes=boxes)
    return progress, boxes[box_no - 1]


def apply_event(progress: PackProgress, event: PackEvent, box_type: str) -> PackProgress:
    """Fold one recorded event into the progress; `box_type` is used for boxes it creates."""
    payload = event.payload
    if isinstance(payload, ScanRecorded):
        if payload.outcome is not ScanOutcome.ACCEPTED:
            return progress  # rejected scans are recorded for the audit trail only
        order = progress.order
        if payload.line_id is None or order is None or order.line(payload.line_id) is None:
            log.warning("ignoring accepted scan for unknown line %s", payload.line_id)
            return progress
        progress, box = _box(progress, payload.box_no, box_type)
        if box is None:
            return progress
        box = box.with_unit(PackedUnit(payload.line_id, payload.serial))
        return replace(_with_box(progress, box), pending_serial=None)
    if isinstance(payload, WeightRecorded):
        progress, box = _box(progress, payload.box_no, box_type)
        if box is None:
            return progress
        if payload.within:
            box = replace(box, sealed=True, weight_grams=payload.grams, rejected_grams=None)
        else:
            box = replace(box, sealed=True, weight_grams=None, rejected_grams=payload.grams)
        return _with_box(progress, replace(box, manual=payload.manual))
    if isinstance(payload, OverrideGranted):
        if payload.kind == "weight":
            box_no, grams = payload.details.get("box_no"), payload.details.get("grams")
            if isinstance(box_no, int) and isinstance(grams, int):
                progress, box = _box(progress, box_no, box_type)
                if box is not None:
                    box = replace(box, sealed=True, weight_grams=grams, rejected_grams=None)
                    progress = _with_box(progress, box)
        return replace(progress, pending_serial=None)
    if isinstance(payload, ParcelClosed):
        progress, box = _box(progress, payload.box_no, box_type)
        if box is None:
            return progress
        box = replace(box, box_type=payload.box_type, sealed=True)
        if payload.weight_grams is not None:
            box = replace(box, weight_grams=payload.weight_grams, rejected_grams=None)
        progress = _with_box(progress, box)
        if not progress.complete and box.box_no == len(progress.boxes):
            # Items remain: the next box opens now. The closed box's label waits until the
            # last box is weighed, when the number of boxes is known ("parcel 1 of 2").
            next_type = progress.next_box_type or box_type
            boxes = (*progress.boxes, Box(len(progress.boxes) + 1, next_type))
            progress = replace(progress, boxes=boxes, next_box_type=None)
        return progress
    if isinstance(payload, LabelPrinted):
        if payload.reprint:
            return progress
        progress, box = _box(progress, payload.box_no, box_type)
        if box is None:
            return progress
        return _with_box(progress, replace(box, labelled=True))
    if isinstance(payload, ExceptionRaised):
        return replace(progress, hold_reason=payload.reason, hold_text=payload.text)
    if event.type == "order_packed":
        return replace(progress, packed=True, pending_serial=None)
    if event.type == "claim_released":
        return PackProgress()
    return progress


def replay(order: OrderView, events: Iterable[PackEvent], box_type: str) -> PackProgress:
    """Progress rebuilt from an order's recorded events, oldest first."""
    progress = opened(order, box_type)
    for event in events:
        progress = apply_event(progress, event, box_type)
    return progress
