"""The office sees shop deliveries the webhook inbox could not apply, on the channels page and
in the exceptions queue, and an operator applies them again once the cause is fixed: audited
with who and why, then applied once by the inbox."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.ingest.inbox import apply_due
from service.models import OfficeAudit, Order, WebhookReceipt
from tests.integration.console.conftest import Floor, sign_in
from tests.support import factories
from tests.support.shop_payloads import shopify_order

WHY = "ValidationFailed: No carrier is mapped for shipping method 'Next day'."


def _failed_delivery(sessions: sessionmaker[Session], number: int) -> None:
    """A Shopify order delivery as the inbox keeps one it could not apply: failed, with its
    raw body and the reason."""
    with sessions() as s, s.begin():
        shop = factories.channel(s)
        s.add(
            WebhookReceipt(
                channel_id=shop.id,
                webhook_id=f"d-{number}",
                topic="orders/create",
                channel_order_id=str(number),
                outcome="failed",
                body=json.dumps(shopify_order(number)).encode(),
                error=WHY,
            )
        )


def _receipt(sessions: sessionmaker[Session], delivery: str) -> WebhookReceipt:
    with sessions() as s:
        found = s.scalar(select(WebhookReceipt).where(WebhookReceipt.webhook_id == delivery))
        assert found is not None
        return found


def test_a_viewer_sees_the_failed_delivery_and_why_but_cannot_retry_it(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session]
) -> None:
    _failed_delivery(sessions, 9001)
    sign_in(app_client, "viewer")
    page = app_client.get("/console/channels")
    assert page.status_code == 200
    assert "1 delivery could not be applied" in page.text
    assert "d-9001" in page.text and "orders/create" in page.text
    assert "No carrier is mapped for shipping method" in page.text
    assert "/inbox/retry" not in page.text  # the form is the operator's

    queue = app_client.get("/console/exceptions")
    assert ">1 webhook delivery</a> from a shop could not be applied" in queue.text


def test_an_operator_applies_it_again_with_a_reason_and_the_inbox_applies_it_once(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session]
) -> None:
    _failed_delivery(sessions, 9002)
    csrf = sign_in(app_client, "operator")
    assert "/console/channels/test-shop/inbox/retry" in app_client.get("/console/channels").text

    # No reason: refused, nothing changes.
    r = app_client.post("/console/channels/test-shop/inbox/retry", data={"csrf": csrf})
    assert r.status_code == 422
    assert _receipt(sessions, "d-9002").outcome == "failed"

    r = app_client.post(
        "/console/channels/test-shop/inbox/retry",
        data={"csrf": csrf, "reason": "mapped 'Next day' to DPD"},
    )
    assert r.status_code == 200  # followed the redirect back to the page
    assert "1 failed delivery queued again" in r.text
    assert "1 order delivery is queued" in r.text
    queued = _receipt(sessions, "d-9002")
    assert (queued.outcome, queued.error) == ("queued", None)
    with sessions() as s:
        [entry] = s.scalars(select(OfficeAudit).where(OfficeAudit.action == "webhook_retry"))
        assert (entry.actor, entry.target, entry.reason, entry.details) == (
            "office:operator@example.com",
            "test-shop",
            "mapped 'Next day' to DPD",
            {"requeued": 1},
        )

    assert apply_due(sessions) == 1
    assert apply_due(sessions) == 0
    applied = _receipt(sessions, "d-9002")
    assert applied.outcome == "created" and applied.body is None
    with sessions() as s:
        assert s.scalars(select(Order.channel_order_id)).all().count("9002") == 1
    page = app_client.get("/console/channels")
    assert "Every delivery has been applied." in page.text
    assert "webhook delivery" not in app_client.get("/console/exceptions").text


def test_retrying_an_unknown_channel_says_so(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session]
) -> None:
    csrf = sign_in(app_client, "operator")
    r = app_client.post(
        "/console/channels/no-such-shop/inbox/retry", data={"csrf": csrf, "reason": "fixed"}
    )
    assert r.status_code == 404 and "No channel named" in r.text
