"""The operations console: server-rendered pages under /console on the service's own app.

`install(app)` adds the console's routes (kept out of the OpenAPI document: they are pages,
not API) and makes errors on console paths answer with a page instead of JSON.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.errors import ServiceError
from service.office.sessions import SignedIn
from service.web import auth, catalogue, dashboard, jobs, operations, orders, triage, users
from service.web.auth import PREFIX, ConsoleRefused, SignInNeeded
from service.web.i18n import N_
from service.web.render import HERE, page

log = logging.getLogger(__name__)

STATIC = {"console.css": "text/css"}
files = APIRouter(include_in_schema=False)


@files.get(f"{PREFIX}/static/{{name}}")
def static(name: str) -> Response:
    """The console's stylesheet (no other file is served)."""
    if name not in STATIC:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(HERE / "static" / name, media_type=STATIC[name])


@files.get(PREFIX)
def root() -> Response:
    """/console without the slash."""
    return RedirectResponse(PREFIX + "/", status_code=307)


ROUTERS = (
    files,
    auth.router,
    dashboard.router,
    orders.router,
    triage.router,
    jobs.router,
    operations.router,
    catalogue.router,
    users.router,
)


def console_routes() -> list[tuple[str, str]]:
    """(method, path) of every console route, for the authorisation matrix test."""
    return sorted(
        (method, route.path)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    )


def install(app: FastAPI) -> None:
    """Add the console to the service app."""
    for router in ROUTERS:
        app.include_router(router)
    app.add_exception_handler(SignInNeeded, _sign_in_needed)
    app.add_exception_handler(ConsoleRefused, _refused)
    _wrap(app, ServiceError, _service_error)
    _wrap(app, RequestValidationError, _invalid)
    _wrap(app, StarletteHTTPException, _http_error)
    _wrap(app, DBAPIError, _database_error)


def _on_console(request: Request) -> bool:
    return request.url.path == PREFIX or request.url.path.startswith(PREFIX + "/")


def _wrap(app: FastAPI, kind: type[Exception], console_handler: Any) -> None:
    """Console paths get `console_handler`; every other path keeps the API's handler."""
    api_handler = app.exception_handlers.get(kind)

    async def handler(request: Request, exc: Exception) -> Response:
        if _on_console(request):
            console: Response = await console_handler(request, exc)
            return console
        if api_handler is None:
            raise exc
        result = api_handler(request, exc)
        if inspect.isawaitable(result):
            result = await result
        assert isinstance(result, Response)
        return result

    app.add_exception_handler(kind, handler)


def _who(request: Request) -> SignedIn | None:
    who: SignedIn | None = getattr(request.state, "who", None)
    return who


async def _sign_in_needed(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInNeeded)
    return RedirectResponse(f"{PREFIX}/sign-in?next={quote(exc.next_path)}", status_code=303)


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConsoleRefused)
    return page(request, "error.html", _who(request), status_code=403, message=exc.message)


async def _service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    return page(
        request, "error.html", _who(request), status_code=exc.http_status, message=exc.message
    )


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query"))
    message = N_(
        "%(where)s: %(problem)s. Nothing was changed.",
        where=where or N_("The form"),
        problem=first.get("msg", "invalid"),
    )
    return page(request, "error.html", _who(request), status_code=422, message=message)


async def _database_error(request: Request, exc: Exception) -> Response:
    """A database failure on a console page: a page a person can act on (the API keeps JSON)."""
    assert isinstance(exc, DBAPIError)
    log.warning(
        "database failed on console %s %s: %s",
        request.method,
        request.url.path,
        type(exc.orig).__name__,
    )
    if isinstance(exc, IntegrityError):
        message = N_(
            "What you sent clashes with something saved meanwhile, so nothing was changed. "
            "Reload the page and try again."
        )
        return page(request, "error.html", _who(request), status_code=409, message=message)
    message = N_(
        "The database did not answer as it should, so this page cannot be shown and nothing "
        "was changed. Try again in a minute; if it keeps happening, tell whoever runs the "
        "Packbench server (the service log says what the database answered)."
    )
    return page(
        request, "error.html", _who(request), status_code=503, message=message, title=N_("Not now")
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return page(request, "error.html", None, status_code=exc.status_code, message=str(exc.detail))
