"""PIN checks at the station, offline: the synced verifier, opened with the station's key.

A pull carries no PIN hash, only argon2id parameters and a verifier sealed to the X25519 key
this station made at enrolment (sync.pins; the private key lives in the OS keyring). A right
PIN yields the PIN key K, which signs an override (the service checks the proof at sync).
After MAX_FAILURES wrong PINs in a row a badge is locked at this station for LOCKOUT.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from app import i18n
from app.i18n import Msg
from app.station.ports import UserRecord
from sync import pins

log = logging.getLogger(__name__)

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)


class PinVerdict(Enum):
    """What a PIN check found."""

    RIGHT = "right"
    WRONG = "wrong"
    LOCKED = "locked"
    NO_PIN = "no_pin"  # the user has no PIN set
    CANNOT_CHECK = "cannot_check"  # this station holds no key to open the verifier


@dataclass(frozen=True, slots=True)
class PinResult:
    """The verdict and, for a right PIN, its key K (to sign an override; never stored)."""

    verdict: PinVerdict
    key: bytes | None = None
    locked_until: datetime | None = None


@dataclass
class PinChecker:
    """Checks typed PINs against the synced verifiers, with a lockout per badge."""

    private_key: str | None
    clock: Callable[[], datetime]
    _failures: dict[str, int] = field(default_factory=dict)
    _locked: dict[str, datetime] = field(default_factory=dict)

    def check(self, user: UserRecord, pin: str) -> PinResult:
        """Whether `pin` is the user's PIN (one argon2id run); counts wrong tries."""
        now = self.clock()
        until = self._locked.get(user.badge)
        if until is not None and until > now:
            return PinResult(PinVerdict.LOCKED, locked_until=until)
        check = user.pin
        if check is None:
            return PinResult(PinVerdict.NO_PIN)
        if self.private_key is None or check.sealed_verifier is None:
            return PinResult(PinVerdict.CANNOT_CHECK)
        expected = pins.unseal(self.private_key, check.sealed_verifier)
        if expected is None:
            log.warning("PIN verifier of user %s does not open with this station's key", user.id)
            return PinResult(PinVerdict.CANNOT_CHECK)
        params = pins.PinParams(
            salt=pins.unb64(check.salt),
            time_cost=check.time_cost,
            memory_cost=check.memory_cost,
            parallelism=check.parallelism,
            hash_len=check.hash_len,
        )
        key = pins.pin_key(pin, params) if pin else b""
        if key and hmac.compare_digest(pins.verifier(key), expected):
            self._failures.pop(user.badge, None)
            return PinResult(PinVerdict.RIGHT, key=key)
        failures = self._failures.get(user.badge, 0) + 1
        if failures >= MAX_FAILURES:
            self._failures.pop(user.badge, None)
            self._locked[user.badge] = now + LOCKOUT
            log.warning(
                "PIN of user %s locked at this station after %s wrong tries", user.id, failures
            )
            return PinResult(PinVerdict.LOCKED, locked_until=now + LOCKOUT)
        self._failures[user.badge] = failures
        return PinResult(PinVerdict.WRONG)


def refusal(result: PinResult) -> Msg:
    """What to tell the person at the bench when a PIN was not accepted."""
    if result.verdict is PinVerdict.LOCKED and result.locked_until is not None:
        return Msg(
            "Too many wrong PINs for this badge. Try again after {time}.",
            time=i18n.time(result.locked_until.astimezone()),
        )
    if result.verdict is PinVerdict.NO_PIN:
        return Msg("This badge has no PIN set; ask an admin to set one.")
    if result.verdict is PinVerdict.CANNOT_CHECK:
        return Msg("This station cannot check PINs yet: sync it, or enrol it again.")
    return Msg("That PIN is wrong.")
