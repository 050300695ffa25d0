"""Weighing and labels at the bench: one fresh stable weight per box, then its label."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from app.packing.errors import PackingError
from app.packing.progress import PackState
from app.station.base import RuntimeBase
from app.station.ports import AwaitingLabel
from app.station.screen import Screen
from app.weighing.capture import CaptureState
from app.weighing.reading import ScaleReading

log = logging.getLogger(__name__)


class ParcelFlow(RuntimeBase):
    """Scale readings, label jobs and their completion; mixed into StationRuntime."""

    def _after_state_change(self) -> None:
        """Start weighing when a box waits for the scale; print when a weight was accepted."""
        state = self.session.state
        progress = self.session.progress
        if state in (PackState.VERIFIED, PackState.WEIGHING) and progress.boxes:
            box = progress.box
            key = (progress.order.id if progress.order else 0, box.box_no)
            if box.weight_grams is None and self._capture_key != key:
                self.capture.start(box.box_no, time.monotonic())
                self._capture_key = key
        if state is PackState.LABELLING and progress.boxes:
            box = progress.box
            if box.weight_grams is not None and not box.labelled:
                self._print_label(box.box_no, box.weight_grams)

    def scale_reading(self, reading: ScaleReading) -> None:
        """A reading from the scale thread; accepted once per box when stable and fresh."""
        live = (reading.whole_grams if reading.is_weight else None, reading.is_weight)
        if live != (self.status.live_grams, self.status.live_stable):
            self.status = replace(self.status, live_grams=live[0], live_stable=live[1])
            if self.model.screen is Screen.PACK:
                # Only the pack screen shows the live weight; readings come ~10 times a
                # second, so nothing else is re-rendered (or re-queried) for them.
                shown = replace(self.model.status, live_grams=live[0], live_stable=live[1])
                self.model = replace(self.model, status=shown)
                self.on_change(self.model)
        if not self.session.expects_weight or self.capture.state is not CaptureState.WAITING:
            return
        outcome = self.capture.feed(reading)
        if not outcome.newly_accepted or outcome.accepted is None:
            return
        if outcome.accepted.manual and not self.allow_manual_weight:
            self._show("red", "Typed-in weights are not allowed at this site; use the scale.")
            return
        step = self.session.weight(outcome.accepted.whole_grams, manual=outcome.accepted.manual)
        self._adopt_step(step)

    def _print_label(self, box_no: int, grams: int) -> None:
        assert self.order is not None
        self._awaiting_label = None
        try:
            job = self.labels.print_label(
                self.order, box_no, len(self.session.progress.boxes), grams
            )
        except AwaitingLabel as waiting:
            self._awaiting_label = (self.order.view.id, box_no, grams)
            log.info("awaiting carrier label: order %s box %s", self.order.view.id, box_no)
            self._show("amber", str(waiting))
            return
        except Exception as exc:
            log.exception("label for box %s could not be queued", box_no)
            self._show("red", f"The label could not be queued ({exc}); scan PB:REPRINT.")
            return
        self._label_jobs[job] = (box_no, False)

    def retry_awaiting_label(self) -> None:
        """After a sync: print a box that was waiting for its carrier label, if it came."""
        waiting = self._awaiting_label
        if waiting is None or self.order is None or self.order.view.id != waiting[0]:
            return
        self._print_label(waiting[1], waiting[2])
        if self._awaiting_label is None:
            self._show("green", f"The label for box {waiting[1]} is printing.")

    def label_done(self, job_id: int, ok: bool, message: str) -> None:
        """The print worker finished (or failed) a label job."""
        entry = self._label_jobs.get(job_id)
        if entry is None:
            return
        box_no, reprint = entry
        if not ok:
            self._show(
                "red", message or "The label did not print; it prints when the printer is back."
            )
            return
        del self._label_jobs[job_id]
        try:
            label_id, tracking = self.labels.label_for_job(job_id)
            step = self.session.label_printed(
                box_no,
                reprint=reprint,
                reason=self._reprint_reason if reprint else "",
                label_id=label_id,
                tracking_number=tracking,
            )
        except PackingError as exc:
            self._show("red", str(exc))
            return
        self._adopt_step(step)
