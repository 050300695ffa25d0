"""Weight rules: expected parcel weight and the tolerance check (interface; see issue 6)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


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


def check_weight(
    measured_grams: int,
    expected_grams: int | None,
    history_grams: Sequence[int] = (),
) -> WeightVerdict:
    """Placeholder until the weighing issue lands: a fixed max(50 g, 10 %) band."""
    if expected_grams is None:
        return WeightVerdict(
            True, measured_grams, None, None, None, "no expected weight",
            "This product has no weight in the catalogue; the measured weight is recorded.",
        )
    band = max(50, expected_grams // 10)
    lower, upper = expected_grams - band, expected_grams + band
    ok = lower <= measured_grams <= upper
    msg = "Weight OK." if ok else (
        f"Parcel weighs {measured_grams} g, expected {lower}-{upper} g. Check the contents."
    )
    return WeightVerdict(ok, measured_grams, expected_grams, lower, upper, "fixed", msg)
