"""The station config's tolerances reach the weight check: site, per carrier, and the
learned profile of the parcel's contents; a setting that cannot be used is refused."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from app.config import ConfigError, StationSettings, load_settings, save_settings
from app.packing.weight_rules import LearnedWeight, ToleranceBand
from app.scanning.classify import classify
from app.station.runtime import StationRuntime
from app.station.screen import ScreenModel
from app.weighing.reading import ScaleReading, WeightUnit
from app.weight_settings import weight_policy
from sync.contents import contents_key
from tests.support.station_fakes import MUG, FakeClaims, FakeLabels, FakeStore, order, run_now
from tests.support.text import en
from tests.unit.station.test_runtime import PACKER

CONFIG = """
version = 2
weight_tolerance_grams = 30
weight_tolerance_percent = 4.0

[carrier_weight_tolerance.DHL]
grams = 10
percent = 1.5

[carrier_weight_tolerance.gls]
grams = 15
"""


def test_site_and_carrier_tolerances_come_from_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    policy = weight_policy(load_settings(path))
    assert policy.band == ToleranceBand(30, Decimal("4.0"))
    assert policy.band_for("dhl") == ToleranceBand(10, Decimal("1.5"))
    assert policy.band_for("GLS") == ToleranceBand(15, Decimal("4.0"))  # site percent
    assert policy.band_for("ups") == policy.band
    # and they survive a save (the wizard rewrites the file)
    save_settings(path, load_settings(path))
    assert weight_policy(load_settings(path)) == policy


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"weight_tolerance_grams": -1}, "weight_tolerance_grams"),
        ({"weight_tolerance_percent": 150.0}, "percent must be a number from 0 to 100"),
        ({"carrier_weight_tolerance": {"dhl": {"grams": 2.5}}}, "carrier_weight_tolerance.dhl"),
        ({"carrier_weight_tolerance": {"dhl": {"gram": 20}}}, "unknown setting 'gram'"),
        ({"carrier_weight_tolerance": {"dhl": 20}}, "must be a table"),
    ],
)
def test_a_tolerance_that_cannot_be_used_is_refused_with_its_name(
    changes: dict[str, object], says: str
) -> None:
    with pytest.raises(ConfigError, match=says.replace(".", r"\.")):
        weight_policy(replace(StationSettings(), **changes))  # type: ignore[arg-type]


class Bench:
    def __init__(self, settings: StationSettings, profiles: dict[str, LearnedWeight]) -> None:
        self.store = FakeStore(users={PACKER.badge: PACKER}, profiles=profiles)
        self.store.orders[1] = order(1, (MUG, 1))
        self.rt = StationRuntime(
            self.store,
            FakeClaims(self.store),
            FakeLabels(),
            run_now,
            lambda _m: None,
            weight_policy=weight_policy(settings),
        )
        for code in (PACKER.badge, "ORD-100001", "4006381333931"):
            self.rt.handle_scan(classify(code.encode()))

    def weigh(self, grams: int) -> ScreenModel:
        self.rt.scale_reading(ScaleReading(Decimal(grams), WeightUnit.G, True))
        return self.rt.model


def test_the_site_tolerance_from_the_config_decides_the_catalogue_check() -> None:
    # one mug (350 g) in an M box (250 g): 600 g expected
    assert Bench(StationSettings(), {}).weigh(640).tone == "green"  # default ± 50 g
    strict = StationSettings(weight_tolerance_grams=20, weight_tolerance_percent=1.0)
    m = Bench(strict, {}).weigh(640)
    assert m.tone == "amber"
    assert "600 g ± 20 g, from the catalogue and the site's tolerance" in en(m.message)


def test_the_carriers_own_tolerance_wins_for_its_orders() -> None:
    settings = StationSettings(carrier_weight_tolerance={"HOUSE": {"grams": 10, "percent": 1}})
    m = Bench(settings, {}).weigh(615)  # the fake orders ship with carrier "house"
    assert m.tone == "amber"
    assert "from the catalogue and carrier house's tolerance" in en(m.message)


def test_the_learned_profile_of_the_parcels_contents_is_used() -> None:
    key = contents_key([(MUG.sku, 1)], "M")
    learned = {key: LearnedWeight(12, 440.0, 6.0)}
    ok = Bench(StationSettings(), learned).weigh(470)
    assert ok.tone == "green"
    assert "(expected 440 g ± 50 g, learned from 12 parcels)" in en(ok.message)
    off = Bench(StationSettings(), learned).weigh(600)  # the catalogue would say ok
    assert off.tone == "amber"
    assert "440 g ± 50 g, learned from 12 parcels" in en(off.message)
    # another box type is other contents: the catalogue decides
    other = {contents_key([(MUG.sku, 1)], "L"): LearnedWeight(12, 440.0, 6.0)}
    assert "from the catalogue" in en(Bench(StationSettings(), other).weigh(600).message)
