"""Turn the bytes of one scan into a classified `Scan` (order, tote, item, GS1, ...).

Pure and thread-safe: every scanner source calls `classify` on its own thread. It never
raises for any input; garbled input becomes an INVALID scan whose `reason` tells the packer
what to do.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from biip import ParseConfig, ParseError
from biip.gs1_messages import GS1Message
from biip.gtin import Gtin
from biip.sscc import Sscc
from biip.symbology import SymbologyIdentifier
from biip.upc import Upc

from app import i18n
from app.i18n import _
from app.scanning.errors import ScannerError
from app.scanning.scan import Scan, ScanKind
from sync.clock import utcnow

log = logging.getLogger(__name__)

GS = "\x1d"  # ASCII group separator: what scanners send for FNC1 between GS1 fields

# AIM ids whose data is a GS1 element string (GS1-128, DataBar, DataMatrix, QR, DotCode,
# composite). ]E0/]E4/]I1 carry a bare GTIN instead.
GS1_SYMBOLOGIES = frozenset({"]C1", "]e0", "]e1", "]e2", "]d2", "]Q3", "]J1"})

DEFAULT_TRACKING: tuple[str, ...] = (
    r"^PBX\d{11}$",  # house carrier
    r"^1Z[0-9A-Z]{16}$",  # UPS
    r"^9[2-5]\d{20}$",  # USPS IMpb (22 digits)
    r"^420\d{5}9[2-5]\d{20}$",  # USPS IMpb with ZIP routing prefix
    r"^[A-Z]{2}\d{9}[A-Z]{2}$",  # UPU S10 (international post: RR123456785DE)
    r"^JJD\d{10,20}$",  # DHL Parcel / eCommerce
    r"^\d{15}$",  # FedEx Ground 15 digits (no GTIN or SSCC has 15 digits)
)

_DIGITS = re.compile(r"[0-9]+")
# Without an AIM id, only strings that start like AI 00 (SSCC) or AI 01/02 (GTIN) are tried
# as GS1: biip reads almost any digit string as *some* element string otherwise.
_GS1_START = re.compile(r"^(00[0-9]{18}|0[12][0-9]{14})")
_HRI_START = re.compile(r"^\([0-9]{2,4}\)")
# Control characters other than GS (C0, DEL and C1) mean the read or the label is garbled.
_CONTROL = re.compile(r"[\x00-\x1c\x1e\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class ScanRules:
    """Configurable patterns that decide what a scan is; defaults match Packbench labels."""

    order: str = r"^ORD-\d{4,}$"
    tote: str = r"^T-[A-Z0-9]{2,}$"
    # Only a guess for badges nobody has (to say "not allowed"): the station recognises a
    # badge by looking it up in the synced user list (StationRuntime.recognise).
    badge: str = r"^BADGE-[A-Z0-9]+$"
    command: str = r"^PB:[A-Z0-9_-]+(:.*)?$"
    tracking: tuple[str, ...] = DEFAULT_TRACKING
    sku: str = r"^[A-Za-z0-9][A-Za-z0-9._/-]{1,39}$"
    # What the scanner sends between GS1 fields: GS by default; some scanners are set to
    # substitute a printable character (e.g. "~" or "^") or a string such as "<GS>".
    gs1_separators: tuple[str, ...] = (GS,)
    max_length: int = 4096  # bytes; a GS1 DataMatrix holds at most ~2,300 characters
    encoding: str = "utf-8"
    _compiled: dict[str, re.Pattern[str]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _tracking: tuple[re.Pattern[str], ...] = field(
        init=False, repr=False, compare=False, default=()
    )

    def __post_init__(self) -> None:
        compiled: dict[str, re.Pattern[str]] = {}
        for name in ("order", "tote", "badge", "command", "sku"):
            compiled[name] = _compile(name, getattr(self, name))
        self._compiled.update(compiled)
        object.__setattr__(self, "_tracking", tuple(_compile("tracking", p) for p in self.tracking))
        if not self.gs1_separators or any(not s for s in self.gs1_separators):
            raise ScannerError("GS1 separators must be non-empty strings, e.g. '\\x1d' or '~'.")
        if self.max_length < 1:
            raise ScannerError("max_length must be a positive number of bytes.")
        try:
            "".encode(self.encoding)
        except LookupError as exc:
            raise ScannerError(f"Unknown scanner character set {self.encoding!r}.") from exc

    def match(self, name: str, text: str) -> bool:
        """True when `text` matches the configured pattern called `name` (e.g. "order")."""
        return self._compiled[name].match(text) is not None

    def is_tracking(self, text: str) -> bool:
        """True when `text` has the shape of a configured carrier tracking number."""
        return any(p.match(text) for p in self._tracking)


def _compile(name: str, pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ScannerError(f"The {name} pattern {pattern!r} is not a valid regex: {exc}") from exc


DEFAULT_RULES = ScanRules()
_BIIP_CONFIG = ParseConfig(separator_chars=(GS,))


def classify(
    raw: bytes, source: str = "", rules: ScanRules | None = None, at: datetime | None = None
) -> Scan:
    """Classify one scan's bytes (prefix/suffix already removed). Never raises."""
    rules = rules or DEFAULT_RULES
    at = at or utcnow()
    try:
        return _classify(raw, source, rules, at)
    except Exception:  # a classifier bug must not kill a reader thread
        log.exception("classifier failed on %d bytes from %s: %r", len(raw), source, raw[:200])
        return Scan(
            raw=raw,
            text=raw[:200].decode(rules.encoding, "replace"),
            kind=ScanKind.INVALID,
            source=source,
            at=at,
            reason=_(
                "This code could not be read. Scan it again; if it keeps failing, "
                "call a supervisor."
            ),
        )


def _classify(raw: bytes, source: str, rules: ScanRules, at: datetime) -> Scan:
    def invalid(text: str, reason: str, symbology: str | None = None) -> Scan:
        return Scan(raw, text, ScanKind.INVALID, source, symbology, at, reason=reason)

    if len(raw) > rules.max_length:
        preview = raw[:40].decode(rules.encoding, "replace")
        return invalid(
            preview + "…",
            _(
                "This read is {size} bytes long, more than the {limit} a "
                "barcode can hold: several scans ran together or the scanner is stuck. "
                "Scan one code at a time.",
                size=i18n.number(len(raw)),
                limit=i18n.number(rules.max_length),
            ),
        )
    try:
        text = raw.decode(rules.encoding)
    except UnicodeDecodeError as exc:
        return invalid(
            raw.decode(rules.encoding, "backslashreplace"),
            _(
                "The scanner sent bytes that are not text (byte {byte} of {size}). "
                "Scan again; if it repeats, check the scanner's character set.",
                byte=exc.start + 1,
                size=len(raw),
            ),
        )
    text = text.strip(" \r\n\t")
    symbology: str | None = None
    if text.startswith("]") and len(text) >= 3:
        try:
            symbology = SymbologyIdentifier.extract(text).value
            text = text[len(symbology) :]
        except (ParseError, ValueError, IndexError):
            symbology = None  # a "]" that is not an AIM id is just data
    if not text:
        return invalid(text, _("Nothing was read. Scan the code again."), symbology)

    gs1_text = text
    for sep in rules.gs1_separators:
        if sep != GS:
            gs1_text = gs1_text.replace(sep, GS)
    bad = _CONTROL.search(gs1_text)
    if bad:
        return invalid(
            text,
            f"The code has a control character (0x{ord(bad.group()):02x}) at position "
            f"{bad.start() + 1}: the label or the read is damaged. Scan it again.",
            symbology,
        )

    def scan(kind: ScanKind, **extra: Any) -> Scan:
        return Scan(raw, text, kind, source, symbology, at, **extra)

    gs1_declared = symbology in GS1_SYMBOLOGIES or GS in gs1_text
    if not gs1_declared:
        for name, kind in (
            ("command", ScanKind.COMMAND),
            ("badge", ScanKind.BADGE),
            ("order", ScanKind.ORDER),
            ("tote", ScanKind.TOTE),
        ):
            if rules.match(name, text):
                return scan(kind)

    if gs1_declared or _GS1_START.match(gs1_text) or _HRI_START.match(gs1_text):
        result = _gs1(gs1_text.lstrip(GS), raw, text, source, symbology, at, gs1_declared)
        if result is not None:
            return result

    if _DIGITS.fullmatch(text):
        numeric = _numeric(text, symbology)
        if numeric is not None:
            kind, gtin14, ais, reason = numeric
            return scan(kind, gtin14=gtin14, ais=ais, reason=reason)
    if rules.is_tracking(text):
        return scan(ScanKind.TRACKING)
    if rules.match("sku", text):
        return scan(ScanKind.PRODUCT)
    shown = text if len(text) <= 40 else text[:40] + "…"
    return scan(
        ScanKind.UNKNOWN,
        # TRANSLATORS: tote = picking crate
        reason=_(
            "{code} is not an order, tote, item, badge or command barcode this "
            "station knows. Check you scanned the right label.",
            code=repr(shown),
        ),
    )


def _gs1(
    body: str,
    raw: bytes,
    text: str,
    source: str,
    symbology: str | None,
    at: datetime,
    declared: bool,
) -> Scan | None:
    """Parse a GS1 element string (or HRI "(01)..." text) with biip.

    Returns None when the text merely looked like GS1 (not `declared` by AIM id or GS) and
    does not parse, so the caller tries the other shapes.
    """

    def out(kind: ScanKind, **extra: Any) -> Scan:
        return Scan(raw, text, kind, source, symbology, at, **extra)

    try:
        if _HRI_START.match(body):
            message = GS1Message.parse_hri(body, config=_BIIP_CONFIG)
        else:
            message = GS1Message.parse(body, config=_BIIP_CONFIG)
    except (ParseError, ValueError) as exc:
        if not declared:
            return None
        return out(
            ScanKind.INVALID,
            reason=_("This GS1 code is incomplete or damaged ({error}). Scan it again.", error=exc),
        )
    ais: dict[str, str] = {}
    values: dict[str, Any] = {}
    for element in message.element_strings:
        ai = element.ai.ai
        error = element.gtin_error or element.sscc_error or element.gln_error
        if error:
            return out(
                ScanKind.INVALID,
                reason=_(
                    "Check digit wrong in GS1 field ({ai}): {error} "
                    "The label is misprinted or misread; scan it again.",
                    ai=ai,
                    error=error,
                ),
            )
        ais[ai] = element.value
        typed = element.date or element.decimal
        if element.datetime is not None:
            typed = element.datetime
        if typed is not None:
            values[ai] = typed
    gtin = message.element_strings.get(ai="01")
    if gtin is not None and gtin.gtin is not None:
        return out(ScanKind.GS1, gtin14=gtin.gtin.as_gtin_14(), ais=ais, ai_values=values)
    if "00" in ais:
        return out(ScanKind.SSCC, ais=ais, ai_values=values)
    return out(ScanKind.GS1, ais=ais, ai_values=values)


def _numeric(
    text: str, symbology: str | None
) -> tuple[ScanKind, str | None, dict[str, Any], str] | None:
    """GTIN-8/12/13/14, UPC-E and bare SSCC (18 digits), checked; None for other lengths."""
    try:
        if symbology == "]E0" and len(text) in (6, 8) and text[0] in "01":
            # ]E0 with 8 digits is UPC-E (EAN-8 is ]E4): expand before the GTIN check.
            return ScanKind.PRODUCT, Upc.parse(text).as_upc_a().zfill(14), {}, ""
        if len(text) in (8, 12, 13, 14):
            return ScanKind.PRODUCT, Gtin.parse(text).as_gtin_14(), {}, ""
        if len(text) == 18:
            return ScanKind.SSCC, None, {"00": Sscc.parse(text).value}, ""
    except ParseError as exc:
        if len(text) == 18:
            reason = _(
                "The SSCC {code} has a wrong check digit ({error}). "
                "Scan it again or type it from the label.",
                code=text,
                error=exc,
            )
        else:
            reason = _(
                "The product code {code} has a wrong check digit ({error}). "
                "Scan it again or type it from the label.",
                code=text,
                error=exc,
            )
        return ScanKind.INVALID, None, {}, reason
    return None
