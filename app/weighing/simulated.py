"""The simulator (`sim://`) for demos and tests, and manual entry (`manual`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal

from app.i18n import Msg
from app.weighing.driver import ScaleDriver
from app.weighing.errors import ScaleDisconnected, ScaleError, ScaleTimeout
from app.weighing.reading import ScaleReading, WeightUnit, from_grams, parse_decimal


class SimulatedScale(ScaleDriver):
    """A scale in memory: set a weight, it reads as moving until `settle_s` has passed."""

    protocol = "simulator"

    def __init__(
        self,
        grams: Decimal | int = 0,
        *,
        settle_s: float = 0.5,
        unit: WeightUnit = WeightUnit.G,
        clock: Callable[[], float] = time.monotonic,
        url: str = "sim://",
    ) -> None:
        self.url = url
        self.settle_s = settle_s
        self.unit = unit
        self._clock = clock
        self._lock = threading.Lock()
        self._grams = Decimal(grams)
        self._zero_offset = Decimal(0)
        self._changed_at = clock() - settle_s
        self.moving = False
        self.overloaded = False
        self.silent = False
        self.is_open = False

    def set_weight(self, grams: Decimal | int | str) -> None:
        """Put a load on the platter; the reading settles after `settle_s`."""
        with self._lock:
            self._grams = Decimal(grams)
            self._changed_at = self._clock()

    def open(self) -> None:
        """Nothing to open; marks the simulator as connected."""
        self.is_open = True

    def close(self) -> None:
        """Marks the simulator as disconnected."""
        self.is_open = False

    def read(self) -> ScaleReading:
        """Return the simulated reading in `self.unit`."""
        if not self.is_open:
            raise ScaleDisconnected(Msg("The simulated scale is not open."))
        if self.silent:
            raise ScaleTimeout(Msg("The simulated scale does not answer."))
        now = self._clock()
        with self._lock:
            grams = self._grams - self._zero_offset
            settled = now - self._changed_at >= self.settle_s
        if self.overloaded:
            return ScaleReading(Decimal(0), self.unit, stable=False, overload=True, at=now)
        value = from_grams(grams, self.unit)
        stable = settled and not self.moving
        return ScaleReading(value, self.unit, stable=stable, at_zero=stable and grams == 0, at=now)

    def zero(self) -> None:
        """Zero on the current load."""
        with self._lock:
            self._zero_offset = self._grams

    tare = zero


class ManualScale(ScaleDriver):
    """Typed-in weights, where the site permits it; every reading is marked manual."""

    protocol = "manual entry"

    def __init__(self) -> None:
        self.url = "manual"
        self._last: ScaleReading | None = None

    def open(self) -> None:
        """Nothing to open."""

    def close(self) -> None:
        """Nothing to close."""

    def enter(self, value: str | Decimal | int, unit: WeightUnit = WeightUnit.G) -> ScaleReading:
        """Record a typed weight and return it as a stable, manual reading."""
        amount = parse_decimal(str(value))
        if amount <= 0:
            raise ScaleError(Msg("Type the parcel weight as a number above zero."))
        self._last = ScaleReading(amount, unit, stable=True, manual=True, raw=str(value).encode())
        return self._last

    def read(self) -> ScaleReading:
        """Return the last typed weight."""
        if self._last is None:
            raise ScaleTimeout(Msg("No weight typed in yet; type the parcel weight."))
        return self._last
