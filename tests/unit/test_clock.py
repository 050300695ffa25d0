"""The shared clock: one place both sides read "now", which a test can stop and move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.db import utcnow as service_now
from sync import clock

AT = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)


def test_frozen_clock_is_what_the_service_and_station_read() -> None:
    with clock.frozen(AT) as frozen:
        assert service_now() == AT
        assert clock.utcnow() == AT
        assert frozen.advance(timedelta(minutes=5)) == AT + timedelta(minutes=5)
        assert service_now() == AT + timedelta(minutes=5)
    # Outside the block the system clock is back: within a second of the real time.
    assert abs(service_now() - datetime.now(UTC)) < timedelta(seconds=1)


def test_frozen_clock_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.FrozenClock(datetime(2031, 1, 1))


def test_a_station_scan_is_stamped_by_the_frozen_clock() -> None:
    from app.scanning.classify import classify

    with clock.frozen(AT):
        scan = classify(b"4006381333931")
    assert scan.at == AT
