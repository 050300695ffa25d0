"""Signing in to the console: cookies, sessions, wrong passwords, CSRF on every change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.models import OfficeAudit, OfficeUser, Order, OrderEvent
from service.office.accounts import retry_delay
from service.office.sessions import IDLE
from sync import clock
from tests.integration.console.conftest import PASSWORD, Floor, email, post_sign_in, sign_in

T0 = datetime(2031, 3, 4, 9, 0, tzinfo=UTC)


def test_pages_redirect_to_sign_in_and_come_back_after_it(
    app_client: TestClient, office: None
) -> None:
    r = app_client.get("/console/orders?q=x", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/console/sign-in?next=/console/orders"
    r = post_sign_in(
        app_client,
        data={"email": "VIEWER@example.com ", "password": PASSWORD, "next": "/console/orders"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/console/orders"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain http in this test
    assert app_client.get("/console/orders").status_code == 200


def test_the_cookie_is_secure_over_tls(service_engine, office: None) -> None:  # type: ignore[no-untyped-def]
    from service.api.app import create_app

    with TestClient(create_app(service_engine), base_url="https://testserver") as client:
        r = post_sign_in(
            client,
            data={"email": email("viewer"), "password": PASSWORD},
            follow_redirects=False,
        )
    assert r.status_code == 303
    assert "Secure" in r.headers["set-cookie"]


def test_a_sign_in_form_not_loaded_by_this_browser_is_refused(
    app_client: TestClient, office: None
) -> None:
    """Login CSRF: another site cannot sign the browser in to an account of its choosing."""
    data = {"email": email("viewer"), "password": PASSWORD}
    for csrf in ("", "forged"):
        r = app_client.post("/console/sign-in", data={**data, "csrf": csrf}, follow_redirects=False)
        assert r.status_code == 403 and "sign-in form had expired" in r.text
        assert "packbench_console=" not in r.headers.get("set-cookie", "")
    assert app_client.get("/console/orders", follow_redirects=False).status_code == 303


def test_next_never_leads_off_the_console(app_client: TestClient, office: None) -> None:
    r = post_sign_in(
        app_client,
        data={"email": email("viewer"), "password": PASSWORD, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/console/"


def test_wrong_passwords_make_the_account_wait_longer_each_time(
    app_client: TestClient, office: None, sessions: sessionmaker[Session]
) -> None:
    with clock.frozen(T0) as now:
        for attempt in range(1, 6):
            r = post_sign_in(
                app_client, data={"email": email("operator"), "password": "wrong guess!"}
            )
            assert r.status_code == 401
            assert "Wrong e-mail or password." in r.text
            wait = retry_delay(attempt)
            if wait:
                assert f"Wait {int(wait.total_seconds())} seconds" in r.text
                # Even the right password is not checked before the wait is over.
                r = post_sign_in(
                    app_client, data={"email": email("operator"), "password": PASSWORD}
                )
                assert r.status_code == 401 and "Too many wrong passwords" in r.text
                now.advance(wait)
        assert retry_delay(5) > retry_delay(4) > retry_delay(3) > timedelta(0)
        with sessions() as s:
            user = s.scalar(select(OfficeUser).where(OfficeUser.email == email("operator")))
            assert user is not None and user.failed_attempts == 5
        # Another account is not slowed down by this one's failures.
        sign_in(app_client, "viewer")
        r = post_sign_in(
            app_client,
            data={"email": email("operator"), "password": PASSWORD},
            follow_redirects=False,
        )
        assert r.status_code == 303
    with sessions() as s:
        user = s.scalar(select(OfficeUser).where(OfficeUser.email == email("operator")))
        assert user is not None and user.failed_attempts == 0
        refused = s.scalars(select(OfficeAudit).where(OfficeAudit.action == "sign_in_refused"))
        assert len(list(refused)) >= 5


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(
    app_client: TestClient, office: None
) -> None:
    r = post_sign_in(app_client, data={"email": "nobody@x.org", "password": "x" * 12})
    assert r.status_code == 401 and "Wrong e-mail or password." in r.text


def test_an_idle_session_ends(app_client: TestClient, office: None) -> None:
    with clock.frozen(T0) as now:
        sign_in(app_client, "viewer")
        now.advance(IDLE - timedelta(minutes=1))
        assert app_client.get("/console/orders", follow_redirects=False).status_code == 200
        now.advance(IDLE - timedelta(minutes=1))  # it was touched: still alive
        assert app_client.get("/console/orders", follow_redirects=False).status_code == 200
        now.advance(IDLE + timedelta(seconds=1))
        assert app_client.get("/console/orders", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session_server_side(app_client: TestClient, office: None) -> None:
    csrf = sign_in(app_client, "viewer")
    cookie = app_client.cookies.get("packbench_console")
    r = app_client.post("/console/sign-out", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    # The old cookie value, replayed, opens nothing.
    app_client.cookies.set("packbench_console", cookie or "", path="/console")
    assert app_client.get("/console/orders", follow_redirects=False).status_code == 303


def test_a_post_without_or_with_a_wrong_csrf_token_changes_nothing(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session]
) -> None:
    csrf = sign_in(app_client, "operator")
    with sessions() as s:
        before = s.get(Order, floor.held_id)
        assert before is not None
        version, events = before.version, s.query(OrderEvent).count()
    form = {"reason": "customer phoned", "version": str(version), "seen_event": "0"}
    for bad in ({}, {"csrf": "0" * 64}, {"csrf": csrf[:-1] + ("0" if csrf[-1] != "0" else "1")}):
        r = app_client.post(f"/console/orders/{floor.held_id}/release", data={**form, **bad})
        assert r.status_code == 403, r.text
        assert "not sent from this console session" in r.text
    with sessions() as s:
        after = s.get(Order, floor.held_id)
        assert after is not None and after.status == "on_hold" and after.version == version
        assert s.query(OrderEvent).count() == events
    # The same form with the session's token goes through.
    r = app_client.post(f"/console/orders/{floor.held_id}/release", data={**form, "csrf": csrf})
    assert r.status_code == 200 and "The hold was released." in r.text


def test_a_csrf_token_of_another_session_is_refused(
    app_client: TestClient,
    service_engine,
    floor: Floor,  # type: ignore[no-untyped-def]
) -> None:
    from service.api.app import create_app

    with TestClient(create_app(service_engine)) as other:
        their_token = sign_in(other, "admin")
    sign_in(app_client, "operator")
    r = app_client.post(
        f"/console/orders/{floor.held_id}/hold",
        data={"reason": "x", "version": "1", "seen_event": "0", "csrf": their_token},
    )
    assert r.status_code == 403


def test_a_disabled_user_is_out_at_once(
    app_client: TestClient, office: None, sessions: sessionmaker[Session]
) -> None:
    sign_in(app_client, "viewer")
    with sessions() as s, s.begin():
        user = s.scalar(select(OfficeUser).where(OfficeUser.email == email("viewer")))
        assert user is not None
        user.active = False
    assert app_client.get("/console/orders", follow_redirects=False).status_code == 303
