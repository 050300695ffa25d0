"""The arithmetic of weight learning, as pure functions over plain numbers.

- A contents set's profile is the mean and sample standard deviation of its most recent
  `WINDOW` learnable parcels; a station uses it once it covers `MIN_PARCELS`.
- A product's unit weight is the median, over its most recent `WINDOW` single-product
  parcels whose empty-box weight is known, of (parcel − box) ÷ units, in whole grams
  (half up); the median, so one parcel with something extra in it moves nothing.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

WINDOW = 50  # recent parcels a figure is taken from: packaging changes are followed
MIN_PARCELS = 3  # parcels before a figure is used


@dataclass(frozen=True, slots=True)
class Summary:
    """Mean and sample standard deviation of `parcels` weights."""

    parcels: int
    mean_grams: float
    stdev_grams: float


def summarise(grams: Sequence[int]) -> Summary:
    """Count, mean and sample standard deviation (0 for fewer than two weights)."""
    if not grams:
        return Summary(0, 0.0, 0.0)
    mean = statistics.fmean(grams)
    stdev = statistics.stdev(grams) if len(grams) >= 2 else 0.0
    return Summary(len(grams), mean, stdev)


@dataclass(frozen=True, slots=True)
class SingleProductParcel:
    """A parcel that held `units` of one product: its weight and its empty box's."""

    grams: int
    box_grams: int
    units: int


def unit_weight(parcels: Sequence[SingleProductParcel]) -> int | None:
    """The learned unit weight in grams, or None with too few parcels or no positive result."""
    if len(parcels) < MIN_PARCELS:
        return None
    per_unit = [Decimal(p.grams - p.box_grams) / p.units for p in parcels if p.units > 0]
    if len(per_unit) < MIN_PARCELS:
        return None
    median = statistics.median(per_unit)
    grams = int(median.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return grams if grams > 0 else None
