"""Expected weight and tolerance verdicts, fixed and learned."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app import i18n
from app.packing.weight_rules import (
    LearnedWeight,
    ToleranceBand,
    WeightPolicy,
    check_weight,
    content_signature,
    expected_weight,
    next_step,
)

NEXT_STEP = str(next_step())


def en(text: object) -> str:
    """English as the packer reads it (weights keep a no-break space before the unit)."""
    return i18n.render(text, "en").replace("\u00a0", " ")


def grams(value: int) -> str:
    return en(i18n.weight(value))


def test_expected_weight_sums_lines_and_box() -> None:
    assert expected_weight([(200, 2), (150, 1)], box_grams=120) == 670
    assert expected_weight([(200, 2), (None, 1)], box_grams=120) is None
    assert expected_weight([], box_grams=30) == 30


def test_content_signature_ignores_order_and_split_lines() -> None:
    a = content_signature([("sku-a", 1), ("SKU-B", 1), ("SKU-A", 1)], "box-s")
    b = content_signature([("SKU-B", 1), ("SKU-A", 2)], "BOX-S")
    assert a == b == "box=BOX-S|SKU-A*2;SKU-B*1"
    assert a != content_signature([("SKU-B", 1), ("SKU-A", 2)], "BOX-M")


CARRIER_POLICY = WeightPolicy(carrier_bands={"dhl": ToleranceBand(20, Decimal(2))})


@pytest.mark.parametrize(
    ("measured", "expected", "history", "carrier", "ok", "lower", "upper", "rule"),
    [
        # fixed band max(50 g, 5%): 50 g wins below 1 kg, 5% above
        (850, 800, (), None, True, 750, 850, "fixed: max(50 g, 5%) (site)"),
        (851, 800, (), None, False, 750, 850, "fixed: max(50 g, 5%) (site)"),
        (2100, 2000, (), None, True, 1900, 2100, "fixed: max(50 g, 5%) (site)"),
        (1899, 2000, (), None, False, 1900, 2100, "fixed: max(50 g, 5%) (site)"),
        # per-carrier band max(20 g, 2%)
        (2041, 2000, (), "DHL", False, 1960, 2040, "fixed: max(20 g, 2%) (carrier DHL)"),
        (2041, 2000, (), "UPS", True, 1900, 2100, "fixed: max(50 g, 5%) (site)"),
        # too little history: fixed rule still applies
        (1000, 1000, (900, 905), None, True, 950, 1050, "fixed: max(50 g, 5%) (site)"),
    ],
)
def test_fixed_rule(measured, expected, history, carrier, ok, lower, upper, rule) -> None:
    learned = LearnedWeight.from_weights(history)
    v = check_weight(measured, expected, learned, policy=CARRIER_POLICY, carrier=carrier)
    assert (v.ok, v.lower_grams, v.upper_grams, v.rule) == (ok, lower, upper, rule)


@pytest.mark.parametrize(
    ("measured", "history", "ok", "expected", "width"),
    [
        # tight history: 5% of 2000 = 100 g beats 2 sigma
        (2090, (2000, 2010, 1990), True, 2000, 100),
        (2101, (2000, 2010, 1990), False, 2000, 100),
        # spread history: 2 sigma (2*100=200) beats 5%
        (2190, (1900, 2000, 2100), True, 2000, 200),
        # wild history is capped at 20% of the mean
        (2500, (1000, 3000, 2000), False, 2000, 400),
        # light items: the absolute 50 g floor beats 5% of 100 g
        (140, (100, 100, 100), True, 100, 50),
    ],
)
def test_learned_rule(measured, history, ok, expected, width) -> None:
    # the catalogue value is overridden
    v = check_weight(measured, 999_999, LearnedWeight.from_weights(history))
    assert v.ok is ok and v.expected_grams == expected
    assert (v.lower_grams, v.upper_grams) == (expected - width, expected + width)
    assert v.rule.startswith(f"learned: mean {expected} g ± {width} g")
    assert f"over {len(history)} parcels" in v.rule
    assert en(v.plain) == (
        f"expected {grams(expected)} ± {grams(width)}, learned from {len(history)} parcels"
    )


def test_out_of_tolerance_says_what_to_do_next() -> None:
    v = check_weight(1200, 800)
    assert not v.ok
    assert en(v.message) == (
        "Parcel weighs 1.20 kg, heavier than expected 800 g ± 50 g, "
        "from the catalogue and the site's tolerance. " + NEXT_STEP
    )
    assert NEXT_STEP == "Re-check the contents or ask a supervisor to override."


def test_products_without_weight_are_recorded_for_learning() -> None:
    v = check_weight(640, None)
    assert v.ok and v.expected_grams is None and v.measured_grams == 640
    assert v.rule == "no expected weight"
    assert en(v.message) == (
        "A product in this parcel has no weight in the catalogue: 640 g is recorded, not "
        "checked. Parcels like this one are checked once 3 have been weighed."
    )
    typed = check_weight(640, None, manual=True)
    assert typed.ok and "Typed-in weights are not learned from" in en(typed.message)
    learned = check_weight(640, None, LearnedWeight.from_weights((600, 610, 620)))
    assert learned.ok and learned.expected_grams == 610


def test_empty_scale_is_not_a_parcel_weight() -> None:
    v = check_weight(0, 800)
    assert not v.ok and "put the parcel on the scale" in en(v.message)
