"""Who really granted a pushed override: a supervisor whose PIN proof checks, or the station.

The station signs each override with the key of the PIN the supervisor typed at the bench
(sync.pins). Here the proof is checked against the supervisor's current PIN hash: a valid
proof names the supervisor as the actor; a wrong one is refused; a missing one is refused
unless the site allows unverified overrides (PACKBENCH_ALLOW_UNVERIFIED_OVERRIDES=1, for
benches without override PINs), and then the station, not the supervisor, is the actor.
"""

from __future__ import annotations

import logging
import os

from sqlalchemy.orm import Session

from service.models import User
from service.pins import pin_key_of
from sync import pins
from sync.protocol import OverrideGranted

log = logging.getLogger(__name__)

ALLOW_UNVERIFIED_ENV = "PACKBENCH_ALLOW_UNVERIFIED_OVERRIDES"


class OverrideUnproven(Exception):
    """The override carries no proof the service accepts; the message says what to do."""


def unverified_allowed() -> bool:
    """Whether overrides without a PIN proof are recorded (as the station's) or refused."""
    return os.environ.get(ALLOW_UNVERIFIED_ENV, "").strip().lower() in ("1", "true", "yes")


def override_actor(
    session: Session, station_id: int, order_id: int | None, grant: OverrideGranted
) -> str:
    """`user:N` for a proven override, `station:N` for an allowed unverified one; else raises."""
    if grant.proof is None:
        if unverified_allowed():
            return f"station:{station_id}"
        raise OverrideUnproven(
            "This override carries no supervisor PIN proof, so it was not recorded. "
            "A supervisor must confirm overrides with badge and PIN (update the station)."
        )
    user = session.get(User, grant.supervisor_id)
    key = pin_key_of(user) if user is not None else None
    allowed = user is not None and (user.station_ids is None or station_id in user.station_ids)
    message = pins.override_message(
        station_id=station_id,
        order_id=order_id,
        supervisor_id=grant.supervisor_id,
        kind=grant.kind,
        reason=grant.reason,
        details=grant.details,
    )
    if (
        user is None
        or key is None
        or not allowed
        or user.role != "supervisor"
        or not pins.override_proven(key, message, grant.proof)
    ):
        log.warning(
            "override proof refused",
            extra={"station": station_id, "order": order_id, "supervisor": grant.supervisor_id},
        )
        raise OverrideUnproven(
            "The supervisor PIN proof of this override does not check out (wrong PIN, PIN "
            "changed since, or not a supervisor here). A supervisor must look at the order."
        )
    return f"user:{user.id}"
