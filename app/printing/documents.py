"""Plain inputs for printed documents; the station fills them from its local cache.

Dates are fields (not `now()` calls) so the same input always prints the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sync.languages import LANGUAGES
from sync.protocol import HoldReason


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
    cod: str = ""  # cash on delivery the courier collects, e.g. "249.90 RON"


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
    title: str = "Packbench command barcodes"


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


STATION_COMMANDS: tuple[CommandEntry, ...] = (
    CommandEntry("PB:CLOSE", "Close parcel"),
    CommandEntry("PB:NEW-BOX", "Start a new box"),
    CommandEntry("PB:REPRINT", "Reprint last label"),
    CommandEntry("PB:HOLD", "Put order on hold"),
    CommandEntry("PB:LOGOUT", "Log out"),
    CommandEntry("PB:REWEIGH", "Weigh again"),
    CommandEntry("PB:CANCEL", "Cancel"),
)
BOX_COMMANDS: tuple[CommandEntry, ...] = (
    CommandEntry("PB:BOX:S", "Box small"),
    CommandEntry("PB:BOX:M", "Box medium"),
    CommandEntry("PB:BOX:L", "Box large"),
    CommandEntry("PB:BOX:MAILER", "Mailer bag"),
)


def hold_commands() -> tuple[CommandEntry, ...]:
    """One hold-reason barcode per reason in the sync protocol, e.g. PB:HOLD:SHORT_PICK."""
    return tuple(
        CommandEntry(f"PB:HOLD:{reason.name}", "Hold: " + reason.value.replace("_", " "))
        for reason in HoldReason
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
