"""ScanGuard: blanking period and same-code double-scan window, on an injected clock."""

from __future__ import annotations

from app.scanning.classify import classify
from app.scanning.guard import ScanGuard


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_same_code_twice_within_window_is_flagged_with_reason() -> None:
    clock = FakeClock()
    guard = ScanGuard(blanking_s=0.1, double_scan_s=0.8, clock=clock)
    assert not guard.check(classify(b"4006381333931")).duplicate
    clock.now += 0.5
    again = guard.check(classify(b"4006381333931"))
    assert again.duplicate and "twice" in again.reason
    assert not again.actionable


def test_held_scanner_stays_quiet_then_same_code_counts_after_a_pause() -> None:
    clock = FakeClock()
    guard = ScanGuard(blanking_s=0, double_scan_s=0.8, clock=clock)
    assert not guard.check(classify(b"SKU-1")).duplicate
    for _ in range(5):  # continuous mode re-reads every 0.3 s: the window slides
        clock.now += 0.3
        assert guard.check(classify(b"SKU-1")).duplicate
    clock.now += 0.9
    assert not guard.check(classify(b"SKU-1")).duplicate


def test_different_code_inside_blanking_is_flagged_after_it_is_accepted() -> None:
    clock = FakeClock()
    guard = ScanGuard(blanking_s=0.15, double_scan_s=0.8, clock=clock)
    guard.check(classify(b"SKU-1"))
    clock.now += 0.05
    blanked = guard.check(classify(b"SKU-2"))
    assert blanked.duplicate and "ms" in blanked.reason
    clock.now += 0.2
    assert not guard.check(classify(b"SKU-2")).duplicate


def test_misread_does_not_hide_the_good_read_after_it() -> None:
    clock = FakeClock()
    guard = ScanGuard(blanking_s=0.5, double_scan_s=0.8, clock=clock)
    assert guard.check(classify(b"4006381333932")).kind.value == "invalid"
    clock.now += 0.01
    assert not guard.check(classify(b"4006381333931")).duplicate


def test_reset_allows_the_same_code_again() -> None:
    clock = FakeClock()
    guard = ScanGuard(blanking_s=0, double_scan_s=5, clock=clock)
    guard.check(classify(b"ORD-1001"))
    guard.reset()
    assert not guard.check(classify(b"ORD-1001")).duplicate
