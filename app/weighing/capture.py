"""`BoxWeighing`: weigh one box. Pure: feed readings in, get an accepted weight out.

Rules a packer relies on:
- only a stable, in-range reading is accepted;
- the weight is fresh for this box: taken after the box started, and, when a previous box
  was weighed, only after the platter went back to (near) zero or now shows clearly less
  than that box (more could be this box on top of it), so its weight is never reused;
- once accepted, the weight is locked for the box until the packer asks to re-weigh.

Every reading is fed in, also between boxes and orders: an empty platter seen while no box
waits for its weight still counts, so a run of identical parcels weighs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from app import i18n
from app.i18n import Msg, Text
from app.weighing.reading import ScaleReading


class CaptureState(StrEnum):
    """Where weighing of the current box stands."""

    IDLE = "idle"  # no box started
    WAITING = "waiting"  # box started, no acceptable reading yet
    ACCEPTED = "accepted"  # weight locked for this box


@dataclass(frozen=True, slots=True)
class CaptureOutcome:
    """What feeding one reading did, with the sentence to show."""

    state: CaptureState
    accepted: ScaleReading | None
    message: Text  # deferred sentence, rendered in the reader's language when shown
    newly_accepted: bool = False


#: What the packer sees while the platter still shows the previous parcel's weight.
LIFT_OFF_MESSAGE = Msg(
    "The scale still shows the previous parcel's weight: lift the parcel off and put it back."
)
#: ... and when it shows more: this parcel may stand on the previous one.
STACKED_MESSAGE = Msg(
    "The previous parcel may still be on the scale: lift everything off, then put this "
    "parcel on alone."
)
#: Internal: a rejected weight is still on the scale; the banner already says what to do.
REJECTED_STILL_ON = Msg("The rejected weight is still on the scale.")


class BoxWeighing:
    """Takes one fresh, stable weight per box and keeps it until `reweigh()`."""

    def __init__(self, *, zero_band_grams: Decimal | int = 5) -> None:
        # Readings within this band of zero count as "empty platter".
        self.zero_band = Decimal(zero_band_grams)
        self.box: int | None = None
        self.state = CaptureState.IDLE
        self.accepted: ScaleReading | None = None
        self._started_at = 0.0
        self._previous_grams: Decimal | None = None
        self._cleared = True
        self._emptied_since_accept = True  # the platter was seen empty after the last weight
        self._retry = False  # after a rejected weight: wait for the box to be lifted off

    def start(self, box: int, at: float) -> None:
        """Begin weighing box `box`; readings taken before `at` (monotonic) are ignored."""
        if self.accepted is not None:
            self._previous_grams = self.accepted.grams
        self.box, self.state, self.accepted = box, CaptureState.WAITING, None
        self._started_at = at
        # Until the platter is seen empty (or clearly different), the last box may still
        # be on it; an empty platter seen since that weight was taken counts.
        self._cleared = self._previous_grams is None or self._emptied_since_accept
        self._retry = False

    def retry_after_lift(self, at: float) -> None:
        """The accepted weight was rejected: weigh again once the box was lifted off.

        The packer checks the items and puts the box back; no command is needed. Until the
        platter is seen empty, the rejected parcel is still there and nothing is taken.
        """
        if self.box is None or self.accepted is None:
            return
        self._previous_grams = self.accepted.grams
        self.state, self.accepted, self._started_at = CaptureState.WAITING, None, at
        self._cleared = False
        self._retry = True

    def reweigh(self, at: float) -> None:
        """Unlock the weight of the current box; the next fresh stable reading replaces it."""
        if self.box is None:
            raise ValueError("no box is being weighed")
        # Same box, possibly with an item added: no need to empty the platter first.
        self.state, self.accepted, self._started_at = CaptureState.WAITING, None, at
        self._cleared = True
        self._retry = False

    def watch(self, reading: ScaleReading) -> None:
        """Note a reading taken while no box waits for its weight (an empty platter counts)."""
        if self._is_empty_platter(reading):
            self._emptied_since_accept = True

    def feed(self, reading: ScaleReading) -> CaptureOutcome:
        """Consider one reading; return the outcome (accepted weight only when valid)."""
        self.watch(reading)
        if self.state is CaptureState.IDLE:
            return CaptureOutcome(self.state, None, Msg("Open an order before weighing."))
        if self.state is CaptureState.ACCEPTED:
            assert self.accepted is not None
            return CaptureOutcome(
                self.state,
                self.accepted,
                Msg(
                    "Weight {weight} locked for box {box}; scan re-weigh to weigh again.",
                    weight=i18n.weight(self.accepted.whole_grams),
                    box=self.box,
                ),
            )
        if reading.at < self._started_at:
            return self._waiting(Msg("Waiting for a new reading from the scale."))
        if reading.overload or reading.underload or reading.value < 0 or not reading.stable:
            return self._waiting(reading.describe())
        grams = reading.grams
        if reading.at_zero or abs(grams) <= self.zero_band:
            self._cleared = True
            return self._waiting(Msg("Put box {box} on the scale.", box=self.box))
        if not self._cleared and not reading.manual:  # a typed weight is fresh by itself
            assert self._previous_grams is not None
            if self._retry:  # only an empty platter in between makes a new weighing
                return self._waiting(REJECTED_STILL_ON)
            if abs(grams - self._previous_grams) <= self.zero_band:
                return self._waiting(LIFT_OFF_MESSAGE)
            if grams > self._previous_grams:
                return self._waiting(STACKED_MESSAGE)
            self._cleared = True
        self.state, self.accepted = CaptureState.ACCEPTED, reading
        self._emptied_since_accept = False
        self._retry = False
        weight = i18n.weight(reading.whole_grams)
        if reading.manual:
            said = Msg("Box {box} weighs {weight} (typed in).", box=self.box, weight=weight)
        else:
            said = Msg("Box {box} weighs {weight} (accepted).", box=self.box, weight=weight)
        return CaptureOutcome(self.state, reading, said, newly_accepted=True)

    def _is_empty_platter(self, reading: ScaleReading) -> bool:
        if reading.overload or reading.underload or not reading.stable:
            return False
        return reading.at_zero or abs(reading.grams) <= self.zero_band

    def _waiting(self, message: Text) -> CaptureOutcome:
        return CaptureOutcome(self.state, None, message)
