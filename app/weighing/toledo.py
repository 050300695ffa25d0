"""Toledo 8213 / 8217 demand protocol (checkout scales and their many emulations).

Single-character commands, no terminator. ``W`` asks for the weight; the answer is
``<STX>` `XXX.XX` `<CR>`` (weight with decimal point, no unit: the scale's configured unit,
normally lb) when the weight is valid, otherwise a status record ``<STX>?<status><CR>``.
``Z`` zeroes and always answers with a status record. There is no tare command.

Status byte (bit 0 = least significant):
  0 in motion, 1 out of range (over capacity), 2 under zero, 3 outside zero-capture range,
  4 centre of zero, 5 and 6 always 1 (so the byte is printable), 7 parity.
Line settings: 9600 baud, 7 data bits, even parity, 1 stop bit.
"""

from __future__ import annotations

from decimal import Decimal

from app.i18n import Msg
from app.weighing.errors import ScaleCommandRejected, ScaleProtocolError
from app.weighing.reading import ScaleReading, WeightUnit, parse_decimal
from app.weighing.serial_base import SerialScaleDriver, SerialSettings

STX = 0x02
CR = 0x0D
MOTION, OUT_OF_RANGE, UNDER_ZERO, OUTSIDE_ZERO_CAPTURE, CENTER_OF_ZERO = (1, 2, 4, 8, 16)


def split_toledo_frame(buffer: bytes) -> tuple[bytes | None, bytes, bytes]:
    """Return the body between STX and CR; bytes before STX are noise."""
    start = buffer.find(bytes([STX]))
    if start < 0:
        return None, b"", buffer
    dropped, buffer = buffer[:start], buffer[start:]
    end = buffer.find(bytes([CR]))
    if end < 0:
        return None, buffer, dropped
    return buffer[1:end], buffer[end + 1 :], dropped


def parse_toledo_frame(body: bytes, unit: WeightUnit = WeightUnit.LB) -> ScaleReading:
    """Parse a weight or status record body (without STX/CR)."""
    if body.startswith(b"?"):
        if len(body) != 2 or body[1] & 0x60 != 0x60:
            raise ScaleProtocolError(f"Malformed Toledo status record: {body!r}.")
        status = body[1]
        motion = bool(status & MOTION)
        under = bool(status & UNDER_ZERO)
        over = bool(status & OUT_OF_RANGE) and not under
        if not (motion or under or over):
            status_hex = format(status, "#04x")
            raise ScaleCommandRejected(
                Msg(
                    "The scale gave no weight (status {status}); press Zero on the scale and "
                    "try again.",
                    status=status_hex,
                )
            )
        return ScaleReading(
            Decimal(0), unit, stable=not motion, overload=over, underload=under, raw=body
        )
    text = body.decode("ascii", errors="replace")
    if not text.strip() or any(c not in "0123456789. " for c in text):
        raise ScaleProtocolError(f"Malformed Toledo weight record: {body!r}.")
    value = parse_decimal(text)
    return ScaleReading(value, unit, stable=True, at_zero=value == 0, raw=body)


class ToledoScale(SerialScaleDriver):
    """A scale in Toledo 8213/8217 mode. The unit is not on the wire: set it in the URL."""

    protocol = "Toledo 8213"
    default_settings = SerialSettings(9600, 7, "E", 1)
    split_frame = staticmethod(split_toledo_frame)
    unit = WeightUnit.LB

    def read(self) -> ScaleReading:
        """Send ``W`` and parse the weight or status record."""
        return parse_toledo_frame(self.exchange(b"W"), self.unit)

    def zero(self) -> None:
        """Send ``Z``; the status record says whether the scale is now at centre of zero."""
        body = self.exchange(b"Z")
        if not body.startswith(b"?") or len(body) != 2:
            raise ScaleProtocolError(f"Unexpected Toledo answer to Z: {body!r}.")
        status = body[1]
        if status & (MOTION | OUT_OF_RANGE | UNDER_ZERO | OUTSIDE_ZERO_CAPTURE) or not (
            status & CENTER_OF_ZERO
        ):
            raise ScaleCommandRejected(
                "The scale did not zero (moving, loaded or outside its zero range); empty "
                "the platter, wait until it is still, and try again."
            )
