"""What each kind of job does, and what a dead one leaves for a person.

- `publish` (payload: none; order_id): tell the order's shop it shipped. Idempotent: an order
  already published is skipped, and the shop is asked before anything is created (Shopify's
  open fulfillment orders, WooCommerce's order status and notes), so a retry after a crash
  between the shop's answer and our commit never fulfils twice.
- `label_void` (payload: label_id): cancel a label at its carrier that the carrier could not
  cancel when the order was cancelled. Cancelling twice is accepted by the carriers.
- `tracking_poll` (target: a carrier, or "" for all): ask the carriers with a tracking feed
  about shipped orders. Fails (and is retried) while a carrier does not answer for some
  order; events already recorded are not recorded twice. The scheduler queues one at a time.
- `stock_publish` (payload: product_id, channel_id; target: the channel): set the product's
  available stock in the shop to the figure the ledger has when the job runs (an absolute
  quantity, so a second send is harmless). Queued by service/stock/publish.py, coalesced to
  one pending job per product and channel. What was sent is kept in the payload (`sent`).
- `refund` (payload: return_id; order_id): refund a closed return's units through the
  order's WooCommerce shop. The shop's refunds are read first and one carrying the return's
  code is taken as done, so a retry after a crash between the shop's answer and our commit
  never refunds twice (service/returns/refunds.py).
- `return_dispose` (payload: return_id; order_id): publish a Shopify return's dispositions
  with `reverseFulfillmentOrderDispose`. The return's reverse fulfilment order line items
  and the dispositions Shopify already has are read first and only the difference is sent,
  so a retry after a crash between Shopify's answer and our commit never disposes twice;
  coalesced to one pending job per return (service/returns/dispose.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.carriers.base import CarrierError, CreatedParcel
from service.db import utcnow
from service.jobs.queue import ClaimedJob, enqueue
from service.lifecycle import record_event
from service.models import Label, Order, OrderException, OutboundJob
from service.returns.dispose import (
    DisposeError,
    attempt_dispose,
    prepare_disposal,
    record_dispose_failed,
    record_disposed,
)
from service.returns.refunds import (
    RefundError,
    attempt_refund,
    prepare_refund,
    record_refund,
    record_refund_failed,
)
from service.shipping.labels import adapter_for
from service.shipping.publish import (
    TIMEOUT_SECONDS,
    PublishError,
    attempt_publication,
    prepare_publication,
    publication,
    record_publish_failed,
    record_published,
)
from service.shipping.tracking import poll_tracking
from service.stock.shops import read_figure, send_figure
from sync.protocol import exception_words

ACTOR = "jobs"


class JobFailed(Exception):
    """A job's call did not work; `summary` goes to the job table, the message to the order."""

    def __init__(self, message: str, *, transient: bool, summary: str | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.summary = summary or message


@dataclass(frozen=True)
class JobKind:
    """How to run one kind of job, and what to record when it is parked as dead."""

    run: Callable[[sessionmaker[Session], ClaimedJob], None]
    on_dead: Callable[[Session, ClaimedJob, str], None]


def _order_id(job: ClaimedJob) -> int:
    if job.order_id is None:
        raise JobFailed(f"job {job.id} names no order", transient=False)
    return job.order_id


def run_publish(sessions: sessionmaker[Session], job: ClaimedJob) -> None:
    """One attempt at telling the shop; JobFailed if it did not take it."""
    pub = prepare_publication(sessions, _order_id(job))
    if pub is None:
        return  # published already (perhaps by the run that crashed), or not a shop channel
    try:
        with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
            result = attempt_publication(pub, client)
    except PublishError as exc:
        raise JobFailed(str(exc), transient=exc.transient, summary=exc.summary) from exc
    with sessions() as session, session.begin():
        record_published(session, pub, result, tries=job.attempts, actor=ACTOR)


def dead_publish(session: Session, job: ClaimedJob, error: str) -> None:
    """The failure event and the `publish` exception of the order."""
    pub = None if job.order_id is None else publication(session, job.order_id)
    if pub is not None:
        failure = PublishError(error, transient=False)
        record_publish_failed(session, pub, failure, tries=job.attempts, actor=ACTOR)


def run_label_void(sessions: sessionmaker[Session], job: ClaimedJob) -> None:
    """Cancel the label at its carrier."""
    with sessions() as session, session.begin():
        label = session.get(Label, int(job.payload.get("label_id", 0)))
        if label is None:
            return  # the order was deleted; nothing is left to void
        order = session.get_one(Order, label.order_id)
        parcel = CreatedParcel(
            label.parcel_no, label.tracking_number, label.carrier_ref, "zpl", b""
        )
        try:
            adapter, _config = adapter_for(order)
            adapter.cancel(session, parcel)
        except CarrierError as exc:
            raise JobFailed(str(exc), transient=exc.transient, summary=exc.summary) from exc
        record_event(
            session,
            order,
            "label_voided",
            actor=ACTOR,
            payload={"box_no": label.parcel_no, "tracking_number": label.tracking_number},
        )
        for open_exc in session.scalars(
            select(OrderException).where(
                OrderException.order_id == order.id,
                OrderException.code == "label_not_voided",
                OrderException.resolved_at.is_(None),
            )
        ):
            if (open_exc.details or {}).get("tracking_number") == label.tracking_number:
                open_exc.resolved_at = utcnow()
                open_exc.resolved_by = ACTOR
                open_exc.resolution = "The carrier cancelled the label on a later attempt."


def dead_label_void(session: Session, job: ClaimedJob, error: str) -> None:
    """A `label_not_voided` exception: a person voids it in the carrier's portal."""
    label = session.get(Label, int(job.payload.get("label_id", 0)))
    if label is None:
        return
    order = session.get_one(Order, label.order_id)
    session.add(label_not_voided(order, label, error))


def label_not_voided(order: Order, label: Label, error: str) -> OrderException:
    """The exception for a label the carrier kept."""
    message, say = exception_words(
        "label_not_voided",
        carrier=label.carrier,
        tracking=label.tracking_number,
        order=order.number,
    )
    return OrderException(
        order_id=order.id,
        kind="carrier",
        code="label_not_voided",
        message=message,
        details={
            "carrier": label.carrier,
            "tracking_number": label.tracking_number,
            "error": error[:300],
            "say": say,
        },
    )


def run_tracking_poll(sessions: sessionmaker[Session], job: ClaimedJob) -> None:
    """One poll; JobFailed if some orders could not be asked about."""
    failures: list[str] = []
    poll_tracking(sessions, carrier=job.target or None, actor=ACTOR, failures=failures)
    if failures:
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        raise JobFailed(f"{failures[0]}{more}", transient=True)


def dead_tracking_poll(_session: Session, _job: ClaimedJob, _error: str) -> None:
    """Nothing to add: the dead job itself is what a person sees; the next poll is queued."""


def enqueue_tracking_poll(session: Session, *, now: datetime, carrier: str = "") -> int:
    """Queue a tracking poll unless one is queued or running already; the job's id."""
    waiting = session.scalar(
        select(OutboundJob.id).where(
            OutboundJob.kind == "tracking_poll",
            OutboundJob.target == carrier,
            OutboundJob.status.in_(("pending", "running")),
        )
    )
    if waiting is not None:
        return waiting
    return enqueue(session, "tracking_poll", now=now, target=carrier).id


def run_stock_publish(sessions: sessionmaker[Session], job: ClaimedJob) -> None:
    """Send the product's available stock as the ledger has it now."""
    product_id = int(job.payload.get("product_id", 0))
    channel_id = int(job.payload.get("channel_id", 0))
    with sessions() as session:
        figure = read_figure(session, product_id, channel_id)
    if figure is None:
        return  # the product, the channel or its listing is gone: nothing to tell
    figure = replace(figure, job_id=job.id)
    try:
        with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
            result = send_figure(client, figure)
    except PublishError as exc:
        where = f"stock of {figure.sku} to {figure.channel_name}"
        raise JobFailed(
            f"{where}: {exc}", transient=exc.transient, summary=f"{where}: {exc.summary}"
        ) from exc
    with sessions() as session, session.begin():
        row = session.get(OutboundJob, job.id)
        if row is not None:
            sent = {"quantity": figure.quantity, "version": figure.version, **result}
            row.payload = {**row.payload, "sku": figure.sku, "sent": sent}


def dead_stock_publish(_session: Session, _job: ClaimedJob, _error: str) -> None:
    """Nothing to add: the dead job (`jobs list --dead`) says which SKU, shop and why; the
    next movement of the product queues a new job, and `jobs retry` sends the figure now."""


def run_refund(sessions: sessionmaker[Session], job: ClaimedJob) -> None:
    """Refund the return's units through the shop (once)."""
    refund = prepare_refund(sessions, int(job.payload.get("return_id", 0)))
    if refund is None:
        return  # refunded already (perhaps by the run that crashed), or nothing to refund
    try:
        with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
            result = attempt_refund(refund, client)
    except RefundError as exc:
        raise JobFailed(str(exc), transient=exc.transient, summary=exc.summary) from exc
    with sessions() as session, session.begin():
        record_refund(session, refund, result, tries=job.attempts, actor=ACTOR)


def dead_refund(session: Session, job: ClaimedJob, error: str) -> None:
    """A `refund_failed` exception on the order: a person refunds it in the shop."""
    record_refund_failed(
        session, int(job.payload.get("return_id", 0)), error, tries=job.attempts, actor=ACTOR
    )


def run_return_dispose(sessions: sessionmaker[Session], job: ClaimedJob) -> None:
    """Send the dispositions Shopify does not have yet."""
    with sessions() as session:
        other = session.scalar(
            select(OutboundJob.id).where(
                OutboundJob.kind == "return_dispose",
                OutboundJob.order_id == job.order_id,
                OutboundJob.status == "running",
                OutboundJob.id != job.id,
            )
        )
    if other is not None:  # both would read the same dispositions and send the same units
        raise JobFailed(f"job {other} is disposing this order's return now", transient=True)
    disposal = prepare_disposal(sessions, int(job.payload.get("return_id", 0)))
    if disposal is None:
        return  # the return is gone, or Shopify does not know it
    try:
        with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
            result = attempt_dispose(disposal, client)
    except DisposeError as exc:
        where = f"dispositions of {disposal.code} to {disposal.channel_name}"
        raise JobFailed(
            f"{where}: {exc}", transient=exc.transient, summary=f"{where}: {exc.summary}"
        ) from exc
    with sessions() as session, session.begin():
        record_disposed(session, disposal, result, tries=job.attempts, actor=ACTOR)


def dead_return_dispose(session: Session, job: ClaimedJob, error: str) -> None:
    """A `dispose_failed` exception on the order: a person disposes it in Shopify."""
    record_dispose_failed(
        session, int(job.payload.get("return_id", 0)), error, tries=job.attempts, actor=ACTOR
    )


KINDS: dict[str, JobKind] = {
    "publish": JobKind(run_publish, dead_publish),
    "label_void": JobKind(run_label_void, dead_label_void),
    "tracking_poll": JobKind(run_tracking_poll, dead_tracking_poll),
    "stock_publish": JobKind(run_stock_publish, dead_stock_publish),
    "refund": JobKind(run_refund, dead_refund),
    "return_dispose": JobKind(run_return_dispose, dead_return_dispose),
}
