"""CAS continuous output (CI/NT/ER/PB series indicators in "stream" mode).

The indicator sends a line roughly ten times a second without being asked:

    ``ST,GS,+  1.234kg<CR><LF>``

- header 1: ``ST`` stable, ``US`` unstable (moving), ``OL`` overload (weight field is then
  blanks or dashes);
- header 2: ``GS`` gross, ``NT`` net (after tare);
- some models add a device-number field (``ST,GS,01,...``);
- weight: sign then a right-aligned number, 8 characters in total;
- unit: 2 characters, ``kg``, `` g``, ``lb``, ``oz``.

Line settings: 9600 baud, 8 data bits, no parity, 1 stop bit. Being a stream, there is no
zero or tare command; the packer uses the keys on the indicator.
"""

from __future__ import annotations

import re
from decimal import Decimal

from app.weighing.errors import ScaleProtocolError
from app.weighing.reading import ScaleReading, WeightUnit, parse_decimal, parse_unit
from app.weighing.serial_base import SerialScaleDriver, SerialSettings, split_crlf_frame

_LINE = re.compile(
    rb"(ST|US|OL),(GS|NT|TR),(?:\d{1,3},)?"  # status, weight type, optional device id
    rb"([+\-]?)\s*([0-9.]*)\s*([A-Za-z]{0,3})\s*$"
)


def split_cas_frame(buffer: bytes) -> tuple[bytes | None, bytes, bytes]:
    """Return the first CR LF terminated CAS line; other lines are noise."""
    return split_crlf_frame(buffer, _LINE)


def parse_cas_line(line: bytes) -> ScaleReading:
    """Parse one CAS stream line into a reading."""
    found = _LINE.search(line)
    if found is None:
        raise ScaleProtocolError(f"Not a CAS weight line: {line!r}.")
    status, _kind, sign, number, unit_text = (g.decode("ascii") for g in found.groups())
    if status == "OL":
        return ScaleReading(Decimal(0), WeightUnit.G, stable=False, overload=True, raw=line)
    if not number or not unit_text:
        raise ScaleProtocolError(f"CAS line without weight or unit: {line!r}.")
    value = parse_decimal(sign + number)
    return ScaleReading(
        value,
        parse_unit(unit_text),
        stable=status == "ST",
        at_zero=status == "ST" and value == 0,
        raw=line,
    )


class CasScale(SerialScaleDriver):
    """A CAS indicator streaming its weight."""

    protocol = "CAS"
    continuous = True
    default_settings = SerialSettings(9600, 8, "N", 1)
    split_frame = staticmethod(split_cas_frame)

    def read(self) -> ScaleReading:
        """Return the newest complete line, waiting for one if none is buffered yet."""
        line = self.exchange(None)
        # Frames queue up while nobody reads; skip to the newest so a stale weight is never
        # reported as current.
        while True:
            newer, rest, _ = split_cas_frame(self._buffer)
            if newer is None:
                break
            line, self._buffer = newer, rest
        return parse_cas_line(line)
