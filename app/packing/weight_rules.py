"""Weight rules: expected parcel weight and the tolerance check (issue 6).

Two rules, and the verdict names the one that decided:

- fixed: catalogue weight (sum of product weights x quantities + box) with a band of
  max(absolute grams, percentage), configured per site and optionally per carrier;
- learned: once enough parcels with the same contents and box have shipped (default 3),
  their mean is the expectation and a weight is flagged only when it is off by more than
  the percentage *and* more than k standard deviations (default 5 % and 2 sigma, the rule of
  thumb shipping software uses). The band never drops below the absolute grams, since a
  scale's resolution is that coarse, and never exceeds `learn_max_pct` of the mean, so a
  history of sloppy parcels cannot wave anything through.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

NEXT_STEP = "Re-check the contents or ask a supervisor to override."


@dataclass(frozen=True, slots=True)
class WeightVerdict:
    """Whether a measured parcel weight is plausible, and which rule decided it."""

    ok: bool
    measured_grams: int
    expected_grams: int | None
    lower_grams: int | None
    upper_grams: int | None
    rule: str  # e.g. "fixed: max(50 g, 5%)", "learned: mean 812 g ± 2σ over 7 parcels"
    message: str  # one sentence for the packer


@dataclass(frozen=True, slots=True)
class ToleranceBand:
    """A tolerance of max(`abs_grams`, `pct` % of the expected weight)."""

    abs_grams: int = 50
    pct: Decimal = Decimal(5)

    def width(self, expected_grams: int) -> int:
        """Half-width of the band around `expected_grams`, rounded up to a whole gram."""
        by_pct = _ceil(Decimal(expected_grams) * self.pct / 100)
        return max(self.abs_grams, by_pct)

    def describe(self) -> str:
        """E.g. "max(50 g, 5%)"."""
        return f"max({self.abs_grams} g, {self.pct.normalize()}%)"


@dataclass(frozen=True, slots=True)
class WeightPolicy:
    """Site weight-check settings, with per-carrier bands where a carrier is stricter."""

    band: ToleranceBand = field(default_factory=ToleranceBand)
    carrier_bands: Mapping[str, ToleranceBand] = field(default_factory=dict)
    learn_min_parcels: int = 3
    learn_pct: Decimal = Decimal(5)
    learn_sigmas: Decimal = Decimal(2)
    learn_max_pct: Decimal = Decimal(20)

    def band_for(self, carrier: str | None) -> ToleranceBand:
        """The band for `carrier`, falling back to the site band."""
        if carrier is not None:
            return self.carrier_bands.get(carrier.lower(), self.band)
        return self.band


DEFAULT_POLICY = WeightPolicy()


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding="ROUND_CEILING"))


def _round(value: float | Decimal) -> int:
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def expected_weight(lines: Iterable[tuple[int | None, int]], box_grams: int) -> int | None:
    """Sum of unit weight x quantity plus the box; None if any product has no weight."""
    total = box_grams
    for unit_grams, quantity in lines:
        if unit_grams is None:
            return None
        total += unit_grams * quantity
    return total


def content_signature(lines: Iterable[tuple[str, int]], box_code: str) -> str:
    """Key for the learning history: same products and quantities in the same box.

    Order and split lines do not matter ("A x1, B x1, A x1" == "A x2, B x1").
    """
    counts: dict[str, int] = {}
    for sku, quantity in lines:
        key = sku.strip().upper()
        counts[key] = counts.get(key, 0) + quantity
    items = ";".join(f"{sku}*{qty}" for sku, qty in sorted(counts.items()) if qty > 0)
    return f"box={box_code.strip().upper()}|{items}"


def _verdict(measured: int, expected: int, width: int, rule: str, source: str) -> WeightVerdict:
    lower, upper = expected - width, expected + width
    if lower <= measured <= upper:
        return WeightVerdict(
            True, measured, expected, lower, upper, rule, f"Weight OK: {measured} g."
        )
    direction = "heavier" if measured > upper else "lighter"
    message = (
        f"Parcel weighs {measured} g, {direction} than the {lower}-{upper} g expected "
        f"({source}). {NEXT_STEP}"
    )
    return WeightVerdict(False, measured, expected, lower, upper, rule, message)


def check_weight(
    measured_grams: int,
    expected_grams: int | None,
    history_grams: Sequence[int] = (),
    *,
    policy: WeightPolicy = DEFAULT_POLICY,
    carrier: str | None = None,
) -> WeightVerdict:
    """Judge a measured parcel weight against the catalogue or the learned history.

    `history_grams` are the weights of earlier shipped parcels with the same content
    signature (see `content_signature`); with at least `policy.learn_min_parcels` of them
    the learned rule replaces the fixed one.
    """
    if measured_grams <= 0:
        return WeightVerdict(
            False,
            measured_grams,
            expected_grams,
            None,
            None,
            "no weight",
            f"The scale shows {measured_grams} g; put the parcel on the scale and weigh again.",
        )
    band = policy.band_for(carrier)
    if len(history_grams) >= max(policy.learn_min_parcels, 2):
        mean = statistics.fmean(history_grams)
        sigma = statistics.stdev(history_grams)
        expected = _round(mean)
        by_pct = _ceil(Decimal(expected) * policy.learn_pct / 100)
        by_sigma = _ceil(Decimal(sigma) * policy.learn_sigmas)
        cap = _ceil(Decimal(expected) * policy.learn_max_pct / 100)
        width = min(max(band.abs_grams, by_pct, by_sigma), max(cap, band.abs_grams))
        rule = (
            f"learned: mean {expected} g ± {width} g (max of {band.abs_grams} g, "
            f"{policy.learn_pct.normalize()}%, {policy.learn_sigmas.normalize()}σ of "
            f"{_round(sigma)} g) over {len(history_grams)} parcels"
        )
        source = f"learned from {len(history_grams)} earlier parcels with the same contents"
        return _verdict(measured_grams, expected, width, rule, source)
    if expected_grams is None:
        return WeightVerdict(
            True,
            measured_grams,
            None,
            None,
            None,
            "no expected weight",
            f"A product in this parcel has no weight in the catalogue; {measured_grams} g "
            "is recorded and the catalogue will learn it.",
        )
    width = band.width(expected_grams)
    scope = f"carrier {carrier}" if carrier and carrier.lower() in policy.carrier_bands else "site"
    rule = f"fixed: {band.describe()} ({scope})"
    return _verdict(measured_grams, expected_grams, width, rule, f"catalogue, {rule}")
