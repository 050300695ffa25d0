"""The weight check's settings: the station config's tolerances as a `WeightPolicy`.

Site tolerance: `weight_tolerance_grams` / `weight_tolerance_percent`. A carrier can have its
own, in a table per carrier (the carrier code as on the order, any case):

    [carrier_weight_tolerance.dhl]
    grams = 20
    percent = 2.0

The grams are also the floor of the learned rule: a parcel is only ever flagged when it is
off by more than that many grams, whatever its history says.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from app.config import ConfigError, StationSettings
from app.packing.weight_rules import ToleranceBand, WeightPolicy


def _band(grams: Any, percent: Any, where: str) -> ToleranceBand:
    if isinstance(grams, bool) or not isinstance(grams, int) or grams < 0:
        raise ConfigError(f"{where}: the grams must be a whole number of 0 or more, not {grams!r}.")
    ok_percent = isinstance(percent, int | float) and not isinstance(percent, bool)
    if not ok_percent or not math.isfinite(percent) or not 0 <= percent <= 100:
        raise ConfigError(f"{where}: the percent must be a number from 0 to 100, not {percent!r}.")
    return ToleranceBand(grams, Decimal(str(percent)))


def weight_policy(settings: StationSettings) -> WeightPolicy:
    """The policy the settings describe; ConfigError naming the setting that cannot be used."""
    site = _band(
        settings.weight_tolerance_grams,
        settings.weight_tolerance_percent,
        "weight_tolerance_grams / weight_tolerance_percent",
    )
    carriers: dict[str, ToleranceBand] = {}
    tables = settings.carrier_weight_tolerance
    if not isinstance(tables, dict):
        raise ConfigError("carrier_weight_tolerance must be a table of carriers.")
    for carrier, table in sorted(tables.items()):
        where = f"carrier_weight_tolerance.{carrier}"
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a table with grams and percent.")
        unknown = sorted(set(table) - {"grams", "percent"})
        if unknown:
            raise ConfigError(f"{where}: unknown setting {unknown[0]!r} (use grams and percent).")
        band = _band(table.get("grams", site.abs_grams), table.get("percent", 0), where)
        if "percent" not in table:
            band = ToleranceBand(band.abs_grams, site.pct)
        carriers[str(carrier).strip().lower()] = band
    return WeightPolicy(band=site, carrier_bands=carriers)
