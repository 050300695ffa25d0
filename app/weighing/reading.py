"""`ScaleReading`: one weight report from a scale, with exact unit conversion."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from app import i18n
from app.i18n import Msg
from app.weighing.errors import ScaleProtocolError, UnknownUnit


class WeightUnit(StrEnum):
    """Units a scale may report in; each has an exact gram factor."""

    G = "g"
    KG = "kg"
    OZ = "oz"
    LB = "lb"


# Exact by definition: the international avoirdupois pound is 0.45359237 kg (1959), and the
# ounce is 1/16 of it. Decimal keeps these exact; float would not.
GRAMS_PER_UNIT: dict[WeightUnit, Decimal] = {
    WeightUnit.G: Decimal(1),
    WeightUnit.KG: Decimal(1000),
    WeightUnit.LB: Decimal("453.59237"),
    WeightUnit.OZ: Decimal("28.349523125"),
}

_UNIT_ALIASES: dict[str, WeightUnit] = {
    "g": WeightUnit.G,
    "gr": WeightUnit.G,  # some CAS firmware prints "gr"; CAS never reports grains
    "kg": WeightUnit.KG,
    "oz": WeightUnit.OZ,
    "lb": WeightUnit.LB,
    "lbs": WeightUnit.LB,
    "#": WeightUnit.LB,
}


def parse_unit(text: str) -> WeightUnit:
    """Map a unit as printed by a scale ("kg", " g", "LB") to a `WeightUnit`."""
    unit = _UNIT_ALIASES.get(text.strip().lower())
    if unit is None:
        raise UnknownUnit(
            Msg(
                "The scale reports its weight in '{unit}', which Packbench cannot convert; set "
                "the scale to g, kg, lb or oz.",
                unit=text.strip(),
            )
        )
    return unit


def to_grams(value: Decimal, unit: WeightUnit) -> Decimal:
    """Convert exactly to grams."""
    return value * GRAMS_PER_UNIT[unit]


def from_grams(grams: Decimal, unit: WeightUnit) -> Decimal:
    """Convert grams to `unit` (exact for g and kg; lb/oz to 28 significant digits)."""
    return grams / GRAMS_PER_UNIT[unit]


def parse_decimal(text: str) -> Decimal:
    """Parse a weight field such as "  -12.30" or "+ 1.5" into a Decimal."""
    cleaned = text.replace(" ", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise ScaleProtocolError(f"The scale sent '{text.strip()}' where a weight belongs.")
    return value


@dataclass(frozen=True, slots=True)
class ScaleReading:
    """One report from a scale: the weight as shown, in grams, and what the scale says.

    `at` is `time.monotonic()` when the frame was parsed, so freshness can be compared with
    the moment a box started weighing.
    """

    value: Decimal  # as the scale shows it, in `unit`
    unit: WeightUnit
    stable: bool
    at_zero: bool = False
    overload: bool = False
    underload: bool = False
    manual: bool = False
    raw: bytes = b""
    at: float = field(default_factory=time.monotonic)

    @property
    def grams(self) -> Decimal:
        """The weight in grams, exact."""
        return to_grams(self.value, self.unit)

    @property
    def whole_grams(self) -> int:
        """The weight rounded half-up to a whole gram (what labels and rules use)."""
        return int(self.grams.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    @property
    def is_weight(self) -> bool:
        """True when this reading may be used as a parcel weight: stable and in range."""
        return self.stable and not self.overload and not self.underload and self.value >= 0

    def describe(self) -> Msg:
        """One sentence for the packer about what the scale shows (rendered when shown)."""
        if self.overload:
            return Msg("The scale is overloaded; take the parcel off and use a larger scale.")
        if self.underload or self.value < 0:
            return Msg("The scale shows a negative weight; empty the platter and press Zero.")
        if not self.stable:
            return Msg("The scale is still moving; keep the parcel still.")
        shown = f"{self.value} {self.unit}"  # as the scale's display shows it
        weight = i18n.weight(self.whole_grams)
        if self.manual:
            return Msg("{reading} ({weight}), typed in.", reading=shown, weight=weight)
        return Msg("{reading} ({weight}), stable.", reading=shown, weight=weight)
