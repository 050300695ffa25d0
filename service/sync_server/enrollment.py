"""Station enrolment: a one-time code (only its hash is stored) traded for a bearer token.

The code lives in `stations.enroll_code_hash` / `enroll_expires_at`. A code cannot be burnt
by a station that failed to keep its token (keyring refused, crash): trading it does not spend
it. It stays valid for REENROLL_WINDOW after the first trade (trading it again there gives a
fresh token, the earlier one stops working) and is spent by the station's first authenticated
call (`confirm_enrolment`, GET /v1/stations/me, which `packbench enroll` makes right after
storing the token). Spent, the hash is kept and `enroll_expires_at` cleared: that is how a
second use is told apart from a mistyped code (409 "already used" rather than 401 "unknown").
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.changes import mark_changed
from service.db import utcnow
from service.errors import Unauthorized, ValidationFailed
from service.models import Station, User
from service.security import new_token, token_hash
from service.sync_server.errors import EnrollCodeUsed
from sync import pins
from sync.protocol import EnrollResponse, Heartbeat, StationMe

log = logging.getLogger(__name__)

ENROLL_CODE_VALIDITY = timedelta(hours=24)
# After the first trade, the same code may be traded again this long (until confirmed).
REENROLL_WINDOW = timedelta(minutes=15)
# No 0/O, 1/I/L: the code is read off a screen and typed on the station.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_CODE_LENGTH = 12


def normalise_code(code: str) -> str:
    """Upper case without separators, so 'abcd-efgh-jkmn' and 'ABCDEFGHJKMN' match."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def issue_enroll_code(
    session: Session, station_name: str, validity: timedelta = ENROLL_CODE_VALIDITY
) -> tuple[Station, str]:
    """Create the station if missing and give it a fresh one-time code (shown once)."""
    name = station_name.strip()
    if not name:
        raise ValidationFailed("A station needs a name.", field="station")
    # Shorter than the re-enrol window, a fresh code could not be told from a traded one.
    validity = max(validity, REENROLL_WINDOW + timedelta(minutes=1))
    station = session.scalar(select(Station).where(Station.name == name).with_for_update())
    if station is None:
        station = Station(name=name, last_mutation_id=0, heartbeat={})
        session.add(station)
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
    station.enroll_code_hash = token_hash(raw)
    station.enroll_expires_at = utcnow() + validity
    session.flush()
    code = "-".join(raw[i : i + 4] for i in range(0, _CODE_LENGTH, 4))
    log.info("enrolment code issued", extra={"station": station.id})
    return station, code


def enroll(
    session: Session, code: str, app_version: str = "", pin_public_key: str | None = None
) -> EnrollResponse:
    """Spend `code` and return the station's new token (any older token stops working).

    `pin_public_key` (sync.pins) replaces the station's old one: PIN verifiers in its pulls
    are sealed to it from now on; a station enrolled without one gets none.
    """
    if pin_public_key is not None and not pins.valid_public_key(pin_public_key):
        raise ValidationFailed(
            "pin_public_key is not a base64 X25519 public key.", field="pin_public_key"
        )
    code_hash = token_hash(normalise_code(code))
    station = session.scalar(
        select(Station).where(Station.enroll_code_hash == code_hash).with_for_update()
    )
    if station is None:
        raise Unauthorized(
            "Unknown enrolment code. Check it, or ask a supervisor for a new one "
            "(packbench-service enroll-code --station NAME)."
        )
    now = utcnow()
    traded = _traded(station)
    if station.enroll_expires_at is None or (traded and station.enroll_expires_at <= now):
        when = station.enrolled_at.isoformat(timespec="seconds") if station.enrolled_at else "?"
        raise EnrollCodeUsed(
            f"This enrolment code was already used (station {station.name}, {when}). "
            "Ask a supervisor for a new code."
        )
    if station.enroll_expires_at <= now:
        raise Unauthorized(
            f"This enrolment code expired at {station.enroll_expires_at:%Y-%m-%d %H:%M} UTC. "
            "Ask a supervisor for a new code."
        )
    token = new_token()
    station.token_hash = token_hash(token)  # a token from an earlier trade stops working
    if not traded:
        # Not spent yet: valid for the re-enrol window, until the first authenticated call.
        station.enrolled_at = now
        station.enroll_expires_at = min(station.enroll_expires_at, now + REENROLL_WINDOW)
    if station.pin_public_key != pin_public_key:
        station.pin_public_key = pin_public_key
        # The station's cached user list holds verifiers for the old key (or none): resend it.
        for user_id in session.scalars(select(User.id).where(User.pin_hash.is_not(None))):
            mark_changed(session, "user", user_id, station_id=station.id)
    station.last_seen_at = now
    station.heartbeat = {**(station.heartbeat or {}), "app_version": app_version}
    log.info("station enrolled", extra={"station": station.id})
    return EnrollResponse(station_id=station.id, station_name=station.name, token=token)


def _traded(station: Station) -> bool:
    """The current code was traded already (its expiry was cut to the re-enrol window)."""
    return (
        station.enrolled_at is not None
        and station.enroll_expires_at is not None
        and station.enroll_expires_at <= station.enrolled_at + REENROLL_WINDOW
    )


def confirm_enrolment(session: Session, station: Station) -> None:
    """The station called with its new token: its enrolment code is spent now."""
    if _traded(station):
        station.enroll_expires_at = None
        session.flush()
        log.info("station enrolment confirmed", extra={"station": station.id})


def station_me(station: Station) -> StationMe:
    """What the service knows about the calling station."""
    return StationMe(
        station_id=station.id,
        station_name=station.name,
        last_mutation_id=station.last_mutation_id,
        server_time=utcnow(),
    )


def record_heartbeat(session: Session, station_id: int, beat: Heartbeat) -> None:
    """Store the station's latest health figures and when it was last seen; a beat without
    a version keeps the one the station enrolled (or last beat) with."""
    figures = beat.model_dump(mode="json")
    if not figures.get("app_version"):
        before = session.scalar(select(Station.heartbeat).where(Station.id == station_id)) or {}
        figures["app_version"] = before.get("app_version", "")
    session.execute(
        update(Station)
        .where(Station.id == station_id)
        .values(heartbeat=figures, last_seen_at=utcnow())
    )
