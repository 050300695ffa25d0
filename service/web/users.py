"""The console's users page: the packers and supervisors who sign in at stations (admin).

Adding, disabling, a new PIN, role and language go through service.users, the functions
`packbench-service user ...` uses, so the rules are the same (badge not a product code, a
PIN of 6-12 digits, a known language). Each change is in the office audit log (never a PIN).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.api.deps import DbSession
from service.errors import ServiceError
from service.models import User
from service.office.sessions import SignedIn, audit
from service.users import UserRole, add_user, set_user_active, update_user
from service.web.auth import PREFIX, AdminAction, AdminPage
from service.web.i18n import N_
from service.web.render import page

router = APIRouter(prefix=PREFIX, include_in_schema=False)

Short = Annotated[str, Form(max_length=100)]
DONE = {
    "added": N_("The user was added; stations know them after their next sync."),
    "disabled": N_("The user was disabled; stations refuse their badge after their next sync."),
    "enabled": N_("The user was enabled again."),
    "pin": N_("The new PIN is set (and any lock-out lifted). Tell the user in person."),
    "updated": N_("Saved."),
}


def _users(
    request: Request,
    session: Session,
    who: SignedIn,
    *,
    error: str = "",
    status_code: int = 200,
    form: dict[str, str] | None = None,
) -> Response:
    session.rollback()
    users = list(session.scalars(select(User).order_by(User.active.desc(), User.name, User.id)))
    return page(
        request,
        "users.html",
        who,
        status_code=status_code,
        users=users,
        roles=[r.value for r in UserRole],
        error=error,
        done=DONE.get(request.query_params.get("done", ""), ""),
        form=form or {},
    )


@router.get("/users")
def users_page(request: Request, session: DbSession, who: AdminPage) -> Response:
    """Every station user: role, badge, PIN set or locked, language, active (admin)."""
    return _users(request, session, who)


@router.post("/users")
def add(
    request: Request,
    session: DbSession,
    who: AdminAction,
    name: Short = "",
    role: Short = "",
    badge: Annotated[str, Form(max_length=64)] = "",
    pin: Annotated[str, Form(max_length=12)] = "",
    language: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Add a packer or supervisor (a PIN is optional for packers)."""
    try:
        user = add_user(
            session,
            name=name,
            role=role,
            badge=badge,
            pin=pin or None,
            language=language or None,
        )
        audit(
            session,
            who,
            "user_add",
            target=str(user.id),
            details={"name": user.name, "role": user.role, "badge": user.badge, "pin": bool(pin)},
        )
        session.commit()
    except ServiceError as exc:
        session.rollback()
        typed = {"name": name, "role": role, "badge": badge, "language": language}
        return _users(
            request, session, who, error=exc.message, status_code=exc.http_status, form=typed
        )
    return RedirectResponse(f"{PREFIX}/users?done=added", status_code=303)


@router.post("/users/{user_id}/active")
def active(
    request: Request,
    session: DbSession,
    who: AdminAction,
    user_id: int,
    active: Annotated[bool, Form()],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Disable a user (with a reason) or enable them again."""
    if not active and not reason.strip():
        return _users(
            request, session, who, error=N_("Say why the user is disabled."), status_code=422
        )
    try:
        user = set_user_active(session, str(user_id), active)
        audit(
            session,
            who,
            "user_enable" if active else "user_disable",
            target=str(user.id),
            reason=reason.strip(),
            details={"name": user.name},
        )
        session.commit()
    except ServiceError as exc:
        session.rollback()
        return _users(request, session, who, error=exc.message, status_code=exc.http_status)
    return RedirectResponse(
        f"{PREFIX}/users?done={'enabled' if active else 'disabled'}", status_code=303
    )


@router.post("/users/{user_id}/pin")
def new_pin(
    request: Request,
    session: DbSession,
    who: AdminAction,
    user_id: int,
    pin: Annotated[str, Form(max_length=100)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Set a new PIN (the user forgot it or is locked out); the PIN is never logged."""
    try:
        user, _changed = update_user(session, str(user_id), pin=pin.strip())
        audit(
            session,
            who,
            "user_pin",
            target=str(user.id),
            reason=reason.strip(),
            details={"name": user.name},
        )
        session.commit()
    except ServiceError as exc:
        session.rollback()
        return _users(request, session, who, error=exc.message, status_code=exc.http_status)
    return RedirectResponse(f"{PREFIX}/users?done=pin", status_code=303)


@router.post("/users/{user_id}")
def update(
    request: Request,
    session: DbSession,
    who: AdminAction,
    user_id: int,
    role: Short,
    language: Annotated[str, Form(max_length=16)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Change a user's role and language."""
    try:
        user, changed = update_user(session, str(user_id), role=role, language=language)
        if changed:
            audit(
                session,
                who,
                "user_update",
                target=str(user.id),
                reason=reason.strip(),
                details={"name": user.name, "role": user.role, "language": user.language},
            )
        session.commit()
    except ServiceError as exc:
        session.rollback()
        return _users(request, session, who, error=exc.message, status_code=exc.http_status)
    return RedirectResponse(f"{PREFIX}/users?done=updated", status_code=303)
