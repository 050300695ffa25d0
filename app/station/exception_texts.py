"""An order exception said in the reader's language.

The service stores what an exception means as a code and its parameters
(`details["say"]`, sync.protocol.EXCEPTION_MESSAGES) and the supervisor API sends them as
`say`; the station has the same sentences in its catalogue. An exception without one (a
person's hold note, a carrier's own words, an older service, a code this station does not
know yet) shows the service's English `message`, which is then data or the best there is.
"""

from __future__ import annotations

from typing import Any

from app.i18n import N_, Text
from app.packing.finish_steps import hold_reason_words
from app.station.claims import coded_text
from sync.protocol import HoldReason

EXCEPTIONS: dict[str, str] = {
    "address_missing": N_("The order has no shipping address."),
    "address_incomplete": N_("The shipping address has no {fields}."),
    "country_invalid": N_("The shipping country '{country}' is not a known country."),
    "postcode_invalid": N_("The postcode '{postcode}' is not valid for {country}."),
    "unknown_sku": N_("No active product has the SKU '{sku}'."),
    "payment_pending": N_("The order is not paid yet."),
    "payment_void": N_("The payment was {state}; do not ship."),
    "cod_not_allowed": N_("Cash on delivery is not offered to {country}."),
    "carrier_unmapped": N_(
        "The shipping method '{shown}' maps to carrier '{carrier}', which has no adapter "
        "here. Map the method to a carrier (channel set-shipping)."
    ),
    # TRANSLATORS: {problem} is the carrier's own words, shown as they came.
    "pickup_point_missing": N_("{carrier}: {problem}."),
    "pickup_point_unsupported": N_("{carrier}: {problem}."),
    "cod_over_limit": N_("{carrier}: {problem}."),
    "cod_not_offered": N_("{carrier}: {problem}."),
    "phone_missing": N_("{carrier}: {problem}."),
    "changed_after_packing": N_(
        "{shop} changed {fields} of order {order}, which is already {status}; the change "
        "was not applied. Check the parcel."
    ),
    "cancel_after_packing": N_(
        "{shop} cancelled order {order}, but it is already {status}. Stop the parcel or "
        "arrange a return."
    ),
    # TRANSLATORS: {tracking} is a tracking number; "void" = cancel the label so it is not billed.
    "label_not_voided": N_(
        "{carrier} did not cancel label {tracking} of cancelled order {order}: void it in"
        " the carrier's portal."
    ),
    "fulfilment_not_published": N_("The shop {shop} was not told this order shipped: {error}"),
    "packed_incomplete": N_(
        "Order {order} was reported packed, but {problems}. Check its boxes and labels "
        "before dispatch."
    ),
    # TRANSLATORS: "returns bench" = the desk where returned parcels are unpacked.
    "unpack_cancelled": N_(
        "Order {order} was cancelled after packing: {units} unit(s) are in its parcel. "
        "Take it to the returns bench and scan {order} to put them back on the shelf."
    ),
    "oversold": N_(
        "Order {order} was packed with {sku} that the ledger did not have available. "
        "Count the shelf and adjust the stock."
    ),
    # TRANSLATORS: "dispositions" = what happens to each returned item (restock, write-off).
    "dispose_failed": N_(
        "Shopify ({shop}) did not take the dispositions of return {rma}: {error}. Dispose"
        " the return in Shopify, or fix the cause and retry the job, then resolve this "
        "exception."
    ),
    "refund_failed": N_(
        "The shop {shop} did not refund return {rma}: {error}. Refund it in the shop, "
        "then resolve this exception."
    ),
    # TRANSLATORS: {by} is who allowed it, {reason} the reason they typed.
    "weight_override": N_("Weight override by {by}: {reason}"),
    # TRANSLATORS: {status} is an order state (for example "confirmed").
    "paid_not_packed": N_(
        "Order {order} was received {hours} hours ago and paid, but is still {status}, not packed."
    ),
    "packed_not_shipped": N_("Order {order} was packed {hours} hours ago but has not shipped."),
    "shipped_no_tracking": N_("Order {order} shipped {hours} hours ago without a tracking number."),
}


def exception_text(say: Any, english: str, *, kind: str = "", code: str = "") -> Text:
    """What the station shows for an exception: its sentence in the reader's language when
    the service said it as a code this station knows, else the service's English. A packer's
    hold without a note reads as its reason's words (the service's text is the bare code)."""
    if kind == "hold" and code in set(HoldReason) and english == code.replace("_", " "):
        return hold_reason_words(HoldReason(code))
    if not isinstance(say, dict):
        return english
    params = say.get("params")
    if isinstance(params, dict):
        params = {k: str(v) for k, v in params.items()}
    said = coded_text(EXCEPTIONS, say.get("code"), params, "exception")
    return said if said is not None else english
