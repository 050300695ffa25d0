"""Holding an order that already has labels: never silently.

A label still waiting in the print queue is withdrawn; one that printed is named, so the
packer takes it off the box and a supervisor voids it (the supervisor's exception list shows
that the order has a printed label).
"""

from __future__ import annotations

import logging

from app.i18n import Joined, join
from app.packing import messages
from app.packing.progress import PackProgress
from app.station.base import RuntimeBase

log = logging.getLogger(__name__)


class LabelledHolds(RuntimeBase):
    """What a hold does to the order's labels; mixed into StationRuntime."""

    def _labels_at_hold(self, before: PackProgress) -> Joined:
        """Withdraw unprinted label jobs of the held order; the sentence saying what happened."""
        printed = {box.box_no for box in before.boxes if box.labelled}
        withdrawn: set[int] = set()
        for job, (box_no, reprint) in list(self._label_jobs.items()):
            if self.labels.withdraw(job):
                if not reprint:
                    withdrawn.add(box_no)
            else:
                log.info("label job %s of box %s printed before the hold", job, box_no)
                printed.add(box_no)
            del self._label_jobs[job]
        self._awaiting_label = None  # a held order's late carrier labels are not printed
        parts: list[object] = []
        if withdrawn - printed:
            parts.append(messages.hold_label_withdrawn(sorted(withdrawn - printed)))
        if printed:
            parts.append(messages.hold_label_void(sorted(printed)))
        return join(*parts)
