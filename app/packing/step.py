"""`Step`: what one pack-session action decided, before the caller makes it durable.

The caller writes `events` to the outbox and only then calls `PackSession.apply(step)`,
so green on screen always means saved. A red step leaves the progress as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from app.i18n import Text
from app.packing.commands import Command
from app.packing.events import PackEvent
from app.packing.progress import PackProgress, PackState

Tone = Literal["green", "amber", "red"]


class Outcome(StrEnum):
    # item scans (the first six match sync.protocol.ScanOutcome)
    ACCEPTED = "accepted"
    OVER_SCAN = "over_scan"
    NOT_IN_ORDER = "not_in_order"
    UNKNOWN_CODE = "unknown_code"
    INVALID = "invalid"
    DUPLICATE = "duplicate"
    NEED_SERIAL = "need_serial"
    NOT_A_SERIAL = "not_a_serial"
    NOT_A_PRODUCT = "not_a_product"  # a tracking or SSCC label scanned as an item
    BOX_CLOSED = "box_closed"  # an item scanned while the box is being weighed or labelled
    REPEAT_READ = "repeat_read"  # the scanner flagged a double read; nothing done
    # scans the caller must route: the session never opens or switches orders by itself
    NO_ORDER = "no_order"
    OPEN_ORDER = "open_order"
    SWITCH_ORDER = "switch_order"
    ALREADY_OPEN = "already_open"
    BADGE = "badge"
    COMMAND = "command"  # a command for the caller (reprint, logout)
    CHOOSE_HOLD_REASON = "choose_hold_reason"
    UNKNOWN_COMMAND = "unknown_command"
    NOT_NOW = "not_now"  # a command scanned where its action is not allowed
    # actions
    ORDER_OPENED = "order_opened"
    RESTORED = "restored"
    BOX_SEALED = "box_sealed"
    BOX_TYPE_SET = "box_type_set"
    WEIGHT_ACCEPTED = "weight_accepted"
    WEIGHT_OUT_OF_TOLERANCE = "weight_out_of_tolerance"
    WEIGHT_INVALID = "weight_invalid"
    REWEIGH = "reweigh"
    OVERRIDDEN = "overridden"
    LABEL_PRINTED = "label_printed"
    LABEL_REPRINTED = "label_reprinted"
    PACKED = "packed"
    HELD = "held"
    RELEASED = "released"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Step:
    """The decision for one action: new state, events to record, and what to tell the packer."""

    state: PackState
    events: tuple[PackEvent, ...]
    outcome: Outcome
    tone: Tone
    # what happened and what to do next: a deferred sentence (Msg), rendered by `str()` or
    # `i18n.render(message, lang)` in the reader's language when it is shown
    message: Text
    progress: PackProgress  # adopt with PackSession.apply() once `events` are durable
    line_id: int | None = None
    command: Command | None = None  # set when the caller has to carry out a command
    base: PackProgress | None = field(default=None, repr=False, compare=False)
