"""NCI / Avery Weigh-Tronix SCP-01 ("NCI standard", also used by 3825 emulations).

Commands end in CR. Answers start with LF and end with ETX:

- ``W<CR>``  ->  ``<LF>xxxx.xxuu<CR><LF>hh<CR><ETX>`` weight, unit, status bytes; or
  ``<LF>xxlb<SP>xx.xoz<CR><LF>hh<CR><ETX>`` in lb-oz mode; or only ``<LF>hh<CR><ETX>``
  when the weight is invalid (in motion, under zero, over capacity, initial zero error).
- ``S<CR>``  ->  ``<LF>hh<CR><ETX>`` status only (read-only: used by auto-detection).
- ``Z<CR>``  ->  zeroes, then ``<LF>hh<CR><ETX>``.
- anything else -> ``<LF>?<CR><ETX>``.

Status bytes (bit 0 least significant; bits 4 and 5 always 1 so they print as ``0``-``?``):
  byte 1: 0 in motion, 1 at zero, 2 RAM error, 3 EEPROM error, 6 always 0
  byte 2: 0 under capacity, 1 over capacity, 2 ROM error, 3 faulty calibration,
          6 another status byte follows
  byte 3 (optional): 0-1 range, 2 net weight, 3 initial zero error, 6 byte follows
Line settings: 9600 baud, 7 data bits, even parity, 1 stop bit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from app.i18n import N_, Msg
from app.weighing.errors import (
    ScaleCommandRejected,
    ScaleFault,
    ScaleProtocolError,
)
from app.weighing.reading import ScaleReading, WeightUnit, parse_decimal, parse_unit
from app.weighing.serial_base import SerialScaleDriver, SerialSettings

LF, CR, ETX = b"\n", b"\r", b"\x03"
_WEIGHT = re.compile(r"^\s*(-?[0-9. ]*[0-9][0-9. ]*)\s*([A-Za-z#]+)\s*$")
_LB_OZ = re.compile(r"^\s*(-?\d+)\s*lb\s+(\d+(?:\.\d+)?)\s*oz\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class NciStatus:
    """Decoded SCP-01 status bytes."""

    motion: bool
    at_zero: bool
    under: bool
    over: bool
    initial_zero_error: bool
    faults: tuple[str, ...]


def split_nci_frame(buffer: bytes) -> tuple[bytes | None, bytes, bytes]:
    """Return the text between the opening LF and the closing ETX."""
    start = buffer.find(LF)
    if start < 0:
        return None, b"", buffer
    dropped, buffer = buffer[:start], buffer[start:]
    end = buffer.find(ETX)
    if end < 0:
        return None, buffer, dropped
    return buffer[1:end], buffer[end + 1 :], dropped


def parse_nci_status(data: bytes) -> NciStatus:
    """Decode two or more status bytes."""
    if len(data) < 2 or any(b & 0x30 != 0x30 for b in data):
        raise ScaleProtocolError(f"Malformed SCP-01 status bytes: {data!r}.")
    b1, b2 = data[0], data[1]
    faults = [
        name
        for flag, name in (
            (b1 & 4, N_("RAM error")),
            (b1 & 8, N_("EEPROM error")),
            (b2 & 4, N_("ROM error")),
            (b2 & 8, N_("faulty calibration")),
        )
        if flag
    ]
    initial_zero_error = len(data) >= 3 and bool(data[2] & 8)
    return NciStatus(
        motion=bool(b1 & 1),
        at_zero=bool(b1 & 2),
        under=bool(b2 & 1),
        over=bool(b2 & 2),
        initial_zero_error=initial_zero_error,
        faults=tuple(faults),
    )


@dataclass(frozen=True, slots=True)
class _Faults:
    """The faults a scale reports, each in the reader's words: "RAM error, ROM error"."""

    names: tuple[str, ...]

    def render(self, lang: str | None = None) -> str:
        return ", ".join(Msg(name).render(lang) for name in self.names)


def parse_nci_frame(body: bytes) -> ScaleReading:
    """Parse the answer to ``W`` (weight and status, or status only)."""
    if body.rstrip(CR) == b"?":
        raise ScaleCommandRejected(Msg("The scale did not recognise the command (SCP-01 '?')."))
    parts = body.rstrip(CR).split(CR + LF)
    if len(parts) not in (1, 2):
        raise ScaleProtocolError(f"Malformed SCP-01 answer: {body!r}.")
    status = parse_nci_status(parts[-1])
    if status.faults:
        raise ScaleFault(
            Msg(
                "The scale reports {faults}; switch it off and on, and call maintenance if it "
                "persists.",
                faults=_Faults(tuple(status.faults)),
            )
        )
    if status.initial_zero_error:
        raise ScaleCommandRejected(
            Msg("The scale could not zero at power-up; empty the platter and press Zero.")
        )
    value, unit = Decimal(0), WeightUnit.G
    if len(parts) == 2:
        value, unit = _parse_nci_weight(parts[0])
    return ScaleReading(
        value,
        unit,
        stable=not status.motion,
        at_zero=status.at_zero and not status.motion,
        overload=status.over,
        underload=status.under,
        raw=body,
    )


def _parse_nci_weight(field: bytes) -> tuple[Decimal, WeightUnit]:
    text = field.decode("ascii", errors="replace")
    lb_oz = _LB_OZ.match(text)
    if lb_oz:  # "2lb 3.5oz": report as ounces so the value stays exact
        pounds, ounces = Decimal(lb_oz.group(1)), Decimal(lb_oz.group(2))
        sign = -1 if pounds < 0 or lb_oz.group(1).startswith("-") else 1
        return sign * (abs(pounds) * 16 + ounces), WeightUnit.OZ
    found = _WEIGHT.match(text)
    if found is None:
        raise ScaleProtocolError(f"Malformed SCP-01 weight: {text!r}.")
    return parse_decimal(found.group(1)), parse_unit(found.group(2))


class NciScale(SerialScaleDriver):
    """A scale speaking NCI / Weigh-Tronix SCP-01."""

    protocol = "NCI SCP-01"
    default_settings = SerialSettings(9600, 7, "E", 1)
    split_frame = staticmethod(split_nci_frame)

    def read(self) -> ScaleReading:
        """Send ``W<CR>`` and parse weight and status."""
        return parse_nci_frame(self.exchange(b"W\r"))

    def status(self) -> NciStatus:
        """Send ``S<CR>`` (read-only) and decode the status bytes."""
        body = self.exchange(b"S\r")
        if body.rstrip(CR) == b"?":
            raise ScaleCommandRejected(Msg("The scale did not recognise the status command."))
        return parse_nci_status(body.rstrip(CR))

    def zero(self) -> None:
        """Send ``Z<CR>``; the status that comes back says whether it worked."""
        body = self.exchange(b"Z\r", timeout_s=self.timeout_s * 3)
        status = parse_nci_status(body.rstrip(CR))
        if status.motion or status.over or status.under or not status.at_zero:
            raise ScaleCommandRejected(
                Msg(
                    "The scale did not zero (moving or loaded); empty the platter, wait until "
                    "it is still, and try again."
                )
            )
