"""Sign-in, sign-out, and the checks every console route runs: session, role, CSRF.

Pages without a session redirect to the sign-in page; actions (POST) without a session, with
a role too low, or without the session's CSRF token are refused with 403 and change nothing.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from service.api.deps import DbSession
from service.languages import language_code
from service.models import OfficeUser
from service.office.accounts import OfficeRole, SignInRefused, authenticate, may
from service.office.sessions import (
    ABSOLUTE,
    SignedIn,
    audit,
    csrf_ok,
    current,
    end_session,
    start_session,
)
from service.security import constant_time_equal, new_token
from service.web.i18n import N_
from service.web.render import page

COOKIE = "packbench_console"
PRE_COOKIE = "packbench_console_sign_in"  # the sign-in form's CSRF token
SECURE_COOKIE_ENV = "PACKBENCH_CONSOLE_SECURE_COOKIE"  # "1": Secure even behind plain http
PREFIX = "/console"

router = APIRouter(prefix=PREFIX, include_in_schema=False)


class SignInNeeded(Exception):
    """A page was asked for without a valid session: go to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class ConsoleRefused(Exception):
    """An action or page the caller may not use (403, nothing changed)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _signed_in(request: Request, session: Session) -> SignedIn | None:
    who = current(session, request.cookies.get(COOKIE, ""))
    session.commit()  # keep the idle clock's touch; handlers start their own transaction
    request.state.who = who  # error pages keep the signed-in navigation
    return who


def page_for(role: OfficeRole) -> Callable[[Request, Session], SignedIn]:
    """A dependency for a page that `role` (or higher) may see."""

    def check(request: Request, session: DbSession) -> SignedIn:
        who = _signed_in(request, session)
        if who is None:
            raise SignInNeeded(request.url.path)
        if not may(who.role, role):
            raise ConsoleRefused(
                N_(
                    "This page needs the %(role)s role; you are %(yours)s.",
                    role=role.value,
                    yours=who.role,
                )
            )
        return who

    check.__name__ = f"page_for_{role.value}"
    return check


def action_for(role: OfficeRole) -> Callable[[Request, Session], Awaitable[SignedIn]]:
    """A dependency for a state change by `role` (or higher), with the form's CSRF token."""

    async def check(request: Request, session: DbSession) -> SignedIn:
        form = await request.form()
        token = request.cookies.get(COOKIE, "")
        who = _signed_in(request, session)
        if who is None:
            raise ConsoleRefused(
                N_("You are not signed in (or your session ended): sign in again.")
            )
        if not csrf_ok(token, str(form.get("csrf", ""))):
            raise ConsoleRefused(N_("The form was not sent from this console session; reload it."))
        if not may(who.role, role):
            raise ConsoleRefused(
                N_(
                    "This needs the %(role)s role; you are %(yours)s.",
                    role=role.value,
                    yours=who.role,
                )
            )
        return who

    check.__name__ = f"action_for_{role.value}"
    return check


Viewer = Annotated[SignedIn, Depends(page_for(OfficeRole.VIEWER))]
OperatorPage = Annotated[SignedIn, Depends(page_for(OfficeRole.OPERATOR))]
AdminPage = Annotated[SignedIn, Depends(page_for(OfficeRole.ADMIN))]
ViewerAction = Annotated[SignedIn, Depends(action_for(OfficeRole.VIEWER))]
OperatorAction = Annotated[SignedIn, Depends(action_for(OfficeRole.OPERATOR))]
AdminAction = Annotated[SignedIn, Depends(action_for(OfficeRole.ADMIN))]


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or os.environ.get(SECURE_COOKIE_ENV) == "1"


def _safe_next(next_path: str) -> str:
    # Only a path of this console: never another site ("//evil", "https://...").
    if next_path.startswith(PREFIX + "/") and not next_path.startswith("//"):
        return next_path
    return PREFIX + "/"


def _sign_in_form(
    request: Request, *, next_path: str, email: str = "", error: str = "", status_code: int = 200
) -> Response:
    """The sign-in form with a fresh pre-session CSRF token (cookie + hidden field)."""
    token = new_token()
    response = page(
        request,
        "sign_in.html",
        None,
        status_code=status_code,
        next=_safe_next(next_path),
        email=email,
        error=error,
        csrf=token,
    )
    response.set_cookie(
        PRE_COOKIE,
        token,
        max_age=3600,
        path=PREFIX + "/sign-in",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    return response


@router.get("/sign-in")
def sign_in_page(request: Request, next: str = "") -> Response:
    """The sign-in form."""
    return _sign_in_form(request, next_path=next)


@router.post("/sign-in")
def sign_in(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Check the password; on success set the session cookie and go where the user was."""
    # Login CSRF: only a form this browser loaded from the console may sign it in.
    expected = request.cookies.get(PRE_COOKIE, "")
    if not expected or not constant_time_equal(expected, csrf):
        return _sign_in_form(
            request,
            next_path=next,
            email=email,
            status_code=403,
            error=N_("The sign-in form had expired; please sign in again."),
        )
    result = authenticate(session, email, password)
    if isinstance(result, SignInRefused):
        audit(session, None, "sign_in_refused", actor=f"office:{email.strip().lower()[:200]}")
        session.commit()
        message = result.message
        if result.wait is not None:
            seconds = max(1, int(result.wait.total_seconds() + 0.999))
            message += f" Wait {seconds} seconds before the next try."
        return _sign_in_form(request, next_path=next, email=email, error=message, status_code=401)
    token = start_session(session, result)
    audit(session, None, "sign_in", actor=f"office:{result.email}", user_id=result.id)
    session.commit()
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.delete_cookie(PRE_COOKIE, path=PREFIX + "/sign-in")
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(ABSOLUTE.total_seconds()),
        path=PREFIX,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    return response


@router.post("/language")
def choose_language(
    session: DbSession,
    who: ViewerAction,
    language: Annotated[str, Form(max_length=16)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Show the console in another language from now on ("" = the browser's)."""
    code = language_code(language)  # an unknown one is refused with a page saying which
    user = session.get_one(OfficeUser, who.user_id)
    user.language = code
    audit(session, who, "language", details={"language": code or "browser"})
    session.commit()
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/sign-out")
def sign_out(request: Request, session: DbSession, who: ViewerAction) -> Response:
    """End the session (CSRF-checked like every other state change)."""
    end_session(session, request.cookies.get(COOKIE, ""))
    audit(session, who, "sign_out")
    session.commit()
    response = RedirectResponse(PREFIX + "/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response
