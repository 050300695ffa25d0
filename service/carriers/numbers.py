"""Tracking numbers of the house carrier: a configured range, a DB counter, a check digit.

"PBX" + 10 digits + one Luhn (mod 10) check digit. Numbers come from one counter row per
carrier, incremented with UPDATE ... RETURNING: the row lock makes a second allocation wait
until the first transaction ends, so two concurrent shipments never share a number, and a
rolled-back shipment gives its number back (no tracking number exists without a label).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.carriers.base import CarrierError
from service.models.shipping import CarrierCounter

PREFIX = "PBX"
DIGITS = 10


def luhn_digit(digits: str) -> int:
    """The Luhn check digit to append to `digits`."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # doubled: the rightmost digit sits next to the check digit
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def format_tracking(serial: int, prefix: str = PREFIX) -> str:
    """`PBX0000000042` + check digit for serial 42."""
    body = f"{serial:0{DIGITS}d}"
    if len(body) != DIGITS:
        raise ValueError(f"serial {serial} does not fit in {DIGITS} digits")
    return f"{prefix}{body}{luhn_digit(body)}"


def is_valid_tracking(number: str, prefix: str = PREFIX) -> bool:
    """Whether `number` is a well-formed house tracking number with a correct check digit."""
    body = number.removeprefix(prefix)
    if not number.startswith(prefix) or len(body) != DIGITS + 1 or not body.isdigit():
        return False
    return luhn_digit(body[:-1]) == int(body[-1])


def _bump(session: Session, carrier: str, count: int) -> int | None:
    return session.execute(
        update(CarrierCounter)
        .where(CarrierCounter.carrier == carrier)
        .values(value=CarrierCounter.value + count)
        .returning(CarrierCounter.value)
    ).scalar_one_or_none()


def allocate(session: Session, carrier: str, count: int, first: int, last: int) -> list[int]:
    """`count` fresh serials in [first, last] for `carrier`, in this transaction."""
    end = _bump(session, carrier, count)
    if end is None:
        try:
            with session.begin_nested():
                session.add(CarrierCounter(carrier=carrier, value=0))
        except IntegrityError:
            pass  # a concurrent first allocation created it; the update below waits for it
        end = _bump(session, carrier, count)
        assert end is not None
    serials = [first + end - count + i for i in range(count)]
    if serials[-1] > last:
        raise CarrierError(
            carrier,
            "config",
            f"the tracking number range {first}..{last} is used up; configure a new range",
        )
    return serials


def used(session: Session, carrier: str) -> int:
    """How many numbers the carrier has handed out."""
    return (
        session.scalar(select(CarrierCounter.value).where(CarrierCounter.carrier == carrier)) or 0
    )
