"""Return states, dispositions and reason codes, written once as data."""

from __future__ import annotations

from enum import StrEnum

from sync.protocol import Disposition


class ReturnStatus(StrEnum):
    EXPECTED = "expected"  # announced, not at the bench yet
    RECEIVED = "received"  # the parcel is here and units are being booked in
    INSPECTED = "inspected"  # every unit has its disposition
    CLOSED = "closed"


R = ReturnStatus

TRANSITIONS: dict[ReturnStatus, frozenset[ReturnStatus]] = {
    R.EXPECTED: frozenset({R.RECEIVED}),
    R.RECEIVED: frozenset({R.INSPECTED}),
    R.INSPECTED: frozenset({R.CLOSED}),
    R.CLOSED: frozenset(),
}

# Units may be booked in while the parcel is open at the bench.
OPEN = frozenset({R.EXPECTED, R.RECEIVED})

# Order states from which something has left the building and may come back.
RETURNABLE_ORDER_STATES = frozenset({"shipped", "delivered", "completed", "returned"})

__all__ = ["OPEN", "RETURNABLE_ORDER_STATES", "TRANSITIONS", "Disposition", "ReturnStatus"]
