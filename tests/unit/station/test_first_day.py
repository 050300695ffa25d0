"""Issue 17 at the runtime: weights that fix themselves, the standing instruction line,
auto-complete, and holds of labelled orders. Asserts what the packer reads and what is recorded.
"""

from __future__ import annotations

from dataclasses import replace
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
from tests.support.text import en

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
    assert en(m.message).startswith("3.00 kg is too heavy: ")
    assert "kg (expected " in en(m.message)
    assert en(m.message).endswith(
        "). Check the items and put the box back on the scale. A supervisor can override: F6."
    )
    assert m.box is not None and m.box.rejected_grams == 3000 and m.box.weight_grams is None
    assert "lift box 1 off the scale" in en(m.next_step) and "F6" in en(m.next_step)
    m = bench.weigh(3000)  # still on the scale: nothing new, the banner stays
    assert en(m.message).startswith("3.00 kg is too heavy")
    m = bench.weigh(1530)  # a reading that changed without the platter emptying: not taken
    assert bench.labels.jobs == [] and m.box is not None and m.box.rejected_grams == 3000
    bench.weigh(0)  # lifted off
    m = bench.weigh(1530)  # checked and put back: weighed again, no PB:REWEIGH
    assert m.tone == "green" and "1.53 kg" in en(m.message)
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
    assert en(m.message).startswith("2.50 kg is too heavy")
    assert m.box is not None and m.box.rejected_grams == 2500
    bench.rt.override("BADGE-S001", "1234", "glass needs padding")
    m = bench.rt.model
    assert en(m.message).startswith("Box 1: 2.50 kg accepted by a supervisor.")
    assert m.box is not None and m.box.weight_grams == 2500
    assert bench.labels.jobs == [(1, 1, 2500)]  # the label says the same number


def test_too_light_says_so(bench: Bench) -> None:
    bench.scan_whole_order()
    assert en(bench.weigh(200).message).startswith("200 g is too light: ")


def test_reweigh_command_still_works(bench: Bench) -> None:
    bench.scan_whole_order()
    bench.weigh(3000)
    assert bench.scan("PB:REWEIGH").tone == "amber"
    m = bench.weigh(1530)  # reweigh unlocks at once: no lift needed
    assert m.box is not None and m.box.weight_grams == 1530


# ------------------------------------------------------------------ the standing instruction


def test_a_double_read_is_reported_above_the_next_step_without_replacing_it() -> None:
    bench = Bench(auto_complete=False)
    bench.scan_whole_order()
    before = en(bench.rt.model.next_step)
    assert before == "Put box 1 on the scale."
    bench.rt.handle_scan(replace(classify(MUG_EAN.encode()), duplicate=True))
    m = bench.rt.model
    assert m.tone == "amber" and en(m.message).startswith("The same code was read twice")
    assert en(m.next_step) == before


def test_every_state_has_a_next_step(bench: Bench) -> None:
    assert en(bench.rt.model.next_step) == "Scan your badge."
    assert en(bench.scan("BADGE-P001").next_step) == "Scan the next order or tote barcode."
    assert en(bench.scan("ORD-100001").next_step) == "Scan the next item: 3 still to scan."
    m = bench.scan("ZZZ-UNKNOWN")  # an error in the banner, the instruction below it
    assert m.tone == "red" and en(m.next_step) == "Scan the next item: 3 still to scan."
    bench.scan(MUG_EAN)
    assert en(bench.scan("PB:NEW-BOX").next_step) == "Put box 1 on the scale."
    m = bench.weigh(350 + 250)
    assert en(m.next_step) == "Scan the next item into box 2: 2 still to scan."
    m = bench.weigh(350 + 250)  # box 1 still on the scale: the next step is still there
    assert en(m.next_step) == "Scan the next item into box 2: 2 still to scan."


def test_next_order_while_unfinished_says_which_and_keeps_the_next_step(bench: Bench) -> None:
    bench.scan("BADGE-P001")
    bench.scan("ORD-100001")
    bench.scan(MUG_EAN)
    m = bench.scan("ORD-100002")
    assert en(m.message) == "Order ORD-100001 is not finished yet; finish it or hold it (F2) first."
    assert en(m.next_step) == "Scan the next item: 2 still to scan."


def test_close_while_the_label_prints_says_it_prints_by_itself() -> None:
    bench = Bench(auto_complete=False)
    bench.scan_whole_order()
    bench.weigh(1530)
    m = bench.scan("PB:CLOSE")
    assert en(m.message) == "The label for box 1 is still printing; it finishes by itself."
    assert en(m.next_step) == "Wait: the label for box 1 is printing."
    bench.rt.label_done(1, True, "")
    assert en(bench.rt.model.next_step) == (
        "Stick the label on, then scan PB:CLOSE (F9) to finish the order."
    )


def test_labels_that_came_late_are_named_in_plain_words() -> None:
    bench = Bench(auto_complete=False)
    bench.store.orders[1] = order(1, (MUG, 2), (PLATE, 1))
    bench.scan("BADGE-P001")
    bench.scan("ORD-100001")
    bench.scan(MUG_EAN)
    bench.scan("PB:NEW-BOX")
    bench.weigh(350 + 250)
    bench.weigh(0)
    bench.scan(MUG_EAN)
    bench.scan("PLT-WHT-27")
    bench.labels.awaiting = True
    m = bench.weigh(350 + 600 + 250)
    assert (
        en(m.next_step) == "Wait: the carrier's label for boxes 1 and 2 prints as soon as it comes."
    )
    bench.labels.awaiting = False
    bench.rt.retry_awaiting_label()
    m = bench.rt.model
    assert en(m.message) == "The labels for boxes 1 and 2 are printing."
    assert en(m.next_step) == "Wait: the labels for boxes 1 and 2 are printing."


# ------------------------------------------------------------------ auto-complete


def test_the_last_label_printed_finishes_the_order_by_itself(bench: Bench) -> None:
    bench.scan_whole_order()
    bench.weigh(1530)
    assert bench.types()[-1] == "parcel_closed"  # not yet: the label is still printing
    bench.rt.label_done(1, True, "")
    m = bench.rt.model
    assert m.tone == "green" and en(m.message).startswith("Order ORD-100001 is packed in 1 box")
    assert en(m.next_step) == "Stick the label on, then scan the next order."
    assert bench.types()[-2:] == ["label_printed", "order_packed"]
    m = bench.scan("PB:CLOSE")  # habit: harmless, nothing recorded twice
    assert m.tone == "amber" and "already packed" in en(m.message)
    assert bench.types().count("order_packed") == 1
    m = bench.scan("ORD-100002")
    assert m.header is not None and m.header.number == "ORD-100002"


def test_a_failed_label_does_not_finish_the_order(bench: Bench) -> None:
    bench.scan_whole_order()
    bench.weigh(1530)
    bench.rt.label_done(1, False, "The printer is out of paper.")
    assert "order_packed" not in bench.types()
    m = bench.scan("ORD-100002")
    assert m.header is not None and m.header.number == "ORD-100001"
    assert "not finished" in en(m.message)


def test_scanning_the_next_order_finishes_a_complete_one() -> None:
    bench = Bench(auto_complete=False)  # e.g. finished before a restart with the setting off
    bench.scan_whole_order()
    bench.weigh(1530)
    bench.rt.label_done(1, True, "")
    assert "order_packed" not in bench.types()
    bench.rt.auto_complete = True
    m = bench.scan("ORD-100002")
    assert bench.types().count("order_packed") == 1
    assert m.header is not None and m.header.number == "ORD-100002"


def test_with_auto_complete_off_pb_close_is_needed() -> None:
    bench = Bench(auto_complete=False)
    bench.scan_whole_order()
    bench.weigh(1530)
    bench.rt.label_done(1, True, "")
    assert "order_packed" not in bench.types()
    assert bench.scan("PB:CLOSE").tone == "green"
    assert bench.types()[-1] == "order_packed"


# ------------------------------------------------------------------ holds of labelled orders


def test_a_hold_withdraws_the_label_that_has_not_printed(bench: Bench) -> None:
    bench.scan_whole_order()
    bench.weigh(1530)  # job 1 queued, not printed yet
    m = bench.scan("PB:HOLD:DAMAGED_ITEM")
    assert m.state == "held"
    assert "The label for box 1 had not printed; it was withdrawn." in en(m.message)
    assert bench.labels.withdrawn == [1]
    bench.rt.label_done(1, True, "")  # the worker's late word about a withdrawn job: ignored
    assert "label_printed" not in bench.types()
    assert en(m.next_step) == "Put the order on the exceptions shelf, then scan the next order."


def test_a_hold_after_the_label_printed_says_it_must_be_voided() -> None:
    bench = Bench(auto_complete=False)
    bench.scan_whole_order()
    bench.weigh(1530)
    bench.rt.label_done(1, True, "")
    m = bench.scan("PB:HOLD:DAMAGED_ITEM")
    assert m.state == "held"
    assert "The label for box 1 has printed: take it off" in en(m.message)
    assert "a supervisor voids it" in en(m.message)
    assert en(m.next_step).startswith("Take the label off box 1")
    assert bench.labels.withdrawn == []


def test_a_hold_before_any_label_says_nothing_about_labels(bench: Bench) -> None:
    bench.scan("BADGE-P001")
    bench.scan("ORD-100001")
    m = bench.scan("PB:HOLD:SHORT_PICK")
    assert m.state == "held" and "label" not in en(m.message)
