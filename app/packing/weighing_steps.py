"""Weighing steps of the pack session: the scale reading, reweigh, supervisor overrides.

A weight outside the band is recorded (the measurement is a fact) and leaves the box in
`weighing` until it is reweighed or a supervisor overrides; it is amber, not red, because
it does change the progress: it remembers the reading the override would accept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from enum import StrEnum

from app import i18n
from app.i18n import Msg, Text, join, plural
from app.packing import messages
from app.packing.core import MAX_TEXT, SessionCore
from app.packing.errors import IllegalTransition, ReasonRequired
from app.packing.events import PackEvent
from app.packing.model import LineView
from app.packing.progress import PackProgress, PackState
from app.packing.step import Outcome, Step
from app.packing.weight_rules import (
    LearnedWeight,
    WeightPolicy,
    check_weight,
    content_signature,
    expected_weight,
)
from sync.contents import contents_key
from sync.protocol import (
    MutationType,
    OverrideGranted,
    ParcelClosed,
    ParcelItem,
    ScanOutcome,
    ScanRecorded,
    WeightRecorded,
)


class OverrideKind(StrEnum):
    WEIGHT = "weight"  # accept an out-of-tolerance weight
    SERIAL = "serial"  # accept the item waiting for a serial without one


#: Learned weight of parcels by contents key (sync.contents.contents_key), None if unknown.
WeightProfiles = Callable[[str], LearnedWeight | None]


def no_profiles(_key: str) -> LearnedWeight | None:
    """No weight history: every parcel is checked against the catalogue."""
    return None


class WeighingSteps(SessionCore):
    """Weight checks and overrides; `expected_grams` is what the scale should show."""

    weight_policy: WeightPolicy
    weight_profiles: WeightProfiles

    def _box_lines(self, progress: PackProgress) -> list[tuple[LineView, int]]:
        order = progress.order
        if order is None or not progress.boxes:
            return []
        box = progress.box
        pairs = ((order.line(line_id), box.quantity(line_id)) for line_id in box.line_ids())
        return [(line, qty) for line, qty in pairs if line is not None]

    def expected_grams(self, progress: PackProgress | None = None) -> int | None:
        """Expected weight of the current box: items x product weights + empty box weight."""
        progress = progress or self._progress
        if progress.order is None or not progress.boxes:
            return None
        box_grams = self.box_weights.get(progress.box.box_type, 0)
        lines = [(line.weight_grams, qty) for line, qty in self._box_lines(progress)]
        return expected_weight(lines, box_grams)

    def _contents(self, progress: PackProgress) -> tuple[list[tuple[str, int]], str]:
        box_type = progress.box.box_type if progress.boxes else self.default_box_type
        return [(line.sku, qty) for line, qty in self._box_lines(progress)], box_type

    def content_signature(self, progress: PackProgress | None = None) -> str:
        """Readable contents of the current box, as the weight history knows them."""
        return content_signature(*self._contents(progress or self._progress))

    def learned_weight(self, progress: PackProgress | None = None) -> LearnedWeight | None:
        """What earlier parcels with the current box's contents weighed, if known."""
        lines, box_type = self._contents(progress or self._progress)
        return self.weight_profiles(contents_key(lines, box_type)) if lines else None

    # ------------------------------------------------------------------ weight

    def weight(self, reading_grams: int, manual: bool = False) -> Step:
        """Check a stable scale reading (or a typed-in weight) for the current box.

        Against the learned weight of parcels with the same contents when there is one
        (`weight_profiles`), else against the catalogue.
        """
        self._require(
            "weight",
            (PackState.VERIFIED, PackState.WEIGHING),
            Msg(
                "Scan the remaining items first, or scan {command} to ship this box now.",
                command="PB:NEW-BOX",
            )
            if self.state is PackState.VERIFYING
            else Msg("There is no box waiting to be weighed."),
        )
        if reading_grams <= 0:
            return self._step(
                Outcome.WEIGHT_INVALID,
                "red",
                Msg("The scale shows no weight. Put the box on the scale."),
            )
        box = self._progress.box
        order = self._progress.order
        verdict = check_weight(
            reading_grams,
            self.expected_grams(),
            self.learned_weight(),
            policy=self.weight_policy,
            carrier=order.carrier if order is not None and order.carrier else None,
            manual=manual,
        )
        tolerance = None
        if verdict.expected_grams is not None and verdict.upper_grams is not None:
            lower = verdict.lower_grams if verdict.lower_grams is not None else 0
            tolerance = max(
                verdict.upper_grams - verdict.expected_grams, verdict.expected_grams - lower
            )
        recorded = self._event(
            MutationType.WEIGHT_RECORDED,
            WeightRecorded(
                box_no=box.box_no,
                grams=reading_grams,
                expected_grams=verdict.expected_grams,
                tolerance_grams=tolerance,
                rule=verdict.rule,
                within=verdict.ok,
                manual=manual,
                packer_id=self.packer_id,
            ),
        )
        if not verdict.ok:
            message: Text = verdict.message
            if verdict.lower_grams is not None and verdict.upper_grams is not None:
                message = messages.weight_off(
                    reading_grams, verdict.lower_grams, verdict.upper_grams, verdict.plain
                )
            return self._step(Outcome.WEIGHT_OUT_OF_TOLERANCE, "amber", message, events=(recorded,))
        closed = self._parcel_closed(reading_grams, manual=manual)
        step = self._step(Outcome.WEIGHT_ACCEPTED, "green", "", events=(recorded, closed))
        weight = i18n.weight(reading_grams)
        then = self._weighed_next(step.progress)
        if verdict.expected_grams is None:
            head = Msg("Box {box} weighs {weight}.", box=box.box_no, weight=weight)
            return replace(step, message=join(head, then, verdict.message))
        # "Box 1 weighs 452 g (expected 440 g ± 50 g, learned from 12 parcels). ..."
        head = Msg(
            "Box {box} weighs {weight} ({rule}).", box=box.box_no, weight=weight, rule=verdict.plain
        )
        return replace(step, message=join(head, then))

    @staticmethod
    def _weighed_next(progress: PackProgress) -> Text:
        """What a weighed box means: its labels print now, or once the last box is weighed."""
        if progress.state is PackState.LABELLING:
            count = len(progress.boxes)
            if count == 1:
                return Msg("Printing the label.")
            return plural(
                "Printing the labels of all {n} boxes.",
                "Printing the labels of all {n} boxes.",
                count,
            )
        return join(
            Msg("Put it aside: its label prints with the last box's."),
            Msg("Scan the remaining items into box {box}.", box=progress.box.box_no),
        )

    def _parcel_closed(self, grams: int, *, manual: bool, overridden: bool = False) -> PackEvent:
        box = self._progress.box
        items = [
            ParcelItem(
                line_id=line_id, quantity=box.quantity(line_id), serials=box.serials(line_id)
            )
            for line_id in box.line_ids()
        ]
        return self._event(
            MutationType.PARCEL_CLOSED,
            ParcelClosed(
                box_no=box.box_no,
                box_type=box.box_type,
                weight_grams=grams,
                items=items,
                packer_id=self.packer_id,
                box_grams=self.box_weights.get(box.box_type),
                manual=manual,
                overridden=overridden,
            ),
        )

    def reweigh(self) -> Step:
        """Drop the current box's weight (before its label is printed) and weigh it again."""
        self._require(
            "reweigh",
            (PackState.WEIGHING, PackState.LABELLING),
            Msg("There is no weighed box to weigh again."),
        )
        box = self._progress.box
        if box.labelled:
            raise IllegalTransition(
                "reweigh",
                self.state.value,
                Msg(
                    "Box {box} is already labelled; scan {command} if the label is wrong.",
                    box=box.box_no,
                    command="PB:REPRINT",
                ),
            )
        box = replace(box, sealed=True, weight_grams=None, rejected_grams=None)
        return self._step(
            Outcome.REWEIGH,
            "amber",
            Msg("Put box {box} on the scale again.", box=box.box_no),
            progress=replace(self._progress, boxes=(*self._progress.boxes[:-1], box)),
        )

    def override(
        self, supervisor_id: int, reason: str, kind: OverrideKind | str = OverrideKind.WEIGHT
    ) -> Step:
        """A supervisor lets a blocked step through: an off weight, or an item without serial."""
        kind = OverrideKind(kind)
        if len(reason.strip()) < 3:
            raise ReasonRequired(
                Msg("Type a reason for the override (at least {n} characters).", n=3)
            )
        progress = self._progress
        if kind is OverrideKind.WEIGHT:
            box = progress.box if progress.boxes else None
            if self.state is not PackState.WEIGHING or box is None or box.rejected_grams is None:
                raise IllegalTransition(
                    "override", self.state.value, Msg("There is no rejected weight to override.")
                )
            grams = box.rejected_grams
            granted = self._event(
                MutationType.OVERRIDE_GRANTED,
                OverrideGranted(
                    kind=kind.value,
                    supervisor_id=supervisor_id,
                    reason=reason.strip()[:MAX_TEXT],
                    details={
                        "box_no": box.box_no,
                        "grams": grams,
                        "expected_grams": self.expected_grams(),
                    },
                    packer_id=self.packer_id,
                ),
            )
            closed = self._parcel_closed(grams, manual=box.manual, overridden=True)
            step = self._step(Outcome.OVERRIDDEN, "green", "", events=(granted, closed))
            then = self._weighed_next(step.progress)
            return replace(step, message=join(messages.weight_overridden(box.box_no, grams), then))
        pending = progress.pending_serial
        if pending is None or progress.order is None:
            raise IllegalTransition(
                "override", self.state.value, Msg("No item is waiting for a serial number.")
            )
        line = progress.order.line(pending.line_id)
        granted = self._event(
            MutationType.OVERRIDE_GRANTED,
            OverrideGranted(
                kind=kind.value,
                supervisor_id=supervisor_id,
                reason=reason.strip()[:MAX_TEXT],
                details={"line_id": pending.line_id, "box_no": progress.box.box_no},
                packer_id=self.packer_id,
            ),
        )
        accepted = self._event(
            MutationType.SCAN_RECORDED,
            ScanRecorded(
                code=pending.code,
                outcome=ScanOutcome.ACCEPTED,
                line_id=pending.line_id,
                sku=line.sku if line else None,
                box_no=progress.box.box_no,
                packer_id=self.packer_id,
            ),
        )
        step = self._step(Outcome.OVERRIDDEN, "green", "", events=(granted, accepted))
        return replace(
            step,
            line_id=pending.line_id,
            message=self._progress_message(step.progress, pending.line_id),
        )
