"""Returns mode at the station: routes scans to the pure `app.returns` core, records its
events in the outbox before showing green, and looks parcels up at the service off the GUI
thread (a return parcel's order is rarely in this station's cache)."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable

from app.printing.documents import CommandEntry
from app.returns.commands import is_enter_returns, printable_return_commands
from app.returns.session import ReturnSession, ReturnStep, Tone
from app.station.ports import Background, Offline, StationStore
from sync.client import StationClient
from sync.errors import SyncRejected, SyncUnavailable
from sync.protocol import ReturnLookup

log = logging.getLogger(__name__)

ReturnsLookup = Callable[[str], ReturnLookup]
ENTERED = "Returns mode: scan the return parcel's label (tracking, order number or RMA)."
OFFLINE = (
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
        show: Callable[[Tone, str], None],
    ) -> None:
        self.store = store
        self.lookup = lookup
        self.background = background
        self.show = show
        self.session: ReturnSession | None = None

    @property
    def active(self) -> bool:
        """Whether scans go to returns mode."""
        return self.session is not None

    def wants(self, text: str) -> bool:
        """Whether this scan is for returns mode (it is on, or the scan turns it on)."""
        return self.active or is_enter_returns(text)

    def handle(self, text: str, packer_id: int | None) -> bool:
        """Answer one scan; True when the packer asked to log out."""
        if self.session is None:
            if self.lookup is None:
                self.show("red", "This station cannot receive returns (no service connection).")
                return False
            self.session = ReturnSession(packer_id=packer_id)
            self.show("amber", ENTERED)
            return False
        before = copy.deepcopy(self.session)
        step = self.session.scan(text)
        if not self._record(step):
            self.session = before  # nothing saved: the scan did not happen
            return False
        if step.leave:
            self.session = None
            self.show("amber", step.message)
            return text.strip().upper() == "PB:LOGOUT"
        self.show(step.tone, step.message)
        if step.lookup is not None:
            self._look_up(step.lookup)
        return False

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
            self.show("red", f"Could not save ({exc}). Nothing was recorded; scan again.")
            return False
        return True

    def _look_up(self, code: str) -> None:
        lookup = self.lookup
        assert lookup is not None

        def work() -> object:
            return lookup(code)

        self.background(work, self._looked_up)

    def _looked_up(self, result: object) -> None:
        session = self.session
        if session is None:
            return  # returns mode was left meanwhile
        if isinstance(result, ReturnLookup):
            step = session.looked_up(result)
        elif isinstance(result, LookupRefused):
            step = session.lookup_failed(str(result))
        elif isinstance(result, Offline):
            step = session.lookup_failed(OFFLINE)
        else:
            log.error("return lookup failed: %r", result)
            step = session.lookup_failed(f"Could not look the parcel up: {result}. Scan again.")
        self.show(step.tone, step.message)


def return_entries() -> tuple[CommandEntry, ...]:
    """The returns-mode commands, for the printed command sheet."""
    return tuple(CommandEntry(code, caption) for code, caption in printable_return_commands())
