"""ASGI guards around the API: refuse malformed input early, and keep customer data out of
error log lines when something does go wrong.
"""

from __future__ import annotations

import json
import logging
import traceback

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.json_checks import InputRefused, check_body, check_query

log = logging.getLogger(__name__)

_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


async def _send_json(send: Send, status: int, body: dict[str, str]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


# A console page that failed unexpectedly: a page for a person, not the API's JSON.
CONSOLE_FAILED = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Packbench console</title>"
    "<h1>Something went wrong</h1><p>The service failed while making this page; nothing "
    "was changed. Go back and try again; if it happens again, tell whoever runs the "
    "Packbench server.</p><p><a href=/console/>Back to the console</a></p></html>"
)


async def _send_html(send: Send, status: int, html: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": html.encode()})


class InputGuard:
    """Refuse NUL characters anywhere and JSON nested absurdly deep, before any handler.

    The body is read whole (BodySizeLimit, outside this, caps it) and handed on unchanged:
    webhook signatures cover the exact bytes.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_query(scope.get("query_string", b""), scope.get("path", ""))
        except InputRefused as exc:
            await _refuse(send, exc)
            return
        if scope.get("method") not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away; the handler sees an empty body
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            check_body(body)
        except InputRefused as exc:
            await _refuse(send, exc)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(send: Send, exc: InputRefused) -> None:
    body = {"error": exc.code, "message": exc.message}
    if exc.field:
        body["field"] = exc.field
    await _send_json(send, exc.http_status, body)


class InternalErrors:
    """Answer an unexpected exception with a plain 500 and log it without its message.

    An exception's text can carry what a customer typed (a database error echoes the row);
    the log gets the exception's class and where it was raised, which is enough to find it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            log.error(
                "unhandled %s on %s %s\n%s",
                type(exc).__name__,
                scope.get("method"),
                scope.get("path"),
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            if started:
                raise  # too late for an answer; the server closes the connection
            if str(scope.get("path", "")).startswith("/console"):
                await _send_html(send, 500, CONSOLE_FAILED)
                return
            await _send_json(
                send,
                500,
                {"error": "internal_error", "message": "The service failed; try again later."},
            )


def _db_refusal(exc: DBAPIError) -> tuple[int, str, str]:
    if isinstance(exc, DataError):
        return 422, "invalid_input", "A value in the request is out of range or not storable."
    if isinstance(exc, IntegrityError):
        return 409, "conflict", "The request conflicts with data the service already holds."
    if isinstance(exc, OperationalError):
        return 503, "busy", "The service is busy; try again shortly."
    return 500, "internal_error", "The service failed; try again later."


def install_db_error_handlers(app: FastAPI) -> None:
    """Database refusals become a 4xx (or 503) and a log line with no values in it."""

    @app.exception_handler(DBAPIError)
    async def _db_error(request: Request, exc: DBAPIError) -> JSONResponse:
        status, code, message = _db_refusal(exc)
        diag = getattr(exc.orig, "diag", None)
        log.warning(
            "database refused %s %s: %s (sqlstate %s, constraint %s)",
            request.method,
            request.url.path,
            type(exc.orig).__name__,
            getattr(exc.orig, "sqlstate", None) or "-",
            getattr(diag, "constraint_name", None) or "-",
        )
        return JSONResponse({"error": code, "message": message}, status_code=status)

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, _exc: OverflowError) -> JSONResponse:
        # SQLite's driver refuses integers beyond 64 bits with a bare OverflowError.
        log.warning("integer out of range on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"error": "invalid_input", "message": "A number in the request is out of range."},
            status_code=422,
        )
