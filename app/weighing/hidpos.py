"""USB HID point-of-sale scales (usage page 0x8D: Dymo, Mettler PS series, Fairbanks...).

The scale sends a 6-byte Scale Data Report (HID POS Usage Tables, "Scale Data Report"):

  byte 0  report id (3 = data report)
  byte 1  status: 1 fault, 2 stable at centre of zero, 3 in motion, 4 weight stable,
          5 under zero, 6 over weight limit, 7 requires calibration, 8 requires re-zeroing
  byte 2  weight unit: 1 mg, 2 g, 3 kg, 4 carat, 5 tael, 6 grain, 7 pennyweight,
          8 metric ton, 9 avoirdupois ton, 10 troy ounce, 11 ounce, 12 pound
  byte 3  data scaling: signed power-of-ten exponent
  byte 4-5 weight, unsigned little-endian

`hidapi` (PyPI package ``hidapi``, module ``hid``) is optional: only this driver needs it.
"""

from __future__ import annotations

import importlib
import logging
from decimal import Decimal
from typing import Any

from app.i18n import Msg
from app.weighing.driver import ScaleDriver
from app.weighing.errors import (
    ScaleCommandRejected,
    ScaleDisconnected,
    ScaleError,
    ScaleFault,
    ScaleProtocolError,
    ScaleTimeout,
    UnknownUnit,
)
from app.weighing.reading import ScaleReading, WeightUnit

log = logging.getLogger(__name__)

DATA_REPORT_ID = 3
_UNITS = {1: "mg", 2: WeightUnit.G, 3: WeightUnit.KG, 11: WeightUnit.OZ, 12: WeightUnit.LB}


def parse_hid_pos_report(report: bytes) -> ScaleReading | None:
    """Parse a Scale Data Report; None for other report ids (the scale sends a few)."""
    if len(report) < 6:
        raise ScaleProtocolError(f"Short HID scale report: {report.hex(' ')}.")
    report_id, status, unit_code, exponent_byte = report[0], report[1], report[2], report[3]
    if report_id != DATA_REPORT_ID:
        return None
    if status in (1, 7):
        if status == 1:
            raise ScaleFault(Msg("The USB scale reports a fault; call maintenance."))
        raise ScaleFault(Msg("The USB scale reports that it needs calibration; call maintenance."))
    if status == 8:
        raise ScaleCommandRejected(Msg("The USB scale needs re-zeroing; empty it and press Zero."))
    if not 2 <= status <= 6:
        raise ScaleProtocolError(f"Unknown HID scale status {status}.")
    exponent = exponent_byte - 256 if exponent_byte > 127 else exponent_byte
    raw_value = int.from_bytes(report[4:6], "little")
    value = Decimal(raw_value).scaleb(exponent)
    unit = _UNITS.get(unit_code)
    if unit == "mg":  # no mg in WeightUnit: convert exactly here
        value, unit = value / 1000, WeightUnit.G
    if not isinstance(unit, WeightUnit):
        raise UnknownUnit(
            Msg(
                "The USB scale reports its weight in unit code {code}, which Packbench cannot "
                "convert; set the scale to g, kg, lb or oz.",
                code=unit_code,
            )
        )
    if status == 5:  # the weight field carries the magnitude only
        value = -value
    return ScaleReading(
        value,
        unit,
        stable=status in (2, 4),
        at_zero=status == 2,
        overload=status == 6,
        underload=status == 5,
        raw=bytes(report[:6]),
    )


class HidPosScale(ScaleDriver):
    """A USB HID POS scale opened by vendor and product id."""

    protocol = "HID POS"

    def __init__(self, vendor_id: int, product_id: int, *, timeout_s: float = 1.0) -> None:
        self.vendor_id, self.product_id = vendor_id, product_id
        self.timeout_s = timeout_s
        self.url = f"hidpos://{vendor_id:04x}:{product_id:04x}"
        self._device: Any = None

    def open(self) -> None:
        """Open the device through hidapi (imported here: it is optional)."""
        try:
            hid = importlib.import_module("hid")
        except ImportError as exc:
            raise ScaleError(
                Msg("USB HID scales need the optional 'hidapi' package; ask IT to install it.")
            ) from exc
        try:
            device = hid.device()
            device.open(self.vendor_id, self.product_id)
        except (OSError, ValueError) as exc:
            raise ScaleDisconnected(
                Msg(
                    "The USB scale {url} cannot be opened ({error}); check the cable and the "
                    "device permissions (udev rule).",
                    url=self.url,
                    error=str(exc),
                )
            ) from exc
        self._device = device

    def close(self) -> None:
        """Close the device."""
        device, self._device = self._device, None
        if device is not None:
            try:
                device.close()
            except OSError as exc:
                log.info("closing %s: %s", self.url, exc)

    def read(self) -> ScaleReading:
        """Wait for the next data report."""
        if self._device is None:
            raise ScaleDisconnected(Msg("The USB scale {url} is not open.", url=self.url))
        timeout_ms = int(self.timeout_s * 1000)
        for _ in range(8):  # skip a few non-data reports, but never spin forever
            try:
                report = bytes(self._device.read(8, timeout_ms))
            except (OSError, ValueError) as exc:
                self.close()
                raise ScaleDisconnected(
                    Msg("The USB scale {url} went away ({error}).", url=self.url, error=str(exc))
                ) from exc
            if not report:
                raise ScaleTimeout(
                    Msg("The USB scale {url} sends nothing; is it on?", url=self.url)
                )
            reading = parse_hid_pos_report(report)
            if reading is not None:
                return reading
        raise ScaleProtocolError(f"The USB scale {self.url} sends no weight reports.")
