"""Claims over the station client: a granted lease is written to the replica at once.

A refusal comes as a message code and its parameters (sync protocol 3); the station says it
in the packer's language from the table below. A service older than that sends English only,
shown as it came.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from app.i18n import N_, Msg, Text, _
from app.station.ports import ClaimRefused, LeaseRecord, Offline
from sync.client import StationClient
from sync.errors import ClaimRefusedError, SyncError, SyncUnavailable
from sync.protocol import ClaimRefused as ClaimRefusal
from sync.protocol import ClaimRequest
from sync.replica import Replica

log = logging.getLogger(__name__)

# sync.protocol.CLAIM_MESSAGES, as sentences the catalogue translates (same English).
REFUSALS: dict[str, str] = {
    "order_held_elsewhere": N_(
        "Order {order} is being packed at station {station} (claimed {since} UTC, until {until})."
    ),
    "order_in_other_batch": N_(
        "Order {order} belongs to a batch assigned to station {station}. "
        "A supervisor can reassign it."
    ),
    "batch_elsewhere": N_("Batch {batch} is assigned to station {station}."),
    "batch_unknown": N_("Batch {batch} does not exist."),
    "order_unknown": N_("Order {order} does not exist."),
    "batch_empty": N_("The batch has no orders."),
    "order_not_packable": N_("Order {order} cannot be packed: it is {status}."),
    "order_not_packable_why": N_("Order {order} cannot be packed: it is {status} ({why})."),
}
# Not app/views/words.py's status words: these complete a sentence ("it is {status}"),
# those label a table cell, and several languages word the two differently.
# TRANSLATORS: an order's status, completing "Order {order} cannot be packed: it is {status}."
STATUSES: dict[str, str] = {
    "pending": N_("pending"),
    "confirmed": N_("confirmed"),
    "allocated": N_("allocated"),
    "picking": N_("being picked"),
    "packed": N_("packed"),
    "shipped": N_("shipped"),
    "delivered": N_("delivered"),
    "completed": N_("completed"),
    # TRANSLATORS: "on hold" = put aside until someone resolves a problem.
    "on_hold": N_("on hold"),
    "backorder": N_("on backorder"),
    "cancelled": N_("cancelled"),
    "returned": N_("returned"),
}


def coded_text(table: Mapping[str, str], code: object, params: object, what: str) -> Msg | None:
    """The sentence `table` holds for a code the service sent, filled with its parameters, in
    the reader's language (an order status parameter in words). None when this station does
    not know the code or the parameters do not fill the sentence: then the caller shows the
    service's own English, which is safer than a sentence with a hole (logged)."""
    sentence = table.get(str(code or ""))
    if sentence is None or not isinstance(params, Mapping):
        return None
    said: dict[str, object] = {str(k): v for k, v in params.items()}
    if "status" in said:
        status = str(said["status"])
        said["status"] = Msg.of(STATUSES[status], {}) if status in STATUSES else status
    try:
        sentence.format(**said)  # every placeholder present
    except (KeyError, IndexError, ValueError):
        log.warning("%s %s lacks parameters %s; English shown", what, code, params)
        return None
    return Msg.of(sentence, said)


def refusal_text(refusal: ClaimRefusal) -> Text:
    """What the packer reads: the coded sentence in their language, else the service's own
    English (an older service, or a code this station does not know yet)."""
    said = coded_text(REFUSALS, refusal.code, refusal.params or {}, "claim refusal")
    return said if said is not None else refusal.message


class ClientClaims:
    """`Claims` for the runtime; runs on a background thread, never on the GUI thread."""

    def __init__(self, client: StationClient, replica: Replica) -> None:
        self.client = client
        self.replica = replica

    def claim_order(self, order_id: int) -> LeaseRecord:
        """Claim one order; raise ClaimRefused with the service's sentence, or Offline."""
        try:
            response = self.client.claim(ClaimRequest(order_id=order_id))
        except ClaimRefusedError as exc:
            raise ClaimRefused(refusal_text(exc.refusal)) from exc
        except SyncUnavailable as exc:
            raise Offline(str(exc)) from exc
        except SyncError as exc:
            raise ClaimRefused(_("The service refused the claim: {error}", error=exc)) from exc
        self.replica.apply_leases(response.leases)
        for lease in response.leases:
            if lease.order_id == order_id:
                return LeaseRecord(
                    lease.station_id, lease.station_name, lease.epoch, lease.expires_at
                )
        raise ClaimRefused(_("The service granted no lease for this order; ask a supervisor."))

    def claim_batch(self, batch_id: int) -> int:
        """Lease a whole batch so its orders can be packed through a network outage."""
        try:
            response = self.client.claim(ClaimRequest(batch_id=batch_id))
        except ClaimRefusedError as exc:
            raise ClaimRefused(refusal_text(exc.refusal)) from exc
        except SyncUnavailable as exc:
            raise Offline(str(exc)) from exc
        self.replica.apply_leases(response.leases)
        return len(response.leases)
