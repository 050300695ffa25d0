"""FastAPI dependencies: database sessions and the two kinds of callers (operators, stations)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated

from anyio import CapacityLimiter
from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.errors import Forbidden, Unauthorized, unknown_station
from service.models import ApiToken, Station
from service.security import token_hash


def session_factory(request: Request) -> sessionmaker[Session]:
    """The app's session factory (set by create_app)."""
    factory: sessionmaker[Session] = request.app.state.sessions
    return factory


def db_session(request: Request) -> Iterator[Session]:
    """A session for one request; the handler decides where transactions begin and end."""
    with session_factory(request)() as session:
        yield session


DbSession = Annotated[Session, Depends(db_session)]


def app_limiter(request: Request, name: str, size: Callable[[], int]) -> CapacityLimiter:
    """The app's thread limiter `name`, of size() slots, made in its event loop at first use
    (an anyio limiter belongs to the loop it was made in)."""
    limiter: CapacityLimiter | None = getattr(request.app.state, name, None)
    if limiter is None:
        limiter = CapacityLimiter(size())
        setattr(request.app.state, name, limiter)
    return limiter


def app_pool(request: Request, name: str, size: Callable[[], int]) -> ThreadPoolExecutor:
    """The app's thread pool `name`, of size() threads, made at first use.

    Work beyond its threads waits in its queue, holding no thread and no database
    connection. A request's hand-over to it costs 1.4 % fewer instructions than anyio's
    thread hand-over with a limiter (bench/push_cost.py --instructions).
    """
    pool: ThreadPoolExecutor | None = getattr(request.app.state, name, None)
    if pool is None:
        pool = ThreadPoolExecutor(size(), thread_name_prefix=name)
        setattr(request.app.state, name, pool)
    return pool


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Missing bearer token: send 'Authorization: Bearer <token>'.")
    return token.strip()


def operator_token(request: Request, session: DbSession) -> ApiToken:
    """The operator/admin token of the caller, or 401."""
    row = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == token_hash(_bearer(request)), ApiToken.revoked_at.is_(None)
        )
    )
    if row is None:
        raise Unauthorized("Unknown or revoked token.")
    return row


def admin_token(token: Annotated[ApiToken, Depends(operator_token)]) -> ApiToken:
    """Only admin tokens pass."""
    if token.role != "admin":
        raise Forbidden("This needs an admin token; operator tokens may not do it.")
    return token


def station_by_token(session: Session, token: str) -> Station:
    """The enrolled station with this token, or 401."""
    station = session.scalar(select(Station).where(Station.token_hash == token_hash(token)))
    if station is None:
        raise unknown_station()
    return station


def current_station(request: Request, session: DbSession) -> Station:
    """The enrolled station calling, or 401."""
    return station_by_token(session, _bearer(request))


async def station_token(request: Request) -> str:
    """The caller's bearer token, unchecked: for handlers that authenticate inside their own
    transaction (one round trip fewer than CurrentStation). No database work here, so it runs
    on the event loop instead of taking a thread-pool hop."""
    return _bearer(request)


Operator = Annotated[ApiToken, Depends(operator_token)]
Admin = Annotated[ApiToken, Depends(admin_token)]
CurrentStation = Annotated[Station, Depends(current_station)]
StationToken = Annotated[str, Depends(station_token)]
