"""Words on screen for codes that travel on the wire (one place).

A supervisor reads "damaged item", never `damaged_item`: the codes stay codes on the wire
and in events, and only the screen looks up their words, in the reader's language
(`N_` marks them for the catalogue, `_` translates them where they are shown).
"""

from __future__ import annotations

from app.i18n import N_, _, plural

_CODES = {
    # order statuses
    "pending": N_("waiting for confirmation"),
    "confirmed": N_("confirmed"),
    "allocated": N_("allocated"),
    "picking": N_("being picked"),
    "packed": N_("packed"),
    "shipped": N_("shipped"),
    "delivered": N_("delivered"),
    "completed": N_("completed"),
    "on_hold": N_("on hold"),
    "backorder": N_("back-ordered"),
    "cancelled": N_("cancelled"),
    "returned": N_("returned"),
    # hold reasons
    "short_pick": N_("item missing from the tote"),
    "damaged_item": N_("damaged item"),
    "wrong_item_in_tote": N_("wrong item in the tote"),
    "address_problem": N_("address problem"),
    "other": N_("other (see message)"),
    # exception kinds
    "hold": N_("order held at a station"),
    "weight": N_("weight overridden"),
    "validation": N_("order data to fix"),
    "rejected": N_("station event refused"),
    "cancellation": N_("cancelled by the shop"),
    "late_change": N_("changed by the shop after picking"),
    "carrier": N_("carrier problem"),
    "stuck": N_("no progress"),
    "unknown_sku": N_("product not in the catalogue"),
    # exception codes (sync.protocol.EXCEPTION_MESSAGES)
    "address_missing": N_("no shipping address"),
    "address_incomplete": N_("address incomplete"),
    "country_invalid": N_("unknown country"),
    "postcode_invalid": N_("postcode not valid"),
    "payment_pending": N_("not paid yet"),
    "payment_void": N_("payment refunded or voided"),
    "cod_not_allowed": N_("cash on delivery not offered"),
    "carrier_unmapped": N_("shipping method without a carrier"),
    "pickup_point_missing": N_("pickup point missing"),
    "pickup_point_unsupported": N_("pickup point not served"),
    "cod_over_limit": N_("cash on delivery over the limit"),
    "cod_not_offered": N_("cash on delivery not offered by the carrier"),
    "phone_missing": N_("phone number missing"),
    "changed_after_packing": N_("changed after packing"),
    "cancel_after_packing": N_("cancelled after packing"),
    # TRANSLATORS: "void" = cancel a shipping label with the carrier
    "label_not_voided": N_("label not voided"),
    "fulfilment_not_published": N_("shop not told it shipped"),
    "packed_incomplete": N_("packed with boxes unlabelled"),
    "unpack_cancelled": N_("cancelled after packing: unpack it"),
    "oversold": N_("packed without stock"),
    "dispose_failed": N_("return not disposed in the shop"),
    "refund_failed": N_("refund failed"),
    "weight_override": N_("weight overridden"),
    "paid_not_packed": N_("paid, not packed"),
    "packed_not_shipped": N_("packed, not shipped"),
    "shipped_no_tracking": N_("shipped without tracking"),
    "claimed_by_other": N_("claimed by another station"),
}


def human(code: str) -> str:
    """A code in plain words; an unknown code is shown with spaces, never hidden."""
    words = _CODES.get(code)
    return _(words) if words is not None else code.replace("_", " ")


def label_state(printed: int) -> str:
    """The exception list's label column: whether a printed label must be voided."""
    if printed <= 0:
        # TRANSLATORS: no shipping label was printed for this order
        return _("none")
    # TRANSLATORS: "void" = cancel the printed shipping label(s) with the carrier
    return str(plural("{n} printed: void it", "{n} printed: void them", printed))


_TO_PACK = frozenset({"pending", "confirmed", "allocated", "picking"})


def packer_state(status: str) -> str:
    """An order's status as the packer cares about it: to pack, packed, on hold..."""
    return _("to pack") if status in _TO_PACK else human(status)
