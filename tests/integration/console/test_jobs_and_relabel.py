"""Console: the dead-letter jobs page (retry, bulk retry, discard) and relabel from an order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.carriers import registry
from service.carriers.base import CarrierError, CreatedParcel
from service.carriers.house import HouseCarrier
from service.db import utcnow
from service.jobs.queue import enqueue
from service.models import Label, OfficeAudit, Order, OrderEvent, OutboundJob
from service.shipping.labels import prepare_labels
from service.web.jobs import plain_error
from tests.integration.console.conftest import Floor, sign_in


def _dead(sessions: sessionmaker[Session], order_id: int, error: str, kind: str = "publish") -> int:
    with sessions() as s, s.begin():
        job = enqueue(s, kind, now=utcnow(), order_id=order_id, target="sendcloud")
        job.status, job.attempts, job.last_error = "dead", 10, error
        job.finished_at = utcnow()
        s.flush()
        return job.id


def _job(sessions: sessionmaker[Session], job_id: int) -> OutboundJob:
    with sessions() as s:
        job = s.get_one(OutboundJob, job_id)
        s.expunge(job)
        return job


def test_errors_read_as_sentences() -> None:
    assert plain_error("sendcloud: unavailable (HTTP 503)") == (
        "The carrier sendcloud was not reachable (its service was down or refused the "
        "connection) (HTTP 503)."
    )
    assert plain_error("gls: timeout") == "The carrier gls did not answer in time."
    assert plain_error("shop answered 500") == "Shop answered 500."
    assert plain_error(None).startswith("No error was recorded")


def test_dead_jobs_are_listed_retried_and_discarded_with_who_and_why(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session]
) -> None:
    first = _dead(sessions, floor.confirmed_id, "sendcloud: unavailable (HTTP 503)")
    second = _dead(sessions, floor.confirmed_id, "the shop did not answer in time")
    sign_in(app_client, "viewer")
    page = app_client.get("/console/jobs")
    assert page.status_code == 200
    assert "The carrier sendcloud was not reachable" in page.text
    assert "The shop did not answer in time." in page.text
    assert f'href="/console/orders/{floor.confirmed_id}"' in page.text
    assert "Retry</button>" not in page.text  # a viewer only looks
    queue = app_client.get("/console/exceptions")
    assert '<a href="/console/jobs">2 dead jobs</a>' in queue.text

    app_client.cookies.clear()
    csrf = sign_in(app_client, "operator")
    assert "Retry</button>" in app_client.get("/console/jobs").text
    r = app_client.post(f"/console/jobs/{first}/retry", data={"csrf": csrf})
    assert r.status_code == 200 and "Queued again" in r.text
    job = _job(sessions, first)
    assert (job.status, job.attempts) == ("pending", 0)
    again = app_client.post(f"/console/jobs/{first}/retry", data={"csrf": csrf})
    assert again.status_code == 409 and "only a dead or dismissed job is retried" in again.text

    nothing = app_client.post(f"/console/jobs/{second}/discard", data={"csrf": csrf, "reason": " "})
    assert nothing.status_code == 422 and "Say why the job is dismissed" in nothing.text
    assert _job(sessions, second).status == "dead"
    r = app_client.post(
        f"/console/jobs/{second}/discard",
        data={"csrf": csrf, "reason": "fulfilled by hand in the shop admin"},
    )
    assert r.status_code == 200 and "Discarded." in r.text
    job = _job(sessions, second)
    assert job.status == "dismissed" and job.dismissed_by == "office:operator@example.com"
    assert job.dismissed_reason == "fulfilled by hand in the shop admin"
    with sessions() as s:
        query = select(OfficeAudit).where(OfficeAudit.action.like("job_%"))
        rows = list(s.scalars(query.order_by(OfficeAudit.id)))
    assert [(a.action, a.target, a.actor) for a in rows] == [
        ("job_retry", str(first), "office:operator@example.com"),
        ("job_discard", str(second), "office:operator@example.com"),
    ]
    assert rows[1].reason == "fulfilled by hand in the shop admin" and rows[1].at is not None


def test_bulk_retry_is_all_or_nothing(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session]
) -> None:
    a = _dead(sessions, floor.confirmed_id, "gls: timeout", kind="label_void")
    b = _dead(sessions, floor.held_id, "gls: timeout", kind="label_void")
    c = _dead(sessions, floor.held_id, "gls: rejected (HTTP 400)", kind="label_void")
    with sessions() as s, s.begin():
        s.get_one(OutboundJob, c).status = "done"  # someone else dealt with it meanwhile
    csrf = sign_in(app_client, "operator")
    r = app_client.post("/console/jobs/retry", data={"csrf": csrf, "job": [str(a), str(c)]})
    assert r.status_code == 409 and "No job was retried" in r.text
    assert _job(sessions, a).status == "dead"
    empty = app_client.post("/console/jobs/retry", data={"csrf": csrf})
    assert empty.status_code == 422 and "Tick the jobs" in empty.text
    r = app_client.post(
        "/console/jobs/retry", data={"csrf": csrf, "job": [str(a), str(b)], "reason": "GLS back"}
    )
    assert r.status_code == 200 and "2 jobs queued again" in r.text
    assert {_job(sessions, a).status, _job(sessions, b).status} == {"pending"}
    no_csrf = app_client.post("/console/jobs/retry", data={"job": [str(a)]})
    assert no_csrf.status_code == 403


# -- relabel ------------------------------------------------------------------------------


class Carrier:
    """What the house carrier was asked to cancel, and how it answers."""

    def __init__(self) -> None:
        self.cancelled: list[str] = []
        self.refuse: CarrierError | None = None


@pytest.fixture
def carrier(monkeypatch: pytest.MonkeyPatch) -> Carrier:
    """The house carrier, with cancellations recorded and refusable."""
    state = Carrier()

    class Watched(HouseCarrier):
        def cancel(self, session: Session, parcel: CreatedParcel) -> None:
            if state.refuse is not None and parcel.tracking_number not in state.cancelled:
                error, state.refuse = state.refuse, None
                raise error
            state.cancelled.append(parcel.tracking_number)

    def factory(config: Mapping[str, Any]) -> HouseCarrier:
        return Watched(config)

    registry.get_adapter("house")  # load the built-in adapters first
    monkeypatch.setitem(registry.ADAPTERS, "house", factory)
    return state


def _labelled(sessions: sessionmaker[Session], order_id: int) -> tuple[int, str, int, int]:
    with sessions() as s, s.begin():
        assert prepare_labels(s, [order_id]) == 1
    with sessions() as s:
        (label,) = s.scalars(select(Label).where(Label.order_id == order_id))
        order = s.get_one(Order, order_id)
        last = s.scalar(
            select(OrderEvent.id)
            .where(OrderEvent.order_id == order_id)
            .order_by(OrderEvent.id.desc())
        )
        return label.id, label.tracking_number, order.version, last or 0


def _labels(sessions: sessionmaker[Session], order_id: int) -> list[tuple[str, str]]:
    with sessions() as s:
        return [
            (lb.tracking_number, lb.status)
            for lb in s.scalars(select(Label).where(Label.order_id == order_id).order_by(Label.id))
        ]


def test_relabel_voids_the_old_label_and_makes_a_new_one(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session], carrier: Carrier
) -> None:
    label_id, old, version, seen = _labelled(sessions, floor.confirmed_id)
    csrf = sign_in(app_client, "operator")
    page = app_client.get(f"/console/orders/{floor.confirmed_id}")
    assert f"/labels/{label_id}/relabel" in page.text
    url = f"/console/orders/{floor.confirmed_id}/labels/{label_id}/relabel"
    form = {"csrf": csrf, "version": str(version), "seen_event": str(seen)}
    r = app_client.post(url, data={**form, "reason": "customer moved"})
    assert r.status_code == 200 and "A new label was made" in r.text
    labels = _labels(sessions, floor.confirmed_id)
    assert labels[0] == (old, "cancelled") and labels[1][1] == "ready" and labels[1][0] != old
    assert carrier.cancelled == [old]
    with sessions() as s:
        event = s.scalars(
            select(OrderEvent).where(
                OrderEvent.order_id == floor.confirmed_id, OrderEvent.type == "supervisor_action"
            )
        ).one()
        assert event.actor == "office:operator@example.com"
        assert event.payload["action"] == "relabel" and event.payload["reason"] == "customer moved"
        assert event.payload["new_tracking_number"] == labels[1][0]
        audit = s.scalars(select(OfficeAudit).where(OfficeAudit.action == "relabel")).one()
        assert audit.reason == "customer moved"
    # The same form again (the version it carries is old now): refused, showing what changed.
    stale = app_client.post(url, data={**form, "reason": "twice"})
    assert stale.status_code == 409 and "was not changed" in stale.text
    assert "What changed since you looked" in stale.text or "changed since" in stale.text
    assert len(_labels(sessions, floor.confirmed_id)) == 2


def test_a_carrier_that_already_scanned_the_parcel_changes_nothing(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session], carrier: Carrier
) -> None:
    label_id, old, version, seen = _labelled(sessions, floor.confirmed_id)
    carrier.refuse = CarrierError(
        "house", "rejected", "parcel in transit", reason="already_scanned"
    )
    csrf = sign_in(app_client, "operator")
    r = app_client.post(
        f"/console/orders/{floor.confirmed_id}/labels/{label_id}/relabel",
        data={"csrf": csrf, "version": str(version), "seen_event": str(seen), "reason": "x"},
    )
    assert r.status_code == 409
    assert f"house refused to void label {old}: it has the parcel already (scanned)" in r.text
    assert "Nothing was changed; the old label stays valid." in r.text
    assert _labels(sessions, floor.confirmed_id) == [(old, "ready")]
    assert len(carrier.cancelled) == 1 and carrier.cancelled[0] != old  # the new one taken back
    with sessions() as s:
        assert s.get_one(Order, floor.confirmed_id).version == version


def test_a_carrier_that_is_away_gets_the_label_void_job(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session], carrier: Carrier
) -> None:
    label_id, old, version, seen = _labelled(sessions, floor.confirmed_id)
    carrier.refuse = CarrierError("house", "unavailable", "down", status=503)
    csrf = sign_in(app_client, "operator")
    r = app_client.post(
        f"/console/orders/{floor.confirmed_id}/labels/{label_id}/relabel",
        data={"csrf": csrf, "version": str(version), "seen_event": str(seen), "reason": "x"},
    )
    assert r.status_code == 200
    with sessions() as s:
        job = s.scalars(select(OutboundJob).where(OutboundJob.kind == "label_void")).one()
        assert job.payload == {"label_id": label_id} and job.status == "pending"
    assert _labels(sessions, floor.confirmed_id)[0] == (old, "cancelled")
