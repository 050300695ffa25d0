"""Order exceptions and hold reasons in the console reader's language.

The service stores what an exception means as a code and its parameters (`details["say"]`;
a hold reason carries the parameters beside its code), the sentences being
sync.protocol.EXCEPTION_MESSAGES; the console has the same sentences in its catalogue. One
without them (a person's note, a carrier's own words, an older row) shows its English.
"""

from __future__ import annotations

from typing import Any

from service.ingest.validate import exception_params
from service.web.i18n import N_, gettext_
from sync.protocol import exception_say

EXCEPTIONS: dict[str, N_] = {
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
    "label_not_voided": N_(
        "{carrier} did not cancel label {tracking} of cancelled order {order}: void it in"
        " the carrier's portal."
    ),
    "fulfilment_not_published": N_("The shop {shop} was not told this order shipped: {error}"),
    "packed_incomplete": N_(
        "Order {order} was reported packed, but {problems}. Check its boxes and labels "
        "before dispatch."
    ),
    "unpack_cancelled": N_(
        "Order {order} was cancelled after packing: {units} unit(s) are in its parcel. "
        "Take it to the returns bench and scan {order} to put them back on the shelf."
    ),
    "oversold": N_(
        "Order {order} was packed with {sku} that the ledger did not have available. "
        "Count the shelf and adjust the stock."
    ),
    "dispose_failed": N_(
        "Shopify ({shop}) did not take the dispositions of return {rma}: {error}. Dispose"
        " the return in Shopify, or fix the cause and retry the job, then resolve this "
        "exception."
    ),
    "refund_failed": N_(
        "The shop {shop} did not refund return {rma}: {error}. Refund it in the shop, "
        "then resolve this exception."
    ),
    "weight_override": N_("Weight override by {by}: {reason}"),
    "paid_not_packed": N_(
        "Order {order} was received {hours} hours ago and paid, but is still {status}, not packed."
    ),
    "packed_not_shipped": N_("Order {order} was packed {hours} hours ago but has not shipped."),
    "shipped_no_tracking": N_("Order {order} shipped {hours} hours ago without a tracking number."),
}


def _words(code: str, params: dict[str, str], english: str) -> str:
    sentence = EXCEPTIONS.get(code)
    if sentence is None:
        return english
    try:
        return gettext_(sentence._message).format(**params)
    except (KeyError, IndexError, ValueError):
        return english  # a translation that lost a placeholder: the English is safer


def exception_words(exc: Any) -> str:
    """An exception (an OrderException row) in the reader's language."""
    english = str(getattr(exc, "message", "") or "")
    said = exception_say(getattr(exc, "details", None))
    return english if said is None else _words(said[0], said[1], english)


def reason_words(reason: Any) -> str:
    """A hold reason ({"code", "message", ...parameters}) in the reader's language."""
    if not isinstance(reason, dict):
        return str(reason)
    english = str(reason.get("message") or "")
    say = exception_params({str(k): str(v) for k, v in reason.items()}).get("say")
    return english if say is None else _words(say["code"], say["params"], english)
