"""What the station runtime needs from the world, as small protocols.

The real implementations sit over the local replica (`sync/`), the sync engine and the print
queue; tests use in-memory fakes. Keeping these narrow keeps the runtime testable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from app.packing.events import PackEvent
from app.packing.model import Catalog, OrderView
from app.packing.weight_rules import LearnedWeight
from sync.protocol import PinCheck


@dataclass(frozen=True, slots=True)
class UserRecord:
    """Someone who may log in at this station (from the synced user list)."""

    id: int
    name: str
    role: str  # packer | supervisor
    badge: str
    pin: PinCheck | None  # argon2id parameters + sealed verifier (app.station.auth)
    active: bool = True
    language: str | None = None  # their own (sync.languages code); None: the site's


@dataclass(frozen=True, slots=True)
class LeaseRecord:
    """This station's lease on an order, as last pulled or granted."""

    station_id: int
    station_name: str
    epoch: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order in the local cache with what the station needs to decide whether to open it."""

    view: OrderView
    lease: LeaseRecord | None
    batch_id: int | None = None
    country: str = ""
    priority: int = 0
    cutoff_at: datetime | None = None
    ship_to: tuple[str, ...] = ()  # address lines for the label
    # Whether the order's channel wants a packing slip (None: the service did not say).
    packing_slip: bool | None = None
    pickup_point: tuple[str, str] | None = None  # (carrier's point id, name and address)
    cod: str = ""  # cash on delivery to collect, e.g. "249.90 RON"; "" when prepaid
    cod_amount: Decimal | None = None  # the same as a number, in `currency` (None: prepaid)
    currency: str = ""
    # The language the order's own papers print in (None: the service did not say; the
    # destination country's then, documents.order_language).
    language: str | None = None


@dataclass(frozen=True, slots=True)
class BatchRow:
    """A batch assigned to this station, with its progress."""

    id: int
    code: str
    name: str
    total: int
    packed: int
    held: int
    cutoff_at: datetime | None


@dataclass(frozen=True, slots=True)
class BatchOrderRow:
    """One order of a batch on the batch screen: what to scan and where it stands."""

    order_id: int
    number: str
    tote: str | None
    status: str  # the order's status code (the view puts it in words)
    units: int


class StationStore(Protocol):
    """The station's local, durable state."""

    station_id: int
    catalog: Catalog

    def user_by_badge(self, badge: str) -> UserRecord | None: ...

    def order_by_code(self, code: str) -> OrderRecord | None: ...

    def order_by_id(self, order_id: int) -> OrderRecord | None: ...

    def batches(self) -> Sequence[BatchRow]: ...

    def record(self, events: Sequence[PackEvent]) -> None:
        """Commit the events durably (outbox) before returning; raise on failure."""
        ...

    def order_events(self, order_id: int) -> Sequence[PackEvent]: ...

    def queued_events(self, order_id: int, after: int) -> Sequence[PackEvent]:
        """The order's events this station recorded with a mutation id above `after` (those
        the service had not seen when it answered with `after`), rejected ones left out."""
        ...

    def queue_depth(self) -> int: ...

    def weight_profile(self, contents_key: str) -> LearnedWeight | None:
        """What earlier parcels with these contents weighed (sync.contents.contents_key)."""
        ...


class ClaimRefused(Exception):
    """Another station holds the order, or the service says it cannot be packed."""


class Offline(Exception):
    """The service cannot be reached right now."""


class Claims(Protocol):
    """Claims are made online: a lease with a fencing epoch, or a refusal with the reason."""

    def claim_order(self, order_id: int) -> LeaseRecord: ...

    def claim_batch(self, batch_id: int) -> int:
        """Lease every claimable order of a batch ahead of packing; returns how many."""
        ...


class AwaitingLabel(Exception):
    """The carrier label for this weight is not here yet; it prints once the service sends it."""


class LabelPrinting(Protocol):
    """Queue a parcel's label; completion arrives later through the runtime's callback."""

    def label_for_job(self, job_id: int) -> tuple[int | None, str | None]:
        """The carrier label id and tracking number a job printed (None for own labels)."""
        ...

    def print_label(self, order: OrderRecord, box_no: int, box_count: int, grams: int) -> int: ...

    def reprint_label(self, order: OrderRecord, box_no: int, by_user: int, reason: str) -> int: ...

    def job_outcome(self, job_id: int) -> tuple[bool, str] | None:
        """(ok, message) if the job has already ended (a job queued before a restart)."""
        ...

    def withdraw(self, job_id: int) -> bool:
        """Stop a queued label from printing; False if it already went to the printer."""
        ...


Background = Callable[[Callable[[], object], Callable[[object], None]], None]
"""Run the first callable off the GUI thread; hand its result (or exception) to the second."""
