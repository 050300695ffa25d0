"""The standing instruction: one line under the banner that always says what to do next.

The banner says what just happened (an error, a scan counted); this line is worked out from
the adopted progress alone, so an error never hides the next step.
"""

from __future__ import annotations

from app.i18n import Text
from app.packing import messages
from app.packing.progress import PackState
from app.station.base import RuntimeBase


def standing_instruction(rt: RuntimeBase) -> Text:
    """What the packer does next, from who is logged in and the open order's progress."""
    if rt.user is None:
        return messages.next_pin() if rt._pending_user is not None else messages.next_login()
    if rt.user.role == "supervisor" and rt.order is None:
        return ""  # the supervisor screen has its own words
    progress = rt.session.progress
    state = rt.session.state
    order = progress.order
    if rt.order is None or order is None or state is PackState.IDLE:
        return messages.next_order()
    if state is PackState.PACKED:
        return messages.next_close(True)
    if state is PackState.HELD:
        labelled = [box.box_no for box in progress.boxes if box.labelled]
        if labelled:
            return messages.next_after_hold_labelled(labelled)
        return messages.next_after_hold()
    pending = progress.pending_serial
    if pending is not None:
        line = order.line(pending.line_id)
        return messages.next_serial(line.name if line else pending.code)
    if state in (PackState.ORDER_OPEN, PackState.VERIFYING):
        # Accepted units never exceed a line's quantity, so this is the sum of what each line
        # still needs, without a pass over every line per scan (orders run to 100s of lines).
        remaining = order.total_units - progress.units_scanned
        return messages.next_items(remaining, progress.box.box_no)
    box = progress.box
    if state is PackState.VERIFIED:
        return messages.next_on_scale(box.box_no)
    if state is PackState.WEIGHING:
        if box.rejected_grams is not None:
            return messages.next_after_rejected(box.box_no)
        return messages.next_on_scale(box.box_no)
    # labelling: every label printing, waiting for the carrier, or all on their boxes
    waiting = rt._awaiting_label
    if waiting is not None and waiting[0] == order.id and waiting[1]:
        return messages.next_label_waiting_carrier(waiting[1])
    unlabelled = [b.box_no for b in progress.unlabelled]
    if unlabelled:
        return messages.next_labels_printing(unlabelled)
    return messages.next_close(getattr(rt, "auto_complete", False))
