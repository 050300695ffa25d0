"""Mettler Toledo MT-SICS (Standard Interface Command Set), level 0 commands.

Frames are ASCII lines ending in CR LF, in both directions. Commands used here:

- ``SI``  send the weight immediately, stable or not:  ``S S     100.00 g`` (stable) or
  ``S D     100.02 g`` (dynamic, i.e. still moving).
- ``S``   send the next stable weight (used only by auto-detection, read-only).
- ``Z``   zero: ``Z A`` done; ``Z I`` not executable now (busy / timed out waiting for
  stability); ``Z +`` / ``Z -`` above / below the zero-setting range.
- ``T``   tare: ``T S  <tare> <unit>`` done; ``T I``, ``T +``, ``T -`` as for zero.

Weight answers besides ``S S``/``S D``: ``S I`` command understood but not executable now
(balance busy, e.g. still zeroing); ``S +`` overload (above weighing range); ``S -``
underload (below range, e.g. pan removed). Errors for any command: ``ES`` syntax error (not
recognised), ``ET`` transmission error (parity / break), ``EL`` logical error (cannot
execute). Factory line settings on most models: 9600 baud, 8 data bits, no parity, 1 stop
bit, Xon/Xoff handshake.
"""

from __future__ import annotations

import re
from decimal import Decimal

from app.i18n import Msg
from app.weighing.errors import ScaleCommandRejected, ScaleProtocolError
from app.weighing.reading import ScaleReading, WeightUnit, parse_decimal, parse_unit
from app.weighing.serial_base import SerialScaleDriver, SerialSettings, split_crlf_frame

# A response line: a command name, a one-character status and optional fields; or a bare
# error code. `search` (not `match`) so line noise before the answer is skipped.
_RESPONSE = re.compile(rb"((?:S|SI|Z|T|I\d{1,2}) [SDIA+\-L](?: [^\r\n]*)?|E[STL])$")

_ERRORS = {
    "ES": Msg("The scale did not recognise the command (MT-SICS syntax error)."),
    "ET": Msg("The scale received a garbled command (transmission error); check the baud rate."),
    "EL": Msg("The scale cannot execute the command now (logical error)."),
}


def split_mtsics_frame(buffer: bytes) -> tuple[bytes | None, bytes, bytes]:
    """Take the first CR LF terminated MT-SICS answer from `buffer`; drop noise lines."""
    return split_crlf_frame(buffer, _RESPONSE)


def _check_error(text: str) -> None:
    if text in _ERRORS:
        raise ScaleCommandRejected(_ERRORS[text])


def parse_mtsics_weight(frame: bytes) -> ScaleReading:
    """Parse the answer to ``S``/``SI`` into a reading (or raise why there is none)."""
    text = frame.decode("ascii", errors="replace").strip()
    _check_error(text)
    parts = text.split()
    if len(parts) < 2 or parts[0] != "S":
        raise ScaleProtocolError(f"Unexpected MT-SICS answer to a weight request: {text!r}.")
    status = parts[1]
    if status in ("S", "D"):
        if len(parts) != 4:
            raise ScaleProtocolError(f"Malformed MT-SICS weight: {text!r}.")
        value = parse_decimal(parts[2])
        return ScaleReading(
            value=value,
            unit=parse_unit(parts[3]),
            stable=status == "S",
            at_zero=status == "S" and value == 0,
            raw=frame,
        )
    if status == "+":
        return ScaleReading(Decimal(0), WeightUnit.G, stable=False, overload=True, raw=frame)
    if status == "-":
        return ScaleReading(Decimal(0), WeightUnit.G, stable=False, underload=True, raw=frame)
    if status == "I":
        raise ScaleCommandRejected(Msg("The scale is busy (zeroing or taring); wait a moment."))
    raise ScaleProtocolError(f"Unexpected MT-SICS weight status: {text!r}.")


def _check_zero_or_tare(frame: bytes, command: str) -> None:
    text = frame.decode("ascii", errors="replace").strip()
    _check_error(text)
    parts = text.split()
    zero = command == "Z"
    if len(parts) < 2 or parts[0] != command:
        raise ScaleProtocolError(f"Unexpected MT-SICS answer to {command}: {text!r}.")
    status = parts[1]
    if (command, status) in (("Z", "A"), ("T", "S")):
        return
    if status == "I":
        raise ScaleCommandRejected(
            Msg(
                "The scale could not zero (still moving or busy); "
                "keep the platter still and try again."
            )
            if zero
            else Msg(
                "The scale could not tare (still moving or busy); "
                "keep the platter still and try again."
            )
        )
    if status == "+":
        raise ScaleCommandRejected(
            Msg(
                "The scale cannot zero: the load is above its zero range; "
                "take the parcel off the platter."
            )
            if zero
            else Msg(
                "The scale cannot tare: the load is above its tare range; "
                "take the parcel off the platter."
            )
        )
    if status == "-":
        raise ScaleCommandRejected(
            Msg(
                "The scale cannot zero: the load is below its zero range; "
                "put the platter back and try again."
            )
            if zero
            else Msg(
                "The scale cannot tare: the load is below its tare range; "
                "put the platter back and try again."
            )
        )
    raise ScaleProtocolError(f"Unexpected MT-SICS answer to {command}: {text!r}.")


class MtSicsScale(SerialScaleDriver):
    """A Mettler Toledo balance or indicator speaking MT-SICS."""

    protocol = "MT-SICS"
    default_settings = SerialSettings(9600, 8, "N", 1, xonxoff=True)
    split_frame = staticmethod(split_mtsics_frame)

    def read(self) -> ScaleReading:
        """Ask for the current weight (``SI``) and parse it."""
        return parse_mtsics_weight(self.exchange(b"SI\r\n"))

    def zero(self) -> None:
        """Zero the scale (``Z``); the balance waits for stability, so allow longer."""
        _check_zero_or_tare(self.exchange(b"Z\r\n", timeout_s=self.timeout_s * 3), "Z")

    def tare(self) -> None:
        """Tare the scale (``T``) with what is on the platter."""
        _check_zero_or_tare(self.exchange(b"T\r\n", timeout_s=self.timeout_s * 3), "T")
