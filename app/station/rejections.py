"""An event the service rejected, said in the reader's language.

The service puts what it means in the result as a code and its parameters
(`result["say"]`, sync.protocol.REJECTION_MESSAGES); the station has the same sentences in
its catalogue. A result without one (an older service, a text only a developer can act on,
a code this station does not know yet) shows the service's English `message`.
"""

from __future__ import annotations

from app.i18n import N_, Text
from app.station.claims import coded_text
from sync.protocol import MutationResult

REJECTIONS: dict[str, str] = {
    # TRANSLATORS: "set aside" = kept apart in the station's own log, not sent again.
    "set_aside": N_(
        "The station set this event aside because the service could not accept it; "
        "it is kept in the station's log."
    ),
    "unknown_type": N_(
        "The service does not know the event type {type}. "
        "Update the station software or the service."
    ),
    "malformed": N_("The {kind} event is malformed ({where}: {problem})."),
    "order_cancelled": N_(
        "Order {order} was cancelled. Do not ship it; return the items to stock."
    ),
    "already_packed": N_(
        "Order {order} was already packed. Put this parcel aside for a supervisor."
    ),
    "already_packed_at": N_(
        "Order {order} was already packed at station {station}. "
        "Put this parcel aside for a supervisor."
    ),
    "batch_elsewhere": N_(
        "Order {order} belongs to a batch assigned to station {station}. "
        "Stop packing it here; a supervisor can reassign it."
    ),
    "not_claimed": N_("Order {order} is not claimed by this station. Claim it before packing."),
    "claimed_elsewhere": N_(
        "Order {order} was claimed by station {station} at {at} UTC. Stop packing it here."
    ),
    # TRANSLATORS: "claim" = this station's right to pack the order; "epoch" = its number.
    "older_claim": N_(
        "This event for order {order} was recorded under an older claim "
        "(epoch {epoch}, now {current}). Check the order."
    ),
    "label_not_of_order": N_("Label {label} is not a label of order {order}."),
    "event_without_order": N_("A {kind} event needs an order_id."),
    "event_with_order": N_("A {kind} event has no order_id."),
    "unknown_order": N_("Order {order} is not known to the service. Put it aside."),
}


def rejection_text(result: MutationResult) -> Text:
    """What the station shows for a rejected event (the English if it cannot say it)."""
    say = result.result.get("say")
    english = result.message or ""
    if not isinstance(say, dict):
        return english
    said = coded_text(REJECTIONS, say.get("code"), say.get("params"), "rejection")
    return said if said is not None else english
