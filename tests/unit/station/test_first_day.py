"""Issue 17 at the runtime: weights that fix themselves, the standing instruction line,
auto-complete, and holds of labelled orders. Asserts what the packer reads and what is recorded.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.scanning.classify import classify
from app.station.ports import UserRecord
from app.station.runtime import StationRuntime
from app.station.screen import ScreenModel
from app.weighing.reading import ScaleReading, WeightUnit
from tests.support.pins import checker, sealed_pin
from tests.support.station_fakes import (
    MUG,
    PLATE,
    FakeClaims,
    FakeLabels,
    FakeStore,
    order,
    run_now,
)

PACKER = UserRecord(1, "Alex Packer", "packer", "BADGE-P001", None)
SUPERVISOR = UserRecord(9, "Sam Super", "supervisor", "BADGE-S001", sealed_pin("1234"))
MUG_EAN = "4006381333931"


class Bench:
    def __init__(self, **options: object) -> None:
        self.store = FakeStore(users={u.badge: u for u in (PACKER, SUPERVISOR)})
        self.store.orders[1] = order(1, (MUG, 2), (PLATE, 1))
        self.store.orders[2] = order(2, (MUG, 1))
        self.labels = FakeLabels()
        self.rt = StationRuntime(
            self.store,
            FakeClaims(self.store),
            self.labels,
            run_now,
            lambda _m: None,
            pin_checker=checker(),
            **options,  # type: ignore[arg-type]
        )

    def scan(self, text: str) -> ScreenModel:
        self.rt.handle_scan(classify(text.encode()))
        return self.rt.model

    def weigh(self, grams: int) -> ScreenModel:
        self.rt.scale_reading(ScaleReading(Decimal(grams), WeightUnit.G, True))
        return self.rt.model

    def scan_whole_order(self) -> ScreenModel:
        self.scan("BADGE-P001")
        self.scan("ORD-100001")
        for code in (MUG_EAN, MUG_EAN, "PLT-WHT-27"):
            self.scan(code)
        return self.rt.model

    def types(self) -> list[str]:
        return [e.type.value for e in self.store.recorded]


@pytest.fixture
def bench() -> Bench:
    return Bench()


def test_a_wrong_weight_weighs_again_once_the_box_is_lifted_off_and_put_back(
    bench: Bench,
) -> None:
    bench.scan_whole_order()
    m = bench.weigh(3000)
    assert m.tone == "amber"
    assert m.message.startswith("3000 g is too heavy: ")
    assert m.message.endswith(
        "g expected. Check the items and put the box back on the scale. "
        "A supervisor can override: F6."
    )
    assert m.box is not None and m.box.rejected_grams == 3000 and m.box.weight_grams is None
    assert "lift box 1 off the scale" in m.next_step and "F6" in m.next_step
    m = bench.weigh(3000)  # still on the scale: nothing new, the banner stays
    assert m.message.startswith("3000 g is too heavy")
    m = bench.weigh(1530)  # a reading that changed without the platter emptying: not taken
    assert bench.labels.jobs == [] and m.box is not None and m.box.rejected_grams == 3000
    bench.weigh(0)  # lifted off
    m = bench.weigh(1530)  # checked and put back: weighed again, no PB:REWEIGH
    assert m.tone == "green" and "1530 g" in m.message
    assert m.box is not None and m.box.weight_grams == 1530
    assert bench.labels.jobs == [(1, 1, 1530)]
    assert bench.types().count("weight_recorded") == 2


def test_a_second_wrong_weight_is_the_one_the_banner_panel_and_override_use(
    bench: Bench,
) -> None:
    bench.scan_whole_order()
    bench.weigh(3000)
    bench.weigh(0)
    m = bench.weigh(2500)
    assert m.message.startswith("2500 g is too heavy")
    assert m.box is not None and m.box.rejected_grams == 2500
    bench.rt.override("BADGE-S001", "1234", "glass needs padding")
    m = bench.rt.model
    assert m.message.startswith("Box 1: 2500 g accepted by a supervisor.")
    assert m.box is not None and m.box.weight_grams == 2500
    assert bench.labels.jobs == [(1, 1, 2500)]  # the label says the same number


def test_too_light_says_so(bench: Bench) -> None:
    bench.scan_whole_order()
    assert bench.weigh(200).message.startswith("200 g is too light: ")


def test_reweigh_command_still_works(bench: Bench) -> None:
    bench.scan_whole_order()
    bench.weigh(3000)
    assert bench.scan("PB:REWEIGH").tone == "amber"
    m = bench.weigh(1530)  # reweigh unlocks at once: no lift needed
    assert m.box is not None and m.box.weight_grams == 1530
