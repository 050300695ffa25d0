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
