"""Returns mode at the station: routes scans to the pure `app.returns` core, records its
events in the outbox before showing green, and looks parcels up at the service off the GUI
thread (a return parcel's order is rarely in this station's cache)."""

from __future__ import annotations

import copy
import logging
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.i18n import N_, Msg, _, join
from app.printing.documents import CommandEntry
from app.returns.commands import is_enter_returns, printable_return_commands
from app.returns.session import (
    ReturnSession,
    ReturnState,
    ReturnStep,
    SlipLabel,
    Tone,
    UnitLabel,
)
from app.station.ports import Background, Offline, StationStore
from sync.client import StationClient
from sync.errors import SyncRejected, SyncUnavailable
from sync.protocol import MutationType, ReturnClosed, ReturnLookup, ReturnUnitReceived

if TYPE_CHECKING:
    from app.station.return_labels import ReturnLabels

log = logging.getLogger(__name__)

ReturnsLookup = Callable[[str], ReturnLookup]
ENTERED = N_("Returns mode: scan the return parcel's label (tracking, order number or RMA).")
OFFLINE = N_(
    "Offline: the service is needed to find a return parcel's order. "
    "Try again when the connection is back."
)


class LookupRefused(Exception):
    """The service knows no returnable order by that code; the message says why."""


def client_lookup(client: StationClient) -> ReturnsLookup:
    """The lookup over the station client: LookupRefused with the service's sentence, or
    Offline. Runs on a background thread."""

    def lookup(code: str) -> ReturnLookup:
        try:
            return client.lookup_return(code)
        except SyncUnavailable as exc:
            raise Offline(str(exc)) from exc
        except SyncRejected as exc:
            raise LookupRefused(exc.message) from exc

    return lookup


class ReturnsDesk:
    """The station's returns mode; `active` while a packer works returns."""

    def __init__(
        self,
        store: StationStore,
        lookup: ReturnsLookup | None,
        background: Background,
        show: Callable[[Tone, object], None],
        labels: ReturnLabels | None = None,
    ) -> None:
        self.store = store
        self.lookup = lookup
        self.background = background
        self.show = show
        self.labels = labels
        self.session: ReturnSession | None = None
        self.last_job: int | None = None  # the last return label queued, for PB:REPRINT

    @property
    def active(self) -> bool:
        """Whether scans go to returns mode."""
        return self.session is not None

    @property
    def between_parcels(self) -> bool:
        """Returns mode is on and no parcel is open (nothing would be lost by leaving)."""
        return self.session is not None and self.session.state is ReturnState.WAITING

    def wants(self, text: str) -> bool:
        """Whether this scan is for returns mode (it is on, or the scan turns it on)."""
        return self.active or is_enter_returns(text)

    def handle(self, text: str, packer_id: int | None) -> bool:
        """Answer one scan; True when the packer asked to log out."""
        if self.session is None:
            if self.lookup is None:
                self.show(
                    "red", Msg("This station cannot receive returns (no service connection).")
                )
                return False
            self.session = ReturnSession(packer_id=packer_id)
            self.show("amber", Msg(ENTERED))
            return False
        before = copy.deepcopy(self.session)
        step = self.session.scan(text)
        if step.reprint:
            self.show(*self._reprint(packer_id))
            return False
        job, problem = self._queue_label(step.label)
        if not self._record(step):
            self.session = before  # nothing saved: the scan did not happen
            if job is not None and self.labels is not None:
                self.labels.withdraw(job)
            return False
        if job is not None:
            self.last_job = job
        if step.leave:
            self.session = None
            self.show("amber", step.message)
            return text.strip().upper() == "PB:LOGOUT"
        message: object = step.message
        if problem:
            message = join(
                step.message, Msg("The label cannot be printed: {problem}", problem=problem)
            )
        self.show(step.tone, message)
        if step.lookup is not None:
            self._look_up(step.lookup)
        return False

    def _queue_label(self, label: UnitLabel | SlipLabel | None) -> tuple[int | None, str | None]:
        """Queue the step's label before its event is saved (see app.station.return_labels);
        never stops the scan: a label that cannot print is said, the unit still counts."""
        if label is None or self.labels is None:
            return None, None
        try:
            if isinstance(label, UnitLabel):
                return self.labels.unit_label(label, self._ordinal(label))
            return self.labels.return_slip(label, self._closes(label.order_id) + 1)
        except Exception as exc:
            log.exception("return label not queued")
            return None, str(exc)

    def _ordinal(self, label: UnitLabel) -> int:
        """Which unit of its line this is, among those booked in at this station."""
        done = sum(
            1
            for e in self.store.order_events(label.order_id)
            if e.type is MutationType.RETURN_UNIT_RECEIVED
            and isinstance(e.payload, ReturnUnitReceived)
            and e.payload.line_id == label.line_id
        )
        return done + 1

    def _closes(self, order_id: int) -> int:
        return sum(
            1
            for e in self.store.order_events(order_id)
            if e.type is MutationType.RETURN_CLOSED and isinstance(e.payload, ReturnClosed)
        )

    def _reprint(self, packer_id: int | None) -> tuple[Tone, Msg]:
        if self.labels is None or self.last_job is None:
            return "red", Msg("No return label was printed here yet; nothing to reprint.")
        who = f"user:{packer_id}" if packer_id is not None else "station"
        self.last_job = self.labels.reprint(self.last_job, who, "reprint at the returns bench")
        return "green", Msg("The last return label prints again.")

    def leave(self) -> None:
        """Leave returns mode (logout)."""
        self.session = None

    def _record(self, step: ReturnStep) -> bool:
        if not step.events:
            return True
        try:
            self.store.record(list(step.events))
        except Exception as exc:
            log.exception("could not record %d return events", len(step.events))
            self.show(
                "red", Msg("Could not save ({error}). Nothing was recorded; scan again.", error=exc)
            )
            return False
        return True

    def _look_up(self, code: str) -> None:
        lookup = self.lookup
        assert lookup is not None

        def work() -> object:
            return lookup(code)

        self.background(work, self._looked_up)

    def _with_queued(self, parcel: ReturnLookup) -> ReturnLookup:
        """The service's count of units back, plus this station's units it had not seen yet
        (booked just before a restart, still in the outbox): a rescanned unit is not taken
        twice."""
        if parcel.applied_through is None:
            return parcel
        queued = Counter(
            e.payload.line_id
            for e in self.store.queued_events(parcel.order_id, parcel.applied_through)
            if e.type is MutationType.RETURN_UNIT_RECEIVED
            and isinstance(e.payload, ReturnUnitReceived)
        )
        if not queued:
            return parcel
        lines = [
            li.model_copy(update={"returned": li.returned + queued[li.line_id]})
            for li in parcel.lines
        ]
        return parcel.model_copy(update={"lines": lines})

    def _looked_up(self, result: object) -> None:
        session = self.session
        if session is None:
            return  # returns mode was left meanwhile
        if isinstance(result, ReturnLookup):
            step = session.looked_up(self._with_queued(result))
        elif isinstance(result, LookupRefused):
            step = session.lookup_failed(str(result))
        elif isinstance(result, Offline):
            step = session.lookup_failed(_(OFFLINE))
        else:
            log.error("return lookup failed: %r", result)
            step = session.lookup_failed(
                _("Could not look the parcel up: {error}. Scan again.", error=result)
            )
        self.show(step.tone, step.message)


def return_entries() -> tuple[CommandEntry, ...]:
    """The returns-mode commands, for the printed command sheet."""
    return tuple(CommandEntry(code, caption) for code, caption in printable_return_commands())
