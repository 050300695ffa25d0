"""`ScreenModel`: everything the packer's screen shows, as one plain value.

The runtime produces a new model after every action; the views only render it. A test can
therefore check what the packer would see without a widget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from app.i18n import Msg, Text

Tone = Literal["green", "amber", "red"]


class Screen(StrEnum):
    LOGIN = "login"
    BATCHES = "batches"
    PACK = "pack"
    SUPERVISOR = "supervisor"


@dataclass(frozen=True, slots=True)
class LineRow:
    line_id: int
    sku: str
    name: str
    scanned: int
    required: int
    highlight: bool = False  # the line the last scan touched
    serials: tuple[str, ...] = ()  # serial numbers recorded for this line, in every box
    needs_serial: bool = False  # each unit's serial number is scanned after the item


@dataclass(frozen=True, slots=True)
class OrderHeader:
    number: str
    channel: str
    country: str
    carrier: str
    priority: int
    cutoff_at: datetime | None
    tote: str | None
    cod: str = ""  # cash on delivery the courier collects, e.g. "249.90 RON"; "" when prepaid


@dataclass(frozen=True, slots=True)
class BoxInfo:
    box_no: int
    box_type: str
    boxes: int
    expected_grams: int | None
    weight_grams: int | None
    rejected_grams: int | None = None  # the weight the banner calls wrong, until reweighed


# TRANSLATORS: a device (scanner, scale, printer) the station has not opened yet
NOT_STARTED = Msg("not started")


@dataclass(frozen=True, slots=True)
class StatusInfo:
    """The status bar: connection, queue depth and devices."""

    online: bool = False
    offline_since: datetime | None = None
    queue_depth: int = 0
    last_sync: datetime | None = None
    last_rejection: str = ""
    scanner: Text = NOT_STARTED
    scanner_tone: Tone = "amber"
    scale: Text = NOT_STARTED
    scale_tone: Tone = "amber"
    printer: Text = NOT_STARTED
    printer_tone: Tone = "amber"
    # The document printer (packing slips): "" when this station has none.
    documents: str = ""
    documents_tone: Tone = "amber"
    live_grams: int | None = None
    live_stable: bool = False


@dataclass(frozen=True, slots=True)
class ScreenModel:
    screen: Screen
    tone: Tone
    message: Text  # a deferred sentence (i18n.Msg) or plain text; str() renders it
    user_name: str = ""
    user_role: str = ""
    header: OrderHeader | None = None
    lines: tuple[LineRow, ...] = ()
    box: BoxInfo | None = None
    state: str = ""
    ask_pin_for: str = ""  # a badge whose PIN must be typed now
    ask_hold_reason: bool = False
    next_step: Text = ""  # the standing instruction: what to do next, whatever just happened
    picture_url: str = ""  # the picture of the line scanned last (or the next one to scan)
    status: StatusInfo = field(default_factory=StatusInfo)
