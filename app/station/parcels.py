"""Weighing and labels at the bench: one fresh stable weight per box, then its label."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from app.i18n import Msg
from app.packing import messages
from app.packing.errors import PackingError
from app.packing.progress import PackState
from app.station.base import RuntimeBase
from app.station.ports import AwaitingLabel
from app.station.screen import Screen
from app.weighing.capture import LIFT_OFF_MESSAGE, STACKED_MESSAGE, CaptureState
from app.weighing.reading import ScaleReading

log = logging.getLogger(__name__)


class ParcelFlow(RuntimeBase):
    """Scale readings, label jobs and their completion; mixed into StationRuntime."""

    def _after_state_change(self) -> None:
        """Start weighing when a box waits for the scale; print when a weight was accepted."""
        state = self.session.state
        progress = self.session.progress
        if state in (PackState.VERIFIED, PackState.WEIGHING) and progress.boxes:
            key = self._box_key()
            if progress.box.weight_grams is None and self._capture_key != key:
                self.capture.start(progress.box.box_no, time.monotonic())
                self._capture_key = key
            elif progress.box.rejected_grams is not None and self.capture.accepted is not None:
                # A rejected weight: lifting the box off and putting it back weighs again.
                self.capture.retry_after_lift(time.monotonic())
        if state is PackState.LABELLING:
            self._print_labels()

    def _box_key(self) -> tuple[int, int]:
        """(order id, box no) of the box being filled or weighed: what the capture is for."""
        progress = self.session.progress
        return (progress.order.id if progress.order else 0, progress.box.box_no)

    def _reweighing(self) -> None:
        """The packer asked to weigh the current box again (the reweigh step is adopted).

        The weight taken is unlocked, so the next fresh stable reading replaces it (after a
        restart the box was never weighed in this run: weighing starts), and the old weight's
        label never prints if it has not yet.
        """
        box_no = self.session.progress.box.box_no
        if self._capture_key == self._box_key():
            self.capture.reweigh(time.monotonic())
        else:
            self.capture.start(box_no, time.monotonic())
            self._capture_key = self._box_key()
        self._forget_label(box_no)

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
        # Every reading goes to the capture, also while no box waits for its weight: the
        # empty platter between two identical parcels must be seen.
        if not self.session.expects_weight or self.capture.state is not CaptureState.WAITING:
            self.capture.watch(reading)
            return
        outcome = self.capture.feed(reading)
        if outcome.message in (LIFT_OFF_MESSAGE, STACKED_MESSAGE):
            if self._said != outcome.message:  # readings come ~10 a second
                self._show("amber", outcome.message)
            return
        if not outcome.newly_accepted or outcome.accepted is None:
            return
        if outcome.accepted.manual and not self.allow_manual_weight:
            self._show("red", Msg("Typed-in weights are not allowed at this site; use the scale."))
            return
        step = self.session.weight(outcome.accepted.whole_grams, manual=outcome.accepted.manual)
        self._adopt_step(step)

    def _print_labels(self) -> None:
        """Queue the label of each weighed box that has none queued yet, in box order.

        Runs once the last box is weighed (every label then knows the number of boxes) and
        after each step while labelling: a box already queued is never queued again.
        """
        assert self.order is not None
        progress = self.session.progress
        queued = {box_no for box_no, reprint in self._label_jobs.values() if not reprint}
        waiting: list[int] = []
        ended: list[tuple[int, bool, str]] = []  # jobs from before a restart that already ended
        notice = ""
        for box in progress.unlabelled:
            if box.box_no in queued or box.weight_grams is None:
                continue
            try:
                job = self.labels.print_label(
                    self.order, box.box_no, len(progress.boxes), box.weight_grams
                )
            except AwaitingLabel as exc:
                waiting.append(box.box_no)
                notice = notice or str(exc)
                log.info("awaiting carrier label: order %s box %s", self.order.view.id, box.box_no)
                continue
            except Exception as exc:
                log.exception("label for box %s could not be queued", box.box_no)
                self._show(
                    "red",
                    Msg(
                        "The label could not be queued ({error}); scan {command}.",
                        error=exc,
                        command="PB:REPRINT",
                    ),
                )
                return
            self._label_jobs[job] = (box.box_no, False)
            outcome = self.labels.job_outcome(job)
            if outcome is not None:
                ended.append((job, *outcome))
        self._awaiting_label = (self.order.view.id, tuple(waiting)) if waiting else None
        if notice:
            self._show("amber", notice)
        for job, ok, message in ended:  # after the loop: recording one may print the next
            self.label_done(job, ok, message)

    def _forget_label(self, box_no: int) -> None:
        """The box is weighed again: its label job, if still waiting to print, never prints.

        One that printed already stays on the box until the new label covers it; either way
        the new weight's label is the one recorded.
        """
        for job, (box, reprint) in list(self._label_jobs.items()):
            if box == box_no and not reprint:
                if not self.labels.withdraw(job):
                    log.info("label job %s of box %s had printed before the reweigh", job, box)
                del self._label_jobs[job]

    def retry_awaiting_label(self) -> None:
        """After a sync: print the boxes that waited for their carrier labels, if they came."""
        waiting = self._awaiting_label
        if waiting is None or self.order is None or self.order.view.id != waiting[0]:
            return
        if self.session.state is not PackState.LABELLING:
            self._awaiting_label = None
            return
        self._print_labels()
        if self._awaiting_label is None:
            self._show("green", messages.labels_printing(waiting[1]))

    def label_done(self, job_id: int, ok: bool, message: str) -> None:
        """The print worker finished (or failed) a label job."""
        entry = self._label_jobs.get(job_id)
        if entry is None:
            return
        box_no, reprint = entry
        if not ok:
            self._show(
                "red",
                message or Msg("The label did not print; it prints when the printer is back."),
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
