"""Count mode at the station: routes scans to the pure `app.counting` core and records the
confirmed count in the outbox before showing green. The count needs no connection: offline it
waits in the outbox like any event and the screen says it is queued."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable

from app.counting.session import (
    CountSession,
    CountState,
    is_enter_count,
    printable_count_commands,
)
from app.i18n import Msg
from app.packing import messages
from app.packing.gtin import normalise_gtin
from app.printing.documents import CommandEntry
from app.returns.session import Tone
from app.station.ports import StationStore

log = logging.getLogger(__name__)


class CountDesk:
    """The station's count mode; `active` while a packer counts bins."""

    def __init__(
        self, store: StationStore, show: Callable[[Tone, object], None], online: Callable[[], bool]
    ) -> None:
        self.store = store
        self.show = show
        self.online = online
        self.session: CountSession | None = None

    @property
    def active(self) -> bool:
        return self.session is not None

    @property
    def between_bins(self) -> bool:
        """Count mode is on and no bin is being counted (nothing would be lost by leaving)."""
        return self.session is not None and self.session.state is CountState.BIN

    def wants(self, text: str) -> bool:
        """Whether this scan is for count mode (it is on, or the scan turns it on)."""
        return self.active or is_enter_count(text)

    def resolve(self, code: str) -> tuple[str, str] | None:
        """The product a scanned code names in the station's catalogue: SKU, alias or GTIN."""
        catalog = self.store.catalog
        product = catalog.by_code(code)
        if product is None:
            gtin = normalise_gtin(code)
            product = catalog.by_gtin14(gtin) if gtin is not None else None
        return (product.sku, product.name) if product is not None else None

    def handle(self, text: str, packer_id: int | None) -> bool:
        """Answer one scan; True when the packer asked to log out."""
        if self.session is None:
            self.session = CountSession(self.resolve, self.online, packer_id)
            self.show("amber", messages.count_entered())
            return False
        before = copy.copy(self.session)
        before.counts, before.names = dict(self.session.counts), dict(self.session.names)
        step = self.session.scan(text)
        if step.events:
            try:
                self.store.record(list(step.events))
            except Exception as exc:
                log.exception("could not record the count")
                self.session = before  # nothing saved: the confirm did not happen
                self.show(
                    "red",
                    Msg("Could not save ({error}). Nothing was recorded; scan again.", error=exc),
                )
                return False
        if step.leave:
            self.session = None
            self.show("amber", step.message)
            return text.strip().upper() == "PB:LOGOUT"
        self.show(step.tone, step.message)
        return False

    def leave(self) -> None:
        self.session = None


def count_entries() -> tuple[CommandEntry, ...]:
    """The count-mode commands, for the printed command sheet."""
    return tuple(CommandEntry(code, caption) for code, caption in printable_count_commands())
