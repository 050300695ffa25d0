"""Finishing steps of the pack session: labels, closing, holds and giving the order back."""

from __future__ import annotations

from dataclasses import replace

from app.i18n import Msg, Text, plural
from app.packing import messages
from app.packing.core import MAX_TEXT, SessionCore
from app.packing.errors import IllegalTransition, ReasonRequired
from app.packing.events import PackEvent
from app.packing.progress import OPEN_STATES, PackState
from app.packing.step import Outcome, Step
from sync.protocol import (
    ClaimReleased,
    ExceptionRaised,
    HoldReason,
    LabelPrinted,
    MutationType,
    OrderPacked,
)


class FinishSteps(SessionCore):
    """Label printed, close (order packed), hold with a reason, release the claim."""

    # ------------------------------------------------------------------ labels

    def label_printed(
        self,
        box_no: int,
        reprint: bool = False,
        reason: str = "",
        label_id: int | None = None,
        tracking_number: str | None = None,
    ) -> Step:
        """Record that a box's label came out of the printer (first print or reprint)."""
        progress = self._progress

        def event() -> PackEvent:  # built after the checks: there may be no order at all
            payload = LabelPrinted(
                box_no=box_no,
                label_id=label_id,
                tracking_number=tracking_number,
                reprint=reprint,
                reason=reason.strip()[:MAX_TEXT],
                packer_id=self.packer_id,
            )
            return self._event(MutationType.LABEL_PRINTED, payload)

        if reprint:
            self._require(
                "reprint",
                (*OPEN_STATES, PackState.PACKED),
                Msg("There is no open order to reprint a label for."),
            )
            if not 1 <= box_no <= len(progress.boxes) or not progress.boxes[box_no - 1].labelled:
                raise IllegalTransition(
                    "reprint",
                    self.state.value,
                    Msg(
                        "Box {box} has no label yet; weigh it and print its label first.",
                        box=box_no,
                    ),
                )
            return self._step(
                Outcome.LABEL_REPRINTED,
                "green",
                Msg("Label for box {box} reprinted; stick it on the box.", box=box_no),
                events=(event(),),
            )
        self._require(
            "label_printed", (PackState.LABELLING,), Msg("Weigh the box before printing its label.")
        )
        waiting = [b.box_no for b in progress.unlabelled]
        if not waiting:
            raise IllegalTransition(
                "label_printed",
                self.state.value,
                Msg(
                    "Box {box} is already labelled; scan {command} to finish.",
                    box=box_no,
                    command="PB:CLOSE",
                ),
            )
        if box_no not in waiting:
            raise IllegalTransition(
                "label_printed",
                self.state.value,
                Msg("The label to print now is for box {box}.", box=waiting[0]),
            )
        step = self._step(Outcome.LABEL_PRINTED, "green", "", events=(event(),))
        still = [b.box_no for b in step.progress.unlabelled]
        message: Text
        if still:
            message = Msg(
                "Stick the label on box {box}; the label for box {next} comes next.",
                box=box_no,
                next=still[0],
            )
        else:
            message = Msg(
                "Stick the label on box {box}, then scan {command} to finish the order.",
                box=box_no,
                command="PB:CLOSE",
            )
        return replace(step, message=message)

    # ------------------------------------------------------------------ finish

    def close(self) -> Step:
        """Finish the order: every line complete, every box weighed and labelled."""
        progress = self._progress
        self._require("close", OPEN_STATES, Msg("There is no open order to close."))
        assert progress.order is not None
        missing = sum(progress.remaining(line.line_id) for line in progress.order.lines)
        pending = progress.pending_serial
        if pending is not None:  # the item is there; only its serial is not
            line = progress.order.line(pending.line_id)
            name = line.name if line else pending.code
            raise IllegalTransition(
                "close", self.state.value, messages.missing_serial(name, missing - 1)
            )
        if missing:
            raise IllegalTransition(
                "close",
                self.state.value,
                plural(
                    "Scan the {n} missing item, or hold the order.",
                    "Scan the {n} missing items, or hold the order.",
                    missing,
                ),
            )
        for box in progress.boxes:
            if box.weight_grams is None:
                raise IllegalTransition(
                    "close",
                    self.state.value,
                    Msg("Weigh box {box} before closing the order.", box=box.box_no),
                )
            if not box.labelled:
                raise IllegalTransition(
                    "close", self.state.value, messages.label_still_printing(box.box_no)
                )
        count = len(progress.boxes)
        packed = self._event(
            MutationType.ORDER_PACKED, OrderPacked(boxes=count, packer_id=self.packer_id)
        )
        return self._step(
            Outcome.PACKED,
            "green",
            plural(
                "Order {order} is packed in {n} box; scan the next order.",
                "Order {order} is packed in {n} boxes; scan the next order.",
                count,
                order=progress.order.number,
            ),
            events=(packed,),
        )

    def hold(self, reason: HoldReason | str, text: str = "") -> Step:
        """Put the open order on hold with a reason code (OTHER needs a text)."""
        self._require("hold", OPEN_STATES, Msg("There is no open order to hold."))
        reason = HoldReason(reason)
        text = text.strip()[:MAX_TEXT]
        if reason is HoldReason.OTHER and not text:
            raise ReasonRequired(Msg("Type why the order is on hold."))
        assert self._progress.order is not None
        event = self._event(
            MutationType.EXCEPTION_RAISED,
            ExceptionRaised(reason=reason, text=text, packer_id=self.packer_id),
        )
        step = self._step(
            Outcome.HELD,
            "amber",
            Msg(
                "Order {order} is on hold ({reason}); put it on the exceptions shelf.",
                order=self._progress.order.number,
                reason=hold_reason_words(reason),
            ),
            events=(event,),
        )
        return replace(step, progress=replace(step.progress, pending_serial=None))

    def release_claim(self) -> Step:
        """Give the order back (only before any item is scanned, or once it is held)."""
        self._require(
            "release_claim",
            (PackState.ORDER_OPEN, PackState.HELD),
            Msg("Hold the order first so a supervisor knows why it was not packed."),
        )
        assert self._progress.order is not None
        number = self._progress.order.number
        event = self._event(MutationType.CLAIM_RELEASED, ClaimReleased(packer_id=self.packer_id))
        return self._step(
            Outcome.RELEASED,
            "green",
            Msg("Order {order} is released; scan the next order.", order=number),
            events=(event,),
        )


_HOLD_WORDS = {
    HoldReason.SHORT_PICK: Msg("short pick"),
    HoldReason.DAMAGED_ITEM: Msg("damaged item"),
    # TRANSLATORS: "tote" is the picking crate the items arrive in.
    HoldReason.WRONG_ITEM_IN_TOTE: Msg("wrong item in tote"),
    HoldReason.ADDRESS_PROBLEM: Msg("address problem"),
    HoldReason.OTHER: Msg("other"),
}


def hold_reason_words(reason: HoldReason) -> Text:
    """A hold reason code in the reader's words (the event keeps the code)."""
    return _HOLD_WORDS.get(reason) or reason.value.replace("_", " ")
