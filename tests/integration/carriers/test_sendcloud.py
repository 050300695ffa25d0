"""The Sendcloud adapter against a local fake built from the public API documentation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from service.models import Label, Order, OrderEvent, OrderException
from service.secrets_store import put_secret
from service.shipping.labels import prepare_labels, relabel
from service.shipping.tracking import poll_tracking
from tests.integration.carriers.conftest import pack
from tests.support.fake_sendcloud import FakeSendcloud, running_fake_sendcloud


@pytest.fixture
def fake() -> Iterator[FakeSendcloud]:
    with running_fake_sendcloud() as f:
        yield f


@pytest.fixture
def sc_order(make_order: Callable[..., int], fake: FakeSendcloud) -> Callable[..., int]:
    """An order for the sendcloud carrier on a channel configured for the fake."""
    put_secret("carrier:sendcloud:secret_key", "sk-test")
    settings: dict[str, Any] = {
        "carriers": {
            "sendcloud": {
                "base_url": f"{fake.url}/api/v2",
                "public_key": "pk-test",
                "shipment_id": 8,
                "timeout_seconds": 0.5,
                "secret_key": "never-read-from-the-db",
            }
        }
    }
    return lambda **kw: make_order(carrier="sendcloud", channel="sc", settings=settings, **kw)


def _exceptions(sessions: sessionmaker[Session], oid: int) -> list[tuple[str, str]]:
    with sessions() as s:
        return [
            (e.code, e.message)
            for e in s.scalars(select(OrderException).where(OrderException.order_id == oid))
        ]


def _labels(sessions: sessionmaker[Session], oid: int) -> list[Label]:
    with sessions() as s:
        return list(s.scalars(select(Label).where(Label.order_id == oid).order_by(Label.id)))


def test_label_relabel_ship_and_poll_tracking(
    sessions: sessionmaker[Session], sc_order: Callable[..., int], fake: FakeSendcloud
) -> None:
    oid = sc_order()
    with sessions() as s, s.begin():
        assert prepare_labels(s, [oid]) == 1
    (label,) = _labels(sessions, oid)
    assert label.format == "pdf" and label.content.startswith(b"%PDF")
    assert label.carrier_ref == "9001" and label.tracking_number == "3SSCL000009001"
    _method, path, body = fake.requests[0]
    assert path == "/api/v2/parcels"
    sent = body["parcels"][0]
    assert sent["weight"] == "1.300" and sent["request_label"] is True
    assert sent["shipment"] == {"id": 8} and sent["postal_code"] == "10115"

    with sessions() as s, s.begin():
        new = relabel(s, s.get_one(Order, oid), 1, 2000)
        assert new is not None and new.carrier_ref == "9002"
    assert fake.cancelled == [9001]  # the old label was cancelled at the carrier

    (number,) = pack(sessions, oid, [2000])
    from service.shipping.dispatch import close_day

    with sessions() as s, s.begin():
        close_day(s, "sendcloud", actor="test")
    fake.add_tracking(number, "en-route-to-sorting-center", "2026-11-30T08:00:00+00:00")
    fake.add_tracking(number, "delivered", "2026-11-30T15:00:00+00:00", "Delivered")
    report = poll_tracking(sessions)
    assert (report.events, report.delivered_orders) == (2, 1)
    assert poll_tracking(sessions).events == 0  # delivered orders are not polled again
    with sessions() as s:
        assert s.get_one(Order, oid).status == "delivered"


def test_carrier_failures_become_exceptions_and_nothing_half_created(
    sessions: sessionmaker[Session], sc_order: Callable[..., int], fake: FakeSendcloud
) -> None:
    cases = [
        (["500"], {}, "carrier_unavailable", "Sendcloud answered 500"),
        (["timeout"], {}, "carrier_timeout", "no answer within 0.5 s"),
        ([], {"ship_postcode": "00000"}, "carrier_rejected", "Invalid postal code"),
        ([], {"ship_street1": ""}, "carrier_rejected", "address: 'This field cannot be blank.'"),
        (["label_500"], {}, "carrier_unavailable", "Sendcloud answered 502"),
    ]
    for faults, fields, code, words in cases:
        fake.fail_next[:] = faults
        oid = sc_order(**fields)
        with sessions() as s, s.begin():
            assert prepare_labels(s, [oid]) == 0
        ((got_code, message),) = _exceptions(sessions, oid)
        assert got_code == code and words in message, (code, message)
        assert _labels(sessions, oid) == []
    # The parcel announced before its label download failed was cancelled again.
    assert fake.cancelled == [max(fake.parcels)]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Label)) == 0


def test_missing_secret_is_a_config_exception(
    sessions: sessionmaker[Session], sc_order: Callable[..., int], fake: FakeSendcloud
) -> None:
    oid = sc_order()
    import keyring

    from service.secrets_store import forget_cached_secrets

    keyring.delete_password("packbench-service", "carrier:sendcloud:secret_key")
    forget_cached_secrets()
    with sessions() as s, s.begin():
        assert prepare_labels(s, [oid]) == 0
    ((code, message),) = _exceptions(sessions, oid)
    assert code == "carrier_config" and "secret key" in message
    assert fake.requests == []


def _cancel_in_channel(sessions: sessionmaker[Session], oid: int) -> None:
    from service.ingest.store import cancel_order
    from service.models import Channel

    with sessions() as s, s.begin():
        order = s.get_one(Order, oid)
        channel = s.get_one(Channel, order.channel_id)
        assert cancel_order(s, channel, order.channel_order_id, actor="shop").outcome == (
            "cancelled"
        )


def test_cancelled_order_voids_its_label_at_the_carrier(
    sessions: sessionmaker[Session], sc_order: Callable[..., int], fake: FakeSendcloud
) -> None:
    oid = sc_order()
    with sessions() as s, s.begin():
        assert prepare_labels(s, [oid]) == 1
    _cancel_in_channel(sessions, oid)
    assert fake.cancelled == [9001]
    (label,) = _labels(sessions, oid)
    assert label.status == "cancelled"
    with sessions() as s:
        (event,) = s.scalars(
            select(OrderEvent.payload).where(
                OrderEvent.order_id == oid, OrderEvent.type == "label_cancelled"
            )
        )
    assert event["reason"] == "order_cancelled" and event["carrier_cancelled"] is True
    assert _exceptions(sessions, oid) == []


def test_label_the_carrier_cannot_void_now_is_retried_by_a_job_and_never_printable(
    sessions: sessionmaker[Session], sc_order: Callable[..., int], fake: FakeSendcloud
) -> None:
    from service.jobs.queue import RetryPolicy
    from service.jobs.worker import run_due
    from service.models import OutboundJob

    oid = sc_order()
    with sessions() as s, s.begin():
        assert prepare_labels(s, [oid]) == 1
    fake.fail_next[:] = ["500"]
    _cancel_in_channel(sessions, oid)
    assert fake.cancelled == []
    (label,) = _labels(sessions, oid)
    assert label.status == "cancelled"  # the station never prints it
    assert _exceptions(sessions, oid) == []  # the carrier was away, not unwilling: a job
    with sessions() as s:
        job = s.scalars(select(OutboundJob).where(OutboundJob.order_id == oid)).one()
        (event,) = s.scalars(
            select(OrderEvent.payload).where(
                OrderEvent.order_id == oid, OrderEvent.type == "label_cancelled"
            )
        )
    assert job.kind == "label_void" and job.payload == {"label_id": label.id}
    assert event["carrier_cancelled"] is False and event["carrier_cancel_queued"] is True

    policy = RetryPolicy(base_seconds=60, max_attempts=2)
    at = job.next_at
    fake.fail_next[:] = ["500"]
    assert run_due(sessions, clock=lambda: at, policy=policy).retrying == [job.id]
    with sessions() as s:
        at = s.get_one(OutboundJob, job.id).next_at
    assert run_due(sessions, clock=lambda: at, policy=policy).done == [job.id]
    assert fake.cancelled == [9001]


def test_label_void_job_that_dies_is_an_exception_for_a_person(
    sessions: sessionmaker[Session], sc_order: Callable[..., int], fake: FakeSendcloud
) -> None:
    from service.jobs.queue import RetryPolicy
    from service.jobs.worker import run_due
    from service.models import OutboundJob

    oid = sc_order()
    with sessions() as s, s.begin():
        assert prepare_labels(s, [oid]) == 1
    fake.fail_next[:] = ["500", "500"]
    _cancel_in_channel(sessions, oid)
    with sessions() as s:
        job = s.scalars(select(OutboundJob).where(OutboundJob.order_id == oid)).one()
    at = job.next_at
    assert run_due(sessions, clock=lambda: at, policy=RetryPolicy(max_attempts=1)).dead == [job.id]
    assert fake.cancelled == []
    ((code, message),) = _exceptions(sessions, oid)
    assert code == "label_not_voided"
    assert "3SSCL000009001" in message and "void it in the carrier's portal" in message


def test_a_second_box_only_recounts_labels_the_carrier_does_not_number(
    sessions: sessionmaker[Session], sc_order: Callable[..., int], fake: FakeSendcloud
) -> None:
    from service.shipping.labels import check_weight

    oid = sc_order()
    with sessions() as s, s.begin():
        assert prepare_labels(s, [oid]) == 1
        order = s.get_one(Order, oid)
        first = check_weight(s, order, 1, 1300)
        second = check_weight(s, order, 2, 700)
        assert first is not None and second is not None
        assert (first.parcel_count, second.parcel_count) == (2, 2)
        assert first.status == "ready" and first.carrier_ref == "9001"  # the same parcel
        assert first.content.startswith(b"%PDF-1.4 fake label")  # not printed again
    assert fake.cancelled == [] and sorted(fake.parcels) == [9001, 9002]


def test_a_tracking_poll_the_carrier_does_not_answer_is_a_job_retried_later(
    sessions: sessionmaker[Session], sc_order: Callable[..., int], fake: FakeSendcloud
) -> None:
    from datetime import UTC, datetime

    from service.jobs.queue import RetryPolicy
    from service.jobs.scheduler import run_tracking
    from service.jobs.worker import run_due
    from service.models import OutboundJob
    from service.shipping.dispatch import close_day

    oid = sc_order()
    (number,) = pack(sessions, oid, [1300])
    with sessions() as s, s.begin():
        close_day(s, "sendcloud", actor="test")
    fake.add_tracking(number, "delivered", "2026-11-30T15:00:00+00:00", "Delivered")
    t0 = datetime(2031, 1, 2, 3, 0, tzinfo=UTC)
    fake.fail_next[:] = ["500"]
    assert "not done yet" in run_tracking(sessions, lambda: t0)
    with sessions() as s:
        (job,) = s.scalars(select(OutboundJob).where(OutboundJob.kind == "tracking_poll"))
        assert s.get_one(Order, oid).status == "shipped"
    assert job.status == "pending" and job.last_error == "sendcloud: unavailable (HTTP 500)"
    # The next tick before the job is due queues nothing new and asks nobody.
    asked = len(fake.requests)
    assert "not done yet" in run_tracking(sessions, lambda: t0)
    assert len(fake.requests) == asked
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboundJob)) == 1
    at = job.next_at
    assert run_due(sessions, clock=lambda: at, policy=RetryPolicy()).done == [job.id]
    with sessions() as s:
        assert s.get_one(Order, oid).status == "delivered"
