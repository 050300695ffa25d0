"""Weight rules: expected parcel weight and the tolerance check (issue 6).

Two rules, and the verdict names the one that decided:

- fixed: catalogue weight (sum of product weights x quantities + box) with a band of
  max(absolute grams, percentage), configured per site and optionally per carrier;
- learned: once enough parcels with the same contents and box have shipped (default 3),
  their mean (the service's weight profile, pulled by the station) is the expectation and
  a weight is flagged only when it is off by more than the percentage *and* more than k
  standard deviations (default 5 % and 2 sigma) *and* more than the site's (or carrier's)
  tolerance in grams, since a scale's resolution is that coarse. The band never exceeds
  `learn_max_pct` of the mean, so a history of sloppy parcels cannot wave anything through.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from app import i18n
from app.i18n import Msg, Text, join, plural
from sync.contents import contents_signature


def next_step() -> Msg:
    return Msg("Re-check the contents or ask a supervisor to override.")


@dataclass(frozen=True, slots=True)
class WeightVerdict:
    """Whether a measured parcel weight is plausible, and which rule decided it."""

    ok: bool
    measured_grams: int
    expected_grams: int | None
    lower_grams: int | None
    upper_grams: int | None
    # e.g. "fixed: max(50 g, 5%)", "learned: mean 812 g ± 2σ over 7 parcels": a technical
    # code recorded with the weight, the same in every language
    rule: str
    message: Text  # one sentence for the packer, rendered in the reader's language
    plain: Text = ""  # the rule in plain words: "expected 440 g ± 50 g, learned from 12 parcels"


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

    Order and split lines do not matter ("A x1, B x1, A x1" == "A x2, B x1"); the service
    keys its weight profiles by the hash of this (sync.contents.contents_key).
    """
    return contents_signature(lines, box_code)


@dataclass(frozen=True, slots=True)
class LearnedWeight:
    """What earlier parcels with the same contents weighed (from the service's profile)."""

    parcels: int
    mean_grams: float
    stdev_grams: float

    @classmethod
    def from_weights(cls, grams: Sequence[int]) -> LearnedWeight:
        """Summary of a list of parcel weights (sample standard deviation)."""
        if not grams:
            return cls(0, 0.0, 0.0)
        stdev = statistics.stdev(grams) if len(grams) >= 2 else 0.0
        return cls(len(grams), statistics.fmean(grams), stdev)


def _verdict(measured: int, expected: int, width: int, rule: str, plain: Msg) -> WeightVerdict:
    lower, upper = expected - width, expected + width
    if lower <= measured <= upper:
        ok = Msg("Weight OK: {weight}.", weight=i18n.weight(measured))
        return WeightVerdict(True, measured, expected, lower, upper, rule, ok, plain)
    if measured > upper:
        off = Msg(
            "Parcel weighs {weight}, heavier than {rule}.", weight=i18n.weight(measured), rule=plain
        )
    else:
        off = Msg(
            "Parcel weighs {weight}, lighter than {rule}.", weight=i18n.weight(measured), rule=plain
        )
    return WeightVerdict(
        False, measured, expected, lower, upper, rule, join(off, next_step()), plain
    )


def check_weight(
    measured_grams: int,
    expected_grams: int | None,
    learned: LearnedWeight | None = None,
    *,
    policy: WeightPolicy = DEFAULT_POLICY,
    carrier: str | None = None,
    manual: bool = False,
) -> WeightVerdict:
    """Judge a measured parcel weight against the learned profile or the catalogue.

    With a profile of at least `policy.learn_min_parcels` parcels the learned rule replaces
    the fixed one: the band is max(floor, pct of the mean, k σ), the floor being the
    site's (or carrier's) tolerance in grams, and never wider than `learn_max_pct`.
    """
    if measured_grams <= 0:
        return WeightVerdict(
            False,
            measured_grams,
            expected_grams,
            None,
            None,
            "no weight",
            Msg(
                "The scale shows {weight}; put the parcel on the scale and weigh again.",
                weight=i18n.weight(measured_grams),
            ),
        )
    band = policy.band_for(carrier)
    if learned is not None and learned.parcels >= max(policy.learn_min_parcels, 2):
        expected = _round(learned.mean_grams)
        by_pct = _ceil(Decimal(expected) * policy.learn_pct / 100)
        by_sigma = _ceil(Decimal(learned.stdev_grams) * policy.learn_sigmas)
        cap = _ceil(Decimal(expected) * policy.learn_max_pct / 100)
        width = min(max(band.abs_grams, by_pct, by_sigma), max(cap, band.abs_grams))
        rule = (
            f"learned: mean {expected} g ± {width} g (max of {band.abs_grams} g, "
            f"{policy.learn_pct.normalize()}%, {policy.learn_sigmas.normalize()}σ of "
            f"{_round(learned.stdev_grams)} g) over {learned.parcels} parcels"
        )
        plain = plural(
            "expected {expected} ± {width}, learned from {n} parcel",
            "expected {expected} ± {width}, learned from {n} parcels",
            learned.parcels,
            expected=i18n.weight(expected),
            width=i18n.weight(width),
        )
        return _verdict(measured_grams, expected, width, rule, plain)
    if expected_grams is None:
        recorded = Msg(
            "A product in this parcel has no weight in the catalogue: {weight} is recorded, "
            "not checked.",
            weight=i18n.weight(measured_grams),
        )
        if manual:
            learns = Msg("Typed-in weights are not learned from.")
        else:
            learns = plural(
                "Parcels like this one are checked once {n} has been weighed.",
                "Parcels like this one are checked once {n} have been weighed.",
                policy.learn_min_parcels,
            )
        return WeightVerdict(
            True,
            measured_grams,
            None,
            None,
            None,
            "no expected weight",
            join(recorded, learns),
            Msg("no weight check yet"),
        )
    width = band.width(expected_grams)
    carrier_band = carrier is not None and carrier.lower() in policy.carrier_bands
    scope = f"carrier {carrier}" if carrier_band else "site"
    rule = f"fixed: {band.describe()} ({scope})"
    shown, half = i18n.weight(expected_grams), i18n.weight(width)
    if carrier_band:
        plain = Msg(
            "expected {expected} ± {width}, from the catalogue and carrier {carrier}'s tolerance",
            carrier=carrier,
            expected=shown,
            width=half,
        )
    else:
        plain = Msg(
            "expected {expected} ± {width}, from the catalogue and the site's tolerance",
            expected=shown,
            width=half,
        )
    return _verdict(measured_grams, expected_grams, width, rule, plain)
