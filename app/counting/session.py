"""`CountSession`: a cycle count at the bench as a state machine. Every scan gets a tone, one
sentence and the events to record; it touches no device, widget or database, and bad input
is a red answer with no events.

States: `bin` (scan the bin label `PB:LOC:<NAME>`) -> `counting` (scan each unit; `PB:QTY:n`
says the last scan was n units, 0 for "none here") -> `PB:CLOSE` records one `stock_counted`
event -> `bin`. `PB:CANCEL` drops the bin's count, or leaves count mode when no bin is open.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from app.i18n import Msg, Text, _
from app.packing import messages
from app.packing.events import PackEvent
from app.returns.session import Tone
from sync.protocol import MAX_COUNT_LINES, MAX_COUNT_UNITS, CountLine, MutationType, StockCounted

ENTER = "PB:COUNT"
LOCATION_PREFIX = "PB:LOC:"
QTY_PREFIX = "PB:QTY:"
_LOCATION = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{0,31}$")

# A product the station's catalogue knows: (sku, name), or None.
Resolve = Callable[[str], "tuple[str, str] | None"]


def is_enter_count(text: str) -> bool:
    """Whether the scan is the `PB:COUNT` command."""
    return text.strip().upper() == ENTER


def location_barcode(location: str) -> str:
    """The bin label's barcode for a location."""
    return f"{LOCATION_PREFIX}{location.strip().upper()}"


class CountState(StrEnum):
    BIN = "bin"
    COUNTING = "counting"


@dataclass(frozen=True, slots=True)
class CountStep:
    """The answer to one scan; `leave` ends count mode."""

    tone: Tone
    message: Text  # deferred sentence, rendered in the reader's language when shown
    events: tuple[PackEvent, ...] = ()
    leave: bool = False


@dataclass
class CountSession:
    """One bin at a time; `counts` is units found per SKU, in scan order."""

    resolve: Resolve
    online: Callable[[], bool] = lambda: True
    packer_id: int | None = None
    state: CountState = CountState.BIN
    location: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    last: tuple[str, int] | None = None  # (sku, units) of the last scan, for PB:QTY

    def scan(self, text: str) -> CountStep:
        """Answer one scan; the caller records `events` before adopting the step."""
        code = text.strip()
        upper = code.upper()
        if not code:
            return CountStep("red", Msg("That barcode was empty. Scan it again."))
        if upper.startswith(LOCATION_PREFIX):
            return self._bin(upper[len(LOCATION_PREFIX) :], code)
        if upper.startswith(QTY_PREFIX):
            return self._quantity(upper[len(QTY_PREFIX) :], code)
        if upper.startswith("PB:"):
            return self._command(upper, code)
        if self.state is CountState.BIN:
            return CountStep("red", messages.count_bin_first(code))
        return self._unit(code)

    def _bin(self, name: str, code: str) -> CountStep:
        if self.state is CountState.COUNTING:
            return CountStep("red", messages.count_other_bin(self.location))
        if not _LOCATION.match(name):
            return CountStep("red", messages.count_bad_bin(code))
        self.state, self.location = CountState.COUNTING, name
        self.counts, self.names, self.last = {}, {}, None
        return CountStep("green", messages.count_bin_open(name))

    def _unit(self, code: str) -> CountStep:
        found = self.resolve(code)
        if found is None:
            return CountStep("red", messages.count_unknown_item(code))
        sku, name = found
        if sku not in self.counts and len(self.counts) >= MAX_COUNT_LINES:
            return CountStep(
                "red",
                Msg("This bin has too many products for one count: {command}.", command="PB:CLOSE"),
            )
        if self.counts.get(sku, 0) + 1 > MAX_COUNT_UNITS:
            return CountStep("red", messages.count_bad_qty(code))
        self.counts[sku] = self.counts.get(sku, 0) + 1
        self.names[sku] = name
        self.last = (sku, 1)
        return CountStep("green", messages.count_unit(sku, name, self.counts[sku], self.location))

    def _quantity(self, raw: str, code: str) -> CountStep:
        if self.state is not CountState.COUNTING or self.last is None:
            return CountStep("red", messages.count_qty_first())
        if not raw.isdigit() or int(raw) > MAX_COUNT_UNITS:
            return CountStep("red", messages.count_bad_qty(code))
        sku, units = self.last
        total = self.counts[sku] - units + int(raw)
        if total > MAX_COUNT_UNITS:
            return CountStep("red", messages.count_bad_qty(code))
        self.counts[sku] = total
        self.last = (sku, int(raw))
        return CountStep("green", messages.count_unit(sku, self.names[sku], total, self.location))

    def _command(self, upper: str, code: str) -> CountStep:
        if upper == ENTER:
            if self.state is CountState.COUNTING:
                return CountStep("amber", messages.count_bin_open(self.location))
            return CountStep("amber", messages.count_entered())
        if upper == "PB:CLOSE":
            return self._confirm()
        if upper == "PB:CANCEL":
            if self.state is CountState.COUNTING:
                location = self.location
                self._reset()
                return CountStep("amber", messages.count_dropped(location))
            return CountStep("amber", messages.count_left(), leave=True)
        if upper == "PB:LOGOUT":
            if self.state is CountState.COUNTING:
                return CountStep("red", messages.count_other_bin(self.location))
            return CountStep("amber", messages.count_left(), leave=True)
        return CountStep("red", messages.count_not_a_command(code))

    def _confirm(self) -> CountStep:
        if self.state is not CountState.COUNTING:
            return CountStep("red", messages.count_bin_first("PB:CLOSE"))
        if not self.counts:
            return CountStep("red", messages.count_nothing())
        event = PackEvent(
            MutationType.STOCK_COUNTED,
            None,
            StockCounted(
                location=self.location,
                lines=[CountLine(sku=s, counted=n) for s, n in self.counts.items()],
                packer_id=self.packer_id,
            ),
        )
        message = messages.count_saved(
            self.location, len(self.counts), sum(self.counts.values()), self.online()
        )
        self._reset()
        return CountStep("green", message, events=(event,))

    def _reset(self) -> None:
        self.state, self.location = CountState.BIN, ""
        self.counts, self.names, self.last = {}, {}, None


def printable_count_commands() -> tuple[tuple[str, str], ...]:
    """(barcode, caption) for the command sheet, captions in the current language."""
    return (
        (ENTER, _("Count mode (cycle count)")),
        (location_barcode("MAIN"), _("Bin: {location}", location="MAIN")),
        (location_barcode("B-GRADE"), _("Bin: {location}", location="B-GRADE")),
        ("PB:QTY:0", _("Quantity: none here")),
        ("PB:QTY:6", _("Quantity: {n}", n=6)),
        ("PB:QTY:12", _("Quantity: {n}", n=12)),
    )
