"""The service's FastAPI application: one factory, routers per area, uniform errors."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.documented_bodies import add_documented_bodies
from service.api.guards import InputGuard, InternalErrors, install_db_error_handlers
from service.db import make_engine, make_sessionmaker
from service.errors import ServiceError
from service.ingest.inbox import Inbox
from service.secrets_store import bind_engine

log = logging.getLogger(__name__)

Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]

MAX_BODY_BYTES = 1024 * 1024  # webhooks and pushes are far smaller; a 10 MB body is refused
# The console's catalogue upload (a file up to 10 MB; its apply form carries it base64).
LARGER_BODIES = {
    "/console/catalogue/import": 16 * 1024 * 1024,
    "/console/catalogue/apply": 16 * 1024 * 1024,
}


class BodySizeLimit:
    """Refuse bodies over the cap with 413 before they are read into memory."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = LARGER_BODIES.get(scope.get("path", ""), self.max_bytes)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _BodyTooLarge:
            await _too_large(send, limit)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    body = (
        b'{"error":"body_too_large","message":"The request body is larger than '
        + str(limit).encode()
        + b' bytes."}'
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def create_app(engine: Engine | str | None = None) -> FastAPI:
    """Build the service app on an engine (or URL; default from PACKBENCH_DB_URL)."""
    if not isinstance(engine, Engine):
        engine = make_engine(engine)
    app = FastAPI(title="Packbench central order service", version="0.1.0")
    app.state.engine = engine
    app.state.sessions = make_sessionmaker(engine)
    bind_engine(engine)  # database-backed secrets are read from the app's database
    # Last added runs first: errors are caught around everything, sizes checked before
    # the input guard reads a body.
    app.add_middleware(InputGuard)
    app.add_middleware(BodySizeLimit)
    app.add_middleware(InternalErrors)
    install_db_error_handlers(app)

    @app.exception_handler(ServiceError)
    async def _service_error(_request: Request, exc: ServiceError) -> JSONResponse:
        body: dict[str, str] = {"error": exc.code, "message": exc.message}
        if exc.field:
            body["field"] = exc.field
        return JSONResponse(body, status_code=exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        loc = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        msg = first.get("msg", "invalid request")
        return JSONResponse(
            {"error": "invalid_request", "message": f"{loc or 'body'}: {msg}", "field": loc},
            status_code=422,
        )

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Liveness: answered on the event loop, never queued behind the worker threads."""
        return {"status": "ok"}

    from service.api import routers

    for router in routers.discover():
        app.include_router(router)
    add_documented_bodies(app)

    from service.web import install as install_console

    install_console(app)
    return app


def _with_inbox(lifespan: Lifespan, inbox: Inbox) -> Lifespan:
    """The app's lifespan, with `inbox` applying (in its own process) inside it."""

    @contextlib.asynccontextmanager
    async def run(app: Any) -> AsyncIterator[Any]:
        inbox.start_process()  # before the request threads exist
        try:
            async with lifespan(app) as state:
                yield state
        finally:
            # It finishes the delivery it is applying (what is queued stays queued).
            await run_in_threadpool(inbox.stop)

    return run


def serving_app(engine: Engine | str | None = None) -> FastAPI:
    """create_app() for a long-running server process (`serve`; each worker's factory).

    It runs the process's webhook inbox (service.ingest.inbox) from start-up to shutdown:
    order deliveries beyond its inline slots are stored, and its applier (a child process
    at a lower CPU priority, started before any other thread) applies them and what an
    earlier process left queued.

    Everything built at start-up (routes, models, compiled schemas) lives for the whole
    process, yet every full garbage collection walked it again: ~90 ms pauses every few
    dozen requests, the worst of the tail latency. gc.freeze() moves it out of the
    collector's view. Tests build many apps in one process and use create_app() instead.
    """
    app = create_app(engine)
    inbox = Inbox(app.state.sessions)
    app.state.inbox = inbox
    app.router.lifespan_context = _with_inbox(app.router.lifespan_context, inbox)
    gc.collect()
    gc.freeze()
    return app
