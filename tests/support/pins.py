"""PIN checks as a station holds them: a verifier sealed to a test station key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from app.station.auth import PinChecker
from service.pins import pin_check
from service.security import hash_pin
from sync import pins
from sync.protocol import PinCheck

STATION_PRIVATE_KEY, STATION_PUBLIC_KEY = pins.new_station_keypair()


def sealed_pin(pin: str) -> PinCheck:
    """What a pull carries for a user with this PIN, for the test station."""
    check = pin_check(hash_pin(pin), STATION_PUBLIC_KEY)
    assert check is not None
    return check


def checker(clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> PinChecker:
    """The test station's PIN checker (holds its private key)."""
    return PinChecker(STATION_PRIVATE_KEY, clock)
