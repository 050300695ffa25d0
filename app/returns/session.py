"""`ReturnSession`: the returns bench as a state machine that answers every scan with the next
state, a tone, one sentence and the events to record. It never touches a device, a widget or
the database; bad input is a red answer with no events.

States: `waiting` (scan the parcel's label: tracking number, order number or RMA code) ->
`looking_up` (the station asks the service) -> `open` (scan each unit) -> `unit` (scan its
disposition) -> `open` ... -> `PB:CLOSE` -> `waiting`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from app.i18n import N_, Msg, Text, _
from app.packing.events import PackEvent
from app.packing.gtin import normalise_gtin
from app.returns.commands import (
    DISPOSITIONS,
    NotAReturnCommand,
    ReturnCommand,
    ReturnCommandName,
    parse,
)
from sync.protocol import (
    Disposition,
    MutationType,
    ReturnClosed,
    ReturnLineInfo,
    ReturnLookup,
    ReturnReason,
    ReturnUnitReceived,
)

Tone = Literal["green", "amber", "red"]  # as on the pack screen


class ReturnState(StrEnum):
    WAITING = "waiting"
    LOOKING_UP = "looking_up"
    OPEN = "open"
    UNIT = "unit"


@dataclass(frozen=True, slots=True)
class UnitLabel:
    """A label for one unit booked in: a bin label (restock) or a B-grade label."""

    order_id: int
    order_number: str
    return_code: str | None
    line_id: int
    sku: str
    name: str
    disposition: Disposition
    reason: ReturnReason | None


@dataclass(frozen=True, slots=True)
class SlipLabel:
    """The return slip of a closed parcel: each unit booked in and what happened to it."""

    order_id: int
    order_number: str
    return_code: str | None
    lines: tuple[str, ...]
    summary: str


@dataclass(frozen=True, slots=True)
class ReturnStep:
    """The answer to one scan: tone, sentence, events to record first, and (for a parcel
    label) the code to look up at the service. `leave` ends returns mode; `label` is the
    label to print with the events; `reprint` asks for the last label again."""

    tone: Tone
    message: Text  # deferred sentence, rendered in the reader's language when shown
    events: tuple[PackEvent, ...] = ()
    lookup: str | None = None
    leave: bool = False
    label: UnitLabel | SlipLabel | None = None
    reprint: bool = False


_WORDS = {
    Disposition.RESTOCK: N_("restocked"),
    # TRANSLATORS: second-quality goods sold at a discount.
    Disposition.B_GRADE: N_("B-grade"),
    Disposition.WRITE_OFF: N_("written off"),
}
_PICK = "PB:RESTOCK, PB:BGRADE, PB:WRITEOFF"


_REASONS = {
    ReturnReason.DAMAGED: N_("damaged"),
    ReturnReason.WRONG_ITEM: N_("wrong item"),
    # TRANSLATORS: a returned item that is not from this shop.
    ReturnReason.NOT_OURS: N_("not ours"),
}


def _what_happened(disposition: Disposition, reason: ReturnReason | None) -> Msg:
    """ "restocked" / "B-grade (damaged)": what happened to one unit, in the reader's words."""
    what = Msg(_WORDS[disposition])
    if reason is None:
        return what
    why = _REASONS.get(reason)
    # TRANSLATORS: a disposition and its reason, e.g. "B-grade (damaged)".
    return Msg("{what} ({reason})", what=what, reason=Msg(why) if why else reason.value)


@dataclass
class ReturnSession:
    """One return parcel at a time; `booked` counts units booked in per order line."""

    state: ReturnState = ReturnState.WAITING
    parcel: ReturnLookup | None = None
    unit: ReturnLineInfo | None = None
    unit_code: str = ""
    booked: Counter[int] = field(default_factory=Counter)
    dispositions: Counter[Disposition] = field(default_factory=Counter)
    packer_id: int | None = None
    units: list[tuple[str, Msg]] = field(default_factory=list)  # (SKU, "restocked"): the slip

    # ------------------------------------------------------------------ scans

    def scan(self, text: str) -> ReturnStep:
        """Answer one scan; the caller records `events` before adopting the step."""
        try:
            command = parse(text)
        except NotAReturnCommand:
            return ReturnStep(
                "red", Msg("{code} is not a returns command. Use the sheet.", code=text.strip())
            )
        if command is not None:
            return self._command(command)
        code = text.strip()
        if not code:
            return ReturnStep("red", Msg("That barcode was empty. Scan it again."))
        if self.state is ReturnState.WAITING:
            self.state = ReturnState.LOOKING_UP
            return ReturnStep("amber", Msg("Looking up {code}…", code=code), lookup=code)
        if self.state is ReturnState.LOOKING_UP:
            return ReturnStep("amber", Msg("Still looking the parcel up; wait a moment."))
        if self.state is ReturnState.UNIT:
            assert self.unit is not None
            return ReturnStep(
                "red",
                Msg(
                    "Choose what happens to the {sku} first: {restock}, {bgrade} or {writeoff}.",
                    sku=self.unit.sku,
                    restock="PB:RESTOCK",
                    bgrade="PB:BGRADE",
                    writeoff="PB:WRITEOFF",
                ),
            )
        return self._unit(code)

    def looked_up(self, parcel: ReturnLookup) -> ReturnStep:
        """The service named the order (and open return) of the scanned label."""
        self.parcel = parcel
        self.state = ReturnState.OPEN
        self.booked = Counter()
        self.dispositions = Counter()
        self.units = []
        if parcel.return_code:
            said = Msg(
                "Return of order {order} ({rma}): scan each unit.",
                order=parcel.order_number,
                rma=parcel.return_code,
            )
        else:
            said = Msg(
                "Return of order {order} (not announced): scan each unit.",
                order=parcel.order_number,
            )
        return ReturnStep("green", said)

    def lookup_failed(self, sentence: Text) -> ReturnStep:
        """The service refused the code or could not be reached: scan another label."""
        self.state = ReturnState.WAITING
        return ReturnStep("red", sentence)

    # ------------------------------------------------------------------ steps

    def _unit(self, code: str) -> ReturnStep:
        assert self.parcel is not None
        line = self._match(code)
        if line is None:
            return ReturnStep(
                "red",
                Msg(
                    "{code} is not in order {order}. Put it aside for a supervisor; "
                    "nothing was recorded.",
                    code=code,
                    order=self.parcel.order_number,
                ),
            )
        if line.returned + self.booked[line.line_id] + 1 > line.shipped:
            return ReturnStep(
                "red",
                Msg(
                    "Order {order} shipped {shipped} of {sku}, and all of them are back "
                    "already; nothing was recorded.",
                    order=self.parcel.order_number,
                    shipped=line.shipped,
                    sku=line.sku,
                ),
            )
        self.unit, self.unit_code = line, code
        self.state = ReturnState.UNIT
        return ReturnStep(
            "amber",
            Msg(
                "{sku} {product}: scan {restock}, {bgrade} or {writeoff}.",
                sku=line.sku,
                product=line.name,
                restock="PB:RESTOCK",
                bgrade="PB:BGRADE",
                writeoff="PB:WRITEOFF",
            ),
        )

    def _match(self, code: str) -> ReturnLineInfo | None:
        assert self.parcel is not None
        wanted = code.strip().upper()
        gtin = normalise_gtin(code)
        for line in self.parcel.lines:
            if wanted == line.sku.upper() or wanted in (a.upper() for a in line.aliases):
                return line
            if gtin is not None and gtin in line.gtins:
                return line
        return None

    def _command(self, command: ReturnCommand) -> ReturnStep:
        name = command.name
        if name in DISPOSITIONS:
            return self._dispose(DISPOSITIONS[name], command.reason)
        if name is ReturnCommandName.CLOSE:
            return self._close()
        if name is ReturnCommandName.CANCEL:
            return self._cancel()
        if name is ReturnCommandName.REPRINT:
            return ReturnStep("amber", Msg("Printing the last return label again."), reprint=True)
        if name is ReturnCommandName.LOGOUT:
            return ReturnStep("amber", Msg("Leaving returns mode."), leave=True)
        return ReturnStep("amber", Msg("Returns mode is on. Scan the return parcel's label."))

    def _dispose(self, disposition: Disposition, reason: ReturnReason | None) -> ReturnStep:
        if self.state is not ReturnState.UNIT or self.unit is None or self.parcel is None:
            return ReturnStep(
                "red", Msg("Scan a unit before its disposition; nothing was recorded.")
            )
        event = PackEvent(
            MutationType.RETURN_UNIT_RECEIVED,
            self.parcel.order_id,
            ReturnUnitReceived(
                return_code=self.parcel.return_code,
                line_id=self.unit.line_id,
                disposition=disposition,
                reason=reason,
                code=self.unit_code[:100],
                packer_id=self.packer_id,
            ),
        )
        sku = self.unit.sku
        label = None
        if disposition in (Disposition.RESTOCK, Disposition.B_GRADE):
            label = UnitLabel(
                self.parcel.order_id,
                self.parcel.order_number,
                self.parcel.return_code,
                self.unit.line_id,
                sku,
                self.unit.name,
                disposition,
                reason,
            )
        self.booked[self.unit.line_id] += 1
        self.dispositions[disposition] += 1
        what = _what_happened(disposition, reason)
        self.units.append((sku, what))
        self.unit, self.unit_code = None, ""
        self.state = ReturnState.OPEN
        return ReturnStep(
            "green",
            Msg(
                "{sku} {what}. Scan the next unit or {close}.", sku=sku, what=what, close="PB:CLOSE"
            ),
            events=(event,),
            label=label,
        )

    def _close(self) -> ReturnStep:
        if self.state is ReturnState.UNIT:
            return ReturnStep("red", Msg("Choose a disposition for the last unit before closing."))
        if self.state is not ReturnState.OPEN or self.parcel is None:
            return ReturnStep("red", Msg("No return parcel is open. Scan its label first."))
        if not self.booked and self.parcel.return_code is None:
            return ReturnStep(
                "red", Msg("No unit was booked in. Scan a unit, or {cancel}.", cancel="PB:CANCEL")
            )
        event = PackEvent(
            MutationType.RETURN_CLOSED,
            self.parcel.order_id,
            ReturnClosed(return_code=self.parcel.return_code, packer_id=self.packer_id),
        )
        # The slip prints now, in the language of whoever closed the parcel.
        summary = ", ".join(
            _("{n} {what}", n=n, what=_(_WORDS[d]))
            for d, n in sorted(self.dispositions.items())
            if n
        ) or _("no units")
        number = self.parcel.order_number
        lines = tuple(f"{sku}  {what}" for sku, what in self.units)
        slip = SlipLabel(self.parcel.order_id, number, self.parcel.return_code, lines, summary)
        self._reset()
        return ReturnStep(
            "green",
            Msg(
                "Return of order {order} closed: {summary}. Scan the next parcel.",
                order=number,
                summary=summary,
            ),
            events=(event,),
            label=slip,
        )

    def _cancel(self) -> ReturnStep:
        if self.state is ReturnState.UNIT:
            self.unit, self.unit_code = None, ""
            self.state = ReturnState.OPEN
            return ReturnStep(
                "amber", Msg("Unit put back. Scan the next unit or {close}.", close="PB:CLOSE")
            )
        if self.state in (ReturnState.OPEN, ReturnState.LOOKING_UP):
            self._reset()
            return ReturnStep(
                "amber",
                Msg("Parcel left open (units booked in stay booked). Scan the next parcel."),
            )
        return ReturnStep("amber", Msg("Leaving returns mode."), leave=True)

    def _reset(self) -> None:
        self.state = ReturnState.WAITING
        self.parcel = None
        self.unit, self.unit_code = None, ""
        self.booked = Counter()
        self.dispositions = Counter()
        self.units = []
