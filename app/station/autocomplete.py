"""Auto-complete: an order whose items, weights and labels are all done finishes by itself.

A site setting (`auto_complete`, on by default). `PB:CLOSE` still works; with the setting on
it is only needed when an order finished in an unusual way (e.g. a save that failed).
"""

from __future__ import annotations

import logging

from app.packing.errors import PackingError
from app.packing.progress import PackState
from app.station.base import RuntimeBase

log = logging.getLogger(__name__)


class AutoComplete(RuntimeBase):
    """Finishes a complete order after its last label, or when the next order is scanned."""

    auto_complete: bool

    def _finish_if_complete(self) -> bool:
        """Close the open order if every item, weight and label is done; True if it did."""
        if not self.auto_complete or self.order is None:
            return False
        progress = self.session.progress
        if self.session.state is not PackState.LABELLING or progress.unlabelled:
            return False
        if progress.pending_serial is not None:
            return False
        try:
            step = self.session.close()
        except PackingError as exc:  # not complete after all: the packer finishes it
            log.info("auto-complete of order %s not possible: %s", self.order.view.id, exc)
            return False
        log.info("auto-complete: order %s", self.order.view.id)
        self._adopt_step(step)
        return self.session.progress.packed  # False if the save failed (shown in red)
