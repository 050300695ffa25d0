"""The `Scan` value: one barcode read, exactly once, from one scanner.

(Interface fixed early so the pack session can be built against it; the scanning package
fills in classification and parsing.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sync.clock import utcnow


class ScanKind(StrEnum):
    """What a scanned code is, as far as the pack flow cares."""

    ORDER = "order"  # an order barcode, e.g. ORD-100123
    TOTE = "tote"  # a pick tote, e.g. T-A17
    TRACKING = "tracking"  # a carrier tracking number
    SSCC = "sscc"  # a GS1 SSCC (AI 00)
    PRODUCT = "product"  # a GTIN (check digit valid) or an SKU-shaped code
    GS1 = "gs1"  # a GS1 element string with AIs (01 + 10/17/21 ...)
    BADGE = "badge"  # a user badge, e.g. BADGE-P001
    COMMAND = "command"  # a Packbench command barcode, e.g. PB:CLOSE
    UNKNOWN = "unknown"  # readable text, but nothing we recognise
    INVALID = "invalid"  # garbled: wrong check digit, control characters, too long...


@dataclass(frozen=True, slots=True)
class Scan:
    """One barcode read. `text` is the decoded content without prefix/suffix/AIM id."""

    raw: bytes
    text: str
    kind: ScanKind
    source: str = ""  # device URL or "wedge"
    symbology: str | None = None  # AIM identifier such as "]E0", "]C1", "]d2"
    at: datetime = field(default_factory=utcnow)
    gtin14: str | None = None  # normalised GTIN-14 for PRODUCT (when numeric) and GS1 (AI 01)
    ais: dict[str, Any] = field(default_factory=dict)  # GS1 AIs, e.g. {"01": ..., "10": ...}
    reason: str = ""  # why a scan is INVALID or UNKNOWN, in a sentence for the packer
    # Parsed AI values where GS1 defines a type: dates (11, 15, 17) as `date`, measures
    # (310x, 320x, ...) as `Decimal`. `ais` keeps the plain strings.
    ai_values: dict[str, Any] = field(default_factory=dict)
    # True when ScanGuard rejected this read: the same code again inside the double-scan
    # window, or any code inside the blanking period. `reason` says which. The pack flow
    # must not act on it; it is delivered so it can be logged and shown, never lost.
    duplicate: bool = False

    @property
    def raw_hex(self) -> str:
        """The raw bytes as spaced hex, e.g. "5d 45 30", for the scanner test page and logs."""
        return self.raw.hex(" ")

    @property
    def actionable(self) -> bool:
        """True when the pack flow should act on this scan (recognised and not a duplicate)."""
        return not self.duplicate and self.kind not in (ScanKind.INVALID, ScanKind.UNKNOWN)
