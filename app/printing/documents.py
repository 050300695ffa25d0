"""Plain inputs for printed documents; the station fills them from its local cache.

Dates are fields (not `now()` calls) so the same input always prints the same bytes.

Language: what goes on or in the parcel (packing slip, box contents, our own shipping label)
prints in the ORDER's language (`language`, a sync.languages code: the shop's locale for the
order, else the destination country's; `order_language()`), whatever the packer reads on
screen. What only warehouse staff read (command sheet, bin, B-grade and return labels)
prints in the station's current language. Captions below are English message ids that the
layouts translate when they draw (`app.i18n`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.i18n import N_, Money
from sync.languages import LANGUAGES, customer_language
from sync.protocol import HoldReason


def order_language(language: str | None, country: str | None) -> str:
    """The language an order's own papers print in: the one the service sent with the order
    (protocol 3), else the destination country's, else English."""
    return customer_language(language, country)


@dataclass(frozen=True, slots=True)
class SlipLine:
    """One order line as printed: SKU, product name, quantity."""

    sku: str
    name: str
    qty: int


@dataclass(frozen=True, slots=True)
class PackingSlip:
    """The packing slip that goes in the parcel."""

    order_number: str
    channel: str
    ship_to: tuple[str, ...]
    lines: tuple[SlipLine, ...]
    return_text: str
    printed_at: datetime
    shop_name: str = ""
    # The pickup point or locker the parcel goes to: (the carrier's point id, name and address).
    pickup_point: tuple[str, str] | None = None
    # Cash on delivery the courier collects: `i18n.money(...)` (formatted in the slip's
    # language) or text as the station had it ("249.90 RON"); "" when prepaid.
    cod: Money | str = ""
    language: str = "en"  # the order's language (order_language), not the packer's


@dataclass(frozen=True, slots=True)
class CommandEntry:
    """One barcode on the command sheet: the scanned value and the caption a person reads."""

    value: str
    caption: str


@dataclass(frozen=True, slots=True)
class CommandSheet:
    """The A4 sheet of command barcodes; `extra` adds caller entries such as demo badges."""

    printed_at: datetime
    extra: tuple[CommandEntry, ...] = ()
    title: str = N_("Packbench command barcodes")


@dataclass(frozen=True, slots=True)
class BoxContentLabel:
    """A label stuck on (or put in) one box of a multi-box order, listing what is inside."""

    order_number: str
    box_number: int
    box_count: int
    box_type: str
    lines: tuple[SlipLine, ...]
    packed_at: datetime
    packer: str = ""
    language: str = "en"  # on the parcel: the order's language


@dataclass(frozen=True, slots=True)
class ShippingLabel:
    """A shipping-style label drawn by us (own-fleet deliveries, demo and preview)."""

    ship_from: tuple[str, ...]
    ship_to: tuple[str, ...]
    carrier: str
    service: str
    tracking_number: str
    sscc: str  # 18 digits, printed as GS1-128 (00)
    weight_kg: float
    order_number: str
    printed_at: datetime
    language: str = "en"  # on the parcel: the order's language


# Captions are message ids: the command sheet translates them (`_()`) when it is drawn.
STATION_COMMANDS: tuple[CommandEntry, ...] = (
    # TRANSLATORS: "parcel" = the shipment being packed; a caption above a barcode.
    CommandEntry("PB:CLOSE", N_("Close parcel")),
    # TRANSLATORS: "box" = shipping carton.
    CommandEntry("PB:NEW-BOX", N_("Start a new box")),
    CommandEntry("PB:REPRINT", N_("Reprint last label")),
    # TRANSLATORS: "hold" = put an order aside until someone resolves a problem.
    CommandEntry("PB:HOLD", N_("Put order on hold")),
    CommandEntry("PB:LOGOUT", N_("Log out")),
    CommandEntry("PB:REWEIGH", N_("Weigh again")),
    CommandEntry("PB:CANCEL", N_("Cancel")),
)
BOX_COMMANDS: tuple[CommandEntry, ...] = (
    # TRANSLATORS: shipping carton sizes, captions above barcodes.
    CommandEntry("PB:BOX:S", N_("Box small")),
    CommandEntry("PB:BOX:M", N_("Box medium")),
    CommandEntry("PB:BOX:L", N_("Box large")),
    CommandEntry("PB:BOX:MAILER", N_("Mailer bag")),
)
# TRANSLATORS: captions of the hold-reason barcodes; "hold" = put the order aside.
HOLD_CAPTIONS: dict[HoldReason, str] = {
    HoldReason.SHORT_PICK: N_("Hold: short pick"),
    HoldReason.DAMAGED_ITEM: N_("Hold: damaged item"),
    HoldReason.WRONG_ITEM_IN_TOTE: N_("Hold: wrong item in tote"),
    HoldReason.ADDRESS_PROBLEM: N_("Hold: address problem"),
    HoldReason.OTHER: N_("Hold: other"),
}


def hold_commands() -> tuple[CommandEntry, ...]:
    """One hold-reason barcode per reason in the sync protocol, e.g. PB:HOLD:SHORT_PICK."""
    return tuple(
        CommandEntry(f"PB:HOLD:{reason.name}", HOLD_CAPTIONS[reason]) for reason in HoldReason
    )


def language_commands() -> tuple[CommandEntry, ...]:
    """One `PB:LANG:<code>` per language, captioned in the language's own name: the person
    logged in scans theirs and every station speaks it to them (app.station.runtime)."""
    return tuple(CommandEntry(f"PB:LANG:{code}", name) for code, name in LANGUAGES.items())


def command_entries(sheet: CommandSheet) -> tuple[CommandEntry, ...]:
    """All entries on the sheet in print order: commands, boxes, hold reasons, languages,
    extras."""
    return STATION_COMMANDS + BOX_COMMANDS + hold_commands() + language_commands() + sheet.extra


@dataclass(frozen=True, slots=True)
class BinLabel:
    """Stuck on a restocked unit (or its shelf): the product and the bin it goes to."""

    location: str
    location_code: str  # the bin's barcode, scanned in count mode
    sku: str
    name: str
    order_number: str
    printed_at: datetime


@dataclass(frozen=True, slots=True)
class BGradeLabel:
    """Stuck on a unit that is sold as second quality; `code` identifies the unit."""

    code: str
    sku: str
    name: str
    reason: str
    order_number: str
    return_code: str
    printed_at: datetime


@dataclass(frozen=True, slots=True)
class ReturnSlip:
    """Put with a closed return parcel: the RMA, the order, and what happened to each unit."""

    return_code: str  # empty: not announced (the service gives it an RMA code when it syncs)
    order_number: str
    lines: tuple[str, ...]  # "MUG-350  restocked" ...
    summary: str
    station: str
    printed_at: datetime
