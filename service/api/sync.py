"""HTTP endpoints of sync protocol v1 (stations): enrolment, push, pull, checksum, claims.

Handlers only translate between HTTP and `service.sync_server`. Each opens its own
transaction: the station lookup of `CurrentStation` opened one on the same session, so it
is committed first (it only read), and the real work starts from a clean snapshot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextvars import copy_context
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from service.api.deps import (
    CurrentStation,
    DbSession,
    app_pool,
    session_factory,
    station_token,
)
from service.api.documented_bodies import documented_body
from service.changes import number_pending
from service.errors import ServiceError, unknown_station
from service.limits import sync_threads
from service.security import token_hash
from service.stock.allocation import serve_noted_backorders
from service.sync_server import enrollment, leases, pull, push
from service.sync_server.errors import ClaimRefusedError, CursorExpiredError, MutationGapError
from sync.protocol import (
    CLAIM_FIELDS_V4,
    MAX_PUSH_BYTES,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    ClaimRefused,
    ClaimRequest,
    ClaimResponse,
    CursorExpired,
    EnrollRequest,
    EnrollResponse,
    ErrorBody,
    Heartbeat,
    HoldingsChecksum,
    MutationGap,
    PullResponse,
    PushRequest,
    PushResponse,
    StationMe,
)

# The oldest station protocol this service still answers.
OLDEST_STATION_PROTOCOL = 1


class ProtocolMismatch(ServiceError):
    """The station speaks a sync protocol this service does not: one side must be upgraded."""

    code = "protocol_mismatch"
    http_status = 426


async def _same_protocol(request: Request) -> None:
    """Say which side to upgrade when a station's protocol (its header) is not served here."""
    sent = request.headers.get(PROTOCOL_HEADER, "").strip()
    if not sent:
        return  # tools and the first stations send none: they speak version 1
    version = int(sent) if sent.isdigit() and len(sent) < 6 else -1
    if version > PROTOCOL_VERSION:
        raise ProtocolMismatch(
            f"This station speaks sync protocol {version}; this service only "
            f"{OLDEST_STATION_PROTOCOL}..{PROTOCOL_VERSION}: upgrade the service "
            "(packbench-service) to the stations' release."
        )
    if version < OLDEST_STATION_PROTOCOL:
        raise ProtocolMismatch(
            f"This station speaks sync protocol {sent[:12]!r}; this service needs "
            f"{OLDEST_STATION_PROTOCOL}..{PROTOCOL_VERSION}: upgrade the station (packbench)."
        )


router = APIRouter(prefix="/v1", tags=["sync"])
# Every route checks the station's protocol first: push and pull inside the one dependency
# that also reads their token (see _push_token), the others with this.
_SAME_PROTOCOL = [Depends(_same_protocol)]


class PushTooLarge(ServiceError):
    """A push body over MAX_PUSH_BYTES; nothing was applied."""

    code = "push_too_large"
    http_status = 413


async def _caller_token(request: Request) -> str:
    """The calling station's bearer token (unchecked, as StationToken), once its protocol is
    served here."""
    await _same_protocol(request)
    return await station_token(request)


async def _push_token(request: Request) -> str:
    """The pushing station's token, once its protocol is served and the push's declared size
    allowed: the checks the push route makes before it reads the body, in this order. Pushes
    and pulls are the most frequent requests; the push route solves no FastAPI dependency
    and the pull one, because solving one costs a push ~100,000 instructions
    (bench/push_cost.py --instructions)."""
    await _same_protocol(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_PUSH_BYTES:
        raise PushTooLarge(
            f"A push may carry at most {MAX_PUSH_BYTES} bytes; send fewer mutations at a time."
        )
    return await station_token(request)


CallerToken = Annotated[str, Depends(_caller_token)]


def _fresh(session: Session) -> Session:
    # End the read-only transaction the token lookup opened (on SQLite it holds the lock).
    session.commit()
    return session


@router.post(
    "/stations/enroll",
    dependencies=_SAME_PROTOCOL,
    response_model=EnrollResponse,
    responses={401: {"model": ErrorBody}, 409: {"model": ErrorBody}},
)
def enroll_station(body: EnrollRequest, session: DbSession) -> EnrollResponse:
    """Trade a one-time enrolment code for the station's token."""
    with session.begin():
        return enrollment.enroll(session, body.code, body.app_version, body.pin_public_key)


@router.get("/stations/me", dependencies=_SAME_PROTOCOL, response_model=StationMe)
def me(station: CurrentStation, session: DbSession) -> StationMe:
    """The calling station as the service knows it; the first call spends its enrol code."""
    enrollment.confirm_enrolment(session, station)
    session.commit()
    return enrollment.station_me(station)


@router.post("/stations/heartbeat", dependencies=_SAME_PROTOCOL, status_code=204)
def heartbeat(body: Heartbeat, station: CurrentStation, session: DbSession) -> Response:
    """Store the station's health figures."""
    with _fresh(session).begin():
        enrollment.record_heartbeat(session, station.id, body)
    return Response(status_code=204)


@router.post(
    "/sync/push",
    response_model=PushResponse,
    openapi_extra=documented_body(PushRequest),
    responses={
        403: {"model": ErrorBody},
        409: {"model": MutationGap},
        413: {"model": ErrorBody},
    },
)
async def push_mutations(request: Request) -> Response:
    """Apply queued station mutations exactly once (see service.sync_server.push).

    The token is checked inside the push's own transaction, on the station row the push
    locks anyway: one connection, no separate read transaction. The body (a PushRequest) is
    read here, after the protocol, size and token checks, not by FastAPI's dependency
    solving (see service.api.documented_bodies); an invalid one answers 422 as any route's.
    """
    token = await _push_token(request)
    try:
        body = PushRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None
    return await _in_thread(request, "sync", _push, token, body)


async def _in_thread(
    request: Request, kind: str, handler: Callable[..., Response], *args: Any
) -> Response:
    """handler(session, *args) in one of the app's `kind` worker threads ("sync": pushes
    and pulls; "snapshot": pulls from cursor 0), once one is free.

    A process works on a few pushes and pulls at once (PACKBENCH_SYNC_THREADS, service.limits);
    more wait in the pool's queue, holding neither a thread nor a database connection. On two
    cores, 40 at once (the shared thread pool's size) did no more work a second but cost more
    CPU each: they took turns at the interpreter lock, and those beyond the connection pool's
    20 each opened a PostgreSQL connection and closed it again, a new server process per
    request. Snapshots (a joining station's whole holding, possibly seconds) wait apart, in
    a pool of their own, so one never holds up the floor's scans.
    """
    work = partial(_in_session, session_factory(request), handler, *args)
    pool = app_pool(request, f"{kind}_pool", sync_threads)
    return await asyncio.get_running_loop().run_in_executor(pool, copy_context().run, work)


def _in_session(
    sessions: sessionmaker[Session], handler: Callable[..., Response], *args: Any
) -> Response:
    """handler(session, *args) in a session of its own.

    The session is opened here, not by the DbSession dependency: a generator dependency
    costs two more thread-pool hops per request (its enter and its exit), ~13 % of a
    worker's CPU under the push load. Pushes and pulls are the service's most frequent
    requests.
    """
    with sessions() as session:
        return handler(session, *args)


def _push(session: Session, token: str, body: PushRequest) -> Response:
    try:
        try:
            with session.begin():
                answer = push.push(session, token, body)
        except push.RedoCarefully:
            with session.begin():
                answer = push.push(session, token, body, careful=True)
    except MutationGapError as exc:
        return JSONResponse(exc.body().model_dump(mode="json"), status_code=409)
    serve_noted_backorders(session)  # units restocked at a returns bench
    # Built by our own code from the schema: serialised once, not validated a second time.
    return Response(answer.model_dump_json(), media_type="application/json")


@router.get(
    "/sync/pull",
    response_model=PullResponse,
    responses={409: {"model": CursorExpired}},
)
async def pull_changes(
    token: CallerToken,
    request: Request,
    cursor: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=pull.MAX_LIMIT)] = pull.DEFAULT_LIMIT,
    protocol: Annotated[str | None, Header(alias=PROTOCOL_HEADER)] = None,
    page: Annotated[str | None, Query(min_length=1, max_length=80)] = None,
) -> Response:
    """Changes after `cursor` for this station; cursor 0 is a full snapshot, in one response,
    or in pages when `page` is given (`first`, then each answer's `next_page`)."""
    kind = "snapshot" if cursor == 0 else "sync"
    return await _in_thread(request, kind, _pull, token, cursor, limit, protocol, page)


def _pull(
    session: Session,
    token: str,
    cursor: int,
    limit: int,
    protocol: str | None,
    page: str | None,
) -> Response:
    paged = cursor == 0 and page is not None
    caught_up = False
    with session.begin():
        # The station, whether changes wait for a number and the head: one statement.
        start = pull.pull_start(session, token_hash(token))
        if start is None:
            raise unknown_station()
        station_id, last_mutation_id, pending, head = start
        if not paged or page == pull.FIRST_PAGE:
            # Everything committed before this pull gets a number, unless another pull
            # is numbering right now (then that one does; see number_pending).
            numbered = number_pending(session, wait=False, pending=pending)
            # Nothing was waiting for one and the cursor is at the head: the feed holds
            # nothing for this station (most pulls), answered from this short transaction.
            caught_up = cursor > 0 and not numbered and head == cursor
    if caught_up:
        empty = PullResponse(
            cursor=cursor, changes=[], more=False, last_mutation_id=last_mutation_id
        )
        return Response(empty.model_dump_json(exclude={"next_page"}), media_type="application/json")
    profiles = _speaks(protocol, 2)
    v3 = _speaks(protocol, 3)  # packing slip, pickup point, COD in order snapshots
    try:
        with session.begin():
            pull.use_snapshot_isolation(session)
            if paged:
                assert page is not None
                answer = pull.snapshot_page(
                    session, station_id, page, limit, weight_profiles=profiles, order_fields_v3=v3
                )
            else:
                answer = pull.pull(
                    session,
                    station_id,
                    cursor,
                    limit,
                    weight_profiles=profiles,
                    order_fields_v3=v3,
                )
    except CursorExpiredError as exc:
        return JSONResponse(exc.body().model_dump(mode="json"), status_code=409)
    if not _speaks(protocol, 4):  # a user's and an order's language: older stations refuse them
        answer = pull.without_v4(answer)
    # Serialised once here: a 10k-order snapshot is not worth a second validation pass.
    # `next_page` only to a station that asked for pages: older ones refuse unknown fields.
    body = answer.model_dump_json(exclude=None if paged else {"next_page"})
    return Response(body, media_type="application/json")


@router.get("/sync/checksum", dependencies=_SAME_PROTOCOL, response_model=HoldingsChecksum)
def holdings_checksum(station: CurrentStation, session: DbSession) -> HoldingsChecksum:
    """What the station should hold, as a count and a digest of order versions."""
    with _fresh(session).begin():
        pull.use_snapshot_isolation(session)
        return pull.checksum(session, station.id)


@router.post(
    "/claims",
    dependencies=_SAME_PROTOCOL,
    response_model=ClaimResponse,
    responses={404: {"model": ClaimRefused}, 409: {"model": ClaimRefused}},
)
def claim(
    body: ClaimRequest,
    station: CurrentStation,
    session: DbSession,
    protocol: Annotated[str | None, Header(alias=PROTOCOL_HEADER)] = None,
) -> ClaimResponse | JSONResponse:
    """Lease one order or a whole batch to this station."""
    try:
        with _fresh(session).begin():
            return leases.claim_orders(session, station, body)
    except ClaimRefusedError as exc:
        # The message as a code and parameters only to a station that reads them (4+): an
        # older one refuses unknown fields and shows the English `message`.
        refusal = exc.body(with_code=_speaks(protocol, 4))
        return JSONResponse(
            refusal.model_dump(mode="json", exclude_none=False, exclude=_old_claim(protocol)),
            status_code=exc.http_status,
        )


def _old_claim(protocol: str | None) -> set[str] | None:
    return None if _speaks(protocol, 4) else set(CLAIM_FIELDS_V4)


@router.delete(
    "/claims/{claim_id}",
    dependencies=_SAME_PROTOCOL,
    status_code=204,
    responses={404: {"model": ErrorBody}},
)
def release_claim(claim_id: int, station: CurrentStation, session: DbSession) -> Response:
    """Give back every order this station still holds under the claim."""
    with _fresh(session).begin():
        leases.release_claim(session, station, claim_id)
    return Response(status_code=204)


def _speaks(header: str | None, version: int) -> bool:
    """Whether a station announcing `header` understands protocol `version` (absent: 1)."""
    try:
        return header is not None and int(header.strip()) >= version
    except ValueError:
        return False
