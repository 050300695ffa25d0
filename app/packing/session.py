"""`PackSession`: the pack-session state machine of one station, as pure Python.

Every action returns a `Step` (new state, events to record, message) and changes nothing;
the caller records the events durably and then calls `apply(step)`. Illegal actions raise
`IllegalTransition` with a sentence for the packer; `scan()` never raises, it answers a bad
scan with a red step. Item scans live in `scan_rules`, weighing in `weighing_steps`.

    idle -> order_open -> verifying -> verified -> weighing -> labelling -> packed
    (held from every open state; with several boxes, verifying..labelling repeats per box)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from app.i18n import Msg, Text, plural
from app.packing import messages
from app.packing.commands import Command, CommandName, is_command, parse_command
from app.packing.errors import (
    IllegalTransition,
    OrderNotPackable,
    PackingError,
    RestoreError,
    StaleStep,
    UnknownCommand,
)
from app.packing.events import PackEvent
from app.packing.finish_steps import FinishSteps
from app.packing.model import DEFAULT_BOX_TYPE, DEFAULT_BOX_WEIGHTS, Catalog, OrderView, code_key
from app.packing.progress import OPEN_STATES, PackProgress, PackState, opened, replay
from app.packing.scan_rules import ItemScans
from app.packing.step import Outcome, Step
from app.packing.weighing_steps import WeighingSteps, WeightProfiles, no_profiles
from app.packing.weight_rules import DEFAULT_POLICY, WeightPolicy
from app.scanning.scan import Scan, ScanKind
from sync.protocol import (
    HoldReason,
)

#: Order statuses a station must not pack (the service would refuse the events anyway).
NOT_PACKABLE = frozenset(
    {"cancelled", "packed", "shipped", "delivered", "completed", "returned", "on_hold"}
)
_ITEM_KINDS = (ScanKind.PRODUCT, ScanKind.GS1, ScanKind.UNKNOWN)


class PackSession(ItemScans, WeighingSteps, FinishSteps):
    """The open order's packing progress at one station, and the rules for changing it."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        box_weights: Mapping[str, int] = DEFAULT_BOX_WEIGHTS,
        default_box_type: str = DEFAULT_BOX_TYPE,
        weight_policy: WeightPolicy = DEFAULT_POLICY,
        weight_profiles: WeightProfiles = no_profiles,
        packer_id: int | None = None,
    ) -> None:
        self.catalog = catalog
        self.box_weights = {name.strip().upper(): grams for name, grams in box_weights.items()}
        self.weight_policy = weight_policy
        self.weight_profiles = weight_profiles
        self.default_box_type = self._box_type(default_box_type)
        self.packer_id = packer_id  # set by the station on badge login; stamped on events
        self._progress = PackProgress()

    @property
    def progress(self) -> PackProgress:
        """The adopted (durable) progress snapshot."""
        return self._progress

    @property
    def expects_weight(self) -> bool:
        """Whether a stable scale reading should be passed to `weight()` now."""
        return self.state in (PackState.VERIFIED, PackState.WEIGHING)

    def apply(self, step: Step) -> None:
        """Adopt a step's progress; call after its events were recorded durably."""
        if step.base is not self._progress:
            raise StaleStep(Msg("This step was already applied or is out of date; scan again."))
        self._progress = step.progress

    # ------------------------------------------------------------------ scans

    def scan(self, scan: Scan) -> Step:
        """Answer one barcode read; never raises, a scan that cannot be used is a red step."""
        if getattr(scan, "duplicate", False):
            # The scanner's double-scan guard already judged this read a bounce; acting on
            # it would count one item twice. (getattr: the field is newer than Scan itself.)
            return self._step(Outcome.REPEAT_READ, "amber", messages.repeat_read())
        if scan.kind is ScanKind.COMMAND or is_command(scan.text):
            return self._command_scan(scan)
        state = self.state
        is_open = state in OPEN_STATES
        if is_open and self._progress.pending_serial is not None:
            # An order, tote or badge read while a serial is asked for is a slip, not a serial.
            accepting = state in (PackState.ORDER_OPEN, PackState.VERIFYING, PackState.VERIFIED)
            return self._item_scan(scan, accepting)
        if scan.kind in (ScanKind.ORDER, ScanKind.TOTE):
            return self._order_scan(scan)
        if scan.kind is ScanKind.BADGE:
            message = (
                Msg("Finish or hold this order first, then scan the badge again.")
                if is_open
                else Msg("Badge scanned.")
            )
            return self._step(Outcome.BADGE, "amber", message)
        if not is_open:
            return self._step(
                Outcome.NO_ORDER,
                "amber",
                Msg("Scan the next order first.")
                if state is not PackState.HELD
                else Msg("This order is on hold; scan the next order."),
            )
        if scan.kind is ScanKind.INVALID:
            return self._invalid_scan(scan)
        if scan.kind in _ITEM_KINDS:
            accepting = state in (PackState.ORDER_OPEN, PackState.VERIFYING, PackState.VERIFIED)
            return self._item_scan(scan, accepting)
        return self._step(
            Outcome.NOT_A_PRODUCT,
            "red",
            Msg("That is a shipping label, not an item. Scan an item from the list."),
        )

    def _order_scan(self, scan: Scan) -> Step:
        order = self._progress.order
        if self.state not in OPEN_STATES or order is None:
            return self._step(
                Outcome.OPEN_ORDER, "amber", Msg("Opening {code}.", code=scan.text.strip())
            )
        key, number = code_key(scan.text), code_key(order.number)
        # "ORD-1001" is order 1001; a bare suffix test would also take "ORD-11001".
        if key in {number, code_key(order.tote or "")} or key.endswith(f"-{number}"):
            return self._step(
                Outcome.ALREADY_OPEN,
                "amber",
                Msg("Order {order} is already open. Scan the next item.", order=order.number),
            )
        return self._step(Outcome.SWITCH_ORDER, "amber", messages.still_open(order.number))

    def _command_scan(self, scan: Scan) -> Step:
        """Run a command barcode; an unknown or not-allowed command is a red step."""
        try:
            command = parse_command(scan.text)
        except UnknownCommand as error:
            return self._step(Outcome.UNKNOWN_COMMAND, "red", error.message)
        try:
            return self._run_command(command)
        except PackingError as error:
            return self._step(Outcome.NOT_NOW, "red", error.message, command=command)

    def _run_command(self, command: Command) -> Step:
        name = command.name
        if name is CommandName.CLOSE:
            order = self._progress.order
            if self.state is PackState.PACKED and order is not None:  # finished by itself
                return self._step(Outcome.NOT_NOW, "amber", messages.already_packed(order.number))
            return self.close()
        if name is CommandName.NEW_BOX:
            return self.new_box()
        if name is CommandName.REWEIGH:
            return self.reweigh()
        if name is CommandName.CANCEL:
            return self.cancel()
        if name is CommandName.BOX:
            assert command.box_type is not None
            return replace(self.set_box_type(command.box_type), command=command)
        if name is CommandName.HOLD:
            self._require("hold", OPEN_STATES, Msg("There is no open order to hold."))
            reason = command.hold_reason
            if reason is None or reason is HoldReason.OTHER:
                text = (
                    Msg("Choose why the order is on hold.")
                    if reason is None
                    else Msg("Type why the order is on hold.")
                )
                return self._step(Outcome.CHOOSE_HOLD_REASON, "amber", text, command=command)
            return self.hold(reason)
        if name is CommandName.REPRINT:
            self._require(
                "reprint",
                (*OPEN_STATES, PackState.PACKED),
                Msg("There is no order to reprint a label for."),
            )
            return self._step(
                Outcome.COMMAND, "amber", Msg("Printing the label again."), command=command
            )
        # LOGOUT: the station decides (it may insist on a hold first).
        message = (
            Msg("Finish or hold this order before logging out.")
            if self.state in OPEN_STATES
            else Msg("Logging out.")
        )
        return self._step(Outcome.COMMAND, "amber", message, command=command)

    # ------------------------------------------------------------------ order

    def open_order(self, order: OrderView) -> Step:
        """Start packing an order (from idle, or after the last order was packed or held)."""
        self._require(
            "open_order",
            (PackState.IDLE, PackState.PACKED, PackState.HELD),
            Msg("Finish or hold this order before opening another."),
        )
        if order.status.lower() in NOT_PACKABLE:
            raise OrderNotPackable(not_packable(order.number, order.status.lower()))
        if not order.lines or any(line.quantity < 1 for line in order.lines):
            raise OrderNotPackable(
                Msg("Order {order} has no items to pack; ask a supervisor.", order=order.number)
            )
        progress = opened(order, self.default_box_type)
        units = order.total_units
        return self._step(
            Outcome.ORDER_OPENED,
            "green",
            plural(
                "Order {order} is open with {n} item; scan the first item.",
                "Order {order} is open with {n} items; scan the first item.",
                units,
                order=order.number,
            ),
            progress=progress,
        )

    def restore(self, order: OrderView, events: Iterable[PackEvent]) -> Step:
        """Rebuild an order's progress from its recorded events (after a crash or restart)."""
        self._require(
            "restore",
            (PackState.IDLE, PackState.PACKED, PackState.HELD),
            Msg("Finish or hold this order before reopening another."),
        )
        events = tuple(events)
        for event in events:
            if event.order_id != order.id:
                raise RestoreError(f"An event of order {event.order_id} is not for {order.id}.")
        progress = replay(order, events, self.default_box_type)
        return self._step(
            Outcome.RESTORED,
            "amber",
            plural(
                "Order {order} reopened with {done} of {n} item scanned; carry on where you "
                "left off.",
                "Order {order} reopened with {done} of {n} items scanned; carry on where you "
                "left off.",
                order.total_units,
                order=order.number,
                done=progress.units_scanned,
            ),
            progress=progress,
        )

    # ------------------------------------------------------------------ boxes

    def new_box(self, box_type: str | None = None) -> Step:
        """Close the current box for weighing; the next box (of `box_type`) follows its label."""
        progress = self._progress
        if self.state is PackState.ORDER_OPEN:
            raise IllegalTransition(
                "new_box", self.state.value, Msg("This box is empty; scan an item into it first.")
            )
        if self.state is PackState.VERIFIED:
            raise IllegalTransition(
                "new_box",
                self.state.value,
                Msg("Every item is scanned; put this box on the scale."),
            )
        self._require(
            "new_box", (PackState.VERIFYING,), Msg("Finish weighing and labelling this box first.")
        )
        if not progress.box.units:
            raise IllegalTransition(
                "new_box", self.state.value, Msg("This box is empty; scan an item into it first.")
            )
        next_type = self._box_type(box_type) if box_type else None
        progress = replace(
            progress, boxes=(*progress.boxes[:-1], replace(progress.box, sealed=True))
        )
        progress = replace(progress, next_box_type=next_type)
        return self._step(
            Outcome.BOX_SEALED,
            "green",
            Msg("Box {box} is closed; put it on the scale.", box=progress.box.box_no),
            progress=progress,
        )

    def set_box_type(self, box_type: str) -> Step:
        """Choose the type of the box being filled (its empty weight counts in the check)."""
        self._require(
            "set_box_type",
            (PackState.ORDER_OPEN, PackState.VERIFYING, PackState.VERIFIED, PackState.WEIGHING),
            Msg(
                "This box is already weighed; scan {command} to change its type.",
                command="PB:REWEIGH",
            ),
        )
        name = self._box_type(box_type)
        box = replace(self._progress.box, box_type=name)
        progress = replace(self._progress, boxes=(*self._progress.boxes[:-1], box))
        return self._step(
            Outcome.BOX_TYPE_SET,
            "green",
            # TRANSLATORS: {box_type} is a box size code from the box catalogue, e.g. M.
            Msg("Box {box} is a {box_type} box; carry on.", box=box.box_no, box_type=name),
            progress=progress,
        )

    def cancel(self) -> Step:
        """Cancel the current prompt: a serial being asked for, or a box closed by mistake."""
        progress = self._progress
        if self.state in OPEN_STATES and progress.pending_serial is not None:
            return self._step(
                Outcome.CANCELLED,
                "amber",
                Msg("The item waiting for a serial number was not counted; scan the next item."),
                progress=replace(progress, pending_serial=None),
            )
        if (
            self.state is PackState.WEIGHING
            and progress.box.rejected_grams is None
            and not progress.complete
        ):
            box = replace(progress.box, sealed=False)
            return self._step(
                Outcome.CANCELLED,
                "amber",
                Msg("Box {box} is open again; scan the next item.", box=box.box_no),
                progress=replace(progress, boxes=(*progress.boxes[:-1], box), next_box_type=None),
            )
        raise IllegalTransition("cancel", self.state.value, Msg("There is nothing to cancel."))


_NOT_PACKABLE_TEXT = {
    "cancelled": Msg("Order {order} is cancelled; put it aside and ask a supervisor."),
    "packed": Msg("Order {order} is packed; put it aside and ask a supervisor."),
    "shipped": Msg("Order {order} is shipped; put it aside and ask a supervisor."),
    "delivered": Msg("Order {order} is delivered; put it aside and ask a supervisor."),
    "completed": Msg("Order {order} is completed; put it aside and ask a supervisor."),
    "returned": Msg("Order {order} is returned; put it aside and ask a supervisor."),
    "on_hold": Msg("Order {order} is on hold; put it aside and ask a supervisor."),
}


def not_packable(number: str, status: str) -> Text:
    """Why an order cannot be packed here, by its status (a whole sentence per status)."""
    text = _NOT_PACKABLE_TEXT.get(status)
    if text is None:
        return Msg(
            "Order {order} cannot be packed (status {status}); put it aside and ask a supervisor.",
            order=number,
            status=status,
        )
    return Msg.of(text.text, {"order": number})
