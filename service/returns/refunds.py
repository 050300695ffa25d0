"""Refunding a closed return through the order's WooCommerce shop (the `refund` job).

When a return of a WooCommerce order closes, every unit booked in has its disposition; the
units that came back (restock, B-grade, write-off, except those written off as not ours) are
refunded with one `POST /wp-json/wc/v3/orders/<id>/refunds`:

- `amount`: the units' price plus their share of the line's tax (what the customer paid);
- `line_items`: `{id, quantity, refund_total}` per order line (the shop's line item id);
- `reason`: "Return RMA-000012 received at the warehouse" and `meta_data`
  `_packbench_return = RMA-000012`, by which the refund is recognised later;
- `api_refund`: true, so the payment gateway pays the customer back (channel setting
  `refund_via_gateway: false` records a manual refund instead);
- `api_restock`: false: the shop's stock is set by the stock publication from the warehouse
  ledger, which already counted the restocked units; a restock by the shop would count twice.

Idempotent: the order's refunds are read first; one carrying the return's code means the shop
refunded already (a retry after a crash between the shop's answer and our commit), and that
refund is recorded instead of making a second. The outcome is an order event
(`return_refunded`); a refund that fails for good opens a `refund_failed` exception.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.jobs.queue import enqueue
from service.lifecycle import record_event
from service.models import Channel, Order, OrderEvent, Return
from service.returns.job_exceptions import record_job_failed, resolve_job_exceptions
from service.returns.states import Disposition, ReturnStatus
from service.shipping.publish import PublishError, _check
from service.stock.shops import woo_auth, woo_base
from sync.protocol import ReturnReason

log = logging.getLogger(__name__)

META_KEY = "_packbench_return"
REFUND_KINDS = frozenset({"woocommerce"})
_CENT = Decimal("0.01")


class RefundError(PublishError):
    """The shop did not refund; `transient` says whether to retry."""


@dataclass(frozen=True)
class Refund:
    """What the shop is asked to refund for one return (read in a short transaction)."""

    return_id: int
    code: str
    order_id: int
    channel_order_id: str
    channel_name: str
    settings: dict[str, Any]
    amount: Decimal
    lines: list[dict[str, Any]]

    def body(self) -> dict[str, Any]:
        """The POST body WooCommerce takes."""
        return {
            "amount": f"{self.amount:.2f}",
            "reason": f"Return {self.code} received at the warehouse",
            "line_items": self.lines,
            "meta_data": [{"key": META_KEY, "value": self.code}],
            "api_refund": bool(self.settings.get("refund_via_gateway", True)),
            "api_restock": False,
        }


def _refundable(rma: Return, order: Order) -> tuple[Decimal, list[dict[str, Any]]]:
    units: Counter[int] = Counter(
        u.order_line_id
        for u in rma.units
        if u.disposition != Disposition.MISSING.value
        and u.reason_code != ReturnReason.NOT_OURS.value
    )
    amount = Decimal("0")
    lines: list[dict[str, Any]] = []
    for line in order.lines:
        n = units.get(line.id, 0)
        if n <= 0:
            continue
        net = (Decimal(line.unit_price) * n).quantize(_CENT, ROUND_HALF_UP)
        tax = (Decimal(line.tax) * n / max(line.quantity, 1)).quantize(_CENT, ROUND_HALF_UP)
        amount += net + tax
        item: dict[str, Any] = {"quantity": n, "refund_total": f"{net:.2f}"}
        item["id"] = int(line.channel_line_id) if line.channel_line_id.isdigit() else 0
        lines.append(item)
    return amount, lines


def _refunded_already(session: Session, order_id: int, code: str) -> bool:
    events = session.scalars(
        select(OrderEvent.payload).where(
            OrderEvent.order_id == order_id, OrderEvent.type == "return_refunded"
        )
    )
    return any((p or {}).get("return") == code for p in events)


def refund_for(session: Session, return_id: int) -> Refund | None:
    """The refund a closed return asks for, or None: not a refunding shop, nothing came back,
    or it was refunded already."""
    rma = session.get(Return, return_id)
    if rma is None or rma.status != ReturnStatus.CLOSED.value:
        return None
    order = session.get_one(Order, rma.order_id)
    channel: Channel = order.channel
    if channel.kind not in REFUND_KINDS or _refunded_already(session, order.id, rma.code):
        return None
    amount, lines = _refundable(rma, order)
    if not lines:
        return None
    return Refund(
        rma.id,
        rma.code,
        order.id,
        order.channel_order_id,
        channel.name,
        dict(channel.settings or {}),
        amount,
        lines,
    )


def prepare_refund(sessions: sessionmaker[Session], return_id: int) -> Refund | None:
    """`refund_for` in a short read transaction of its own."""
    with sessions() as session:
        return refund_for(session, return_id)


def _ours(found: dict[str, Any], code: str) -> bool:
    meta = found.get("meta_data") or []
    for m in meta:
        if isinstance(m, dict) and m.get("key") == META_KEY and m.get("value") == code:
            return True
    return code in str(found.get("reason") or "")


def attempt_refund(refund: Refund, client: httpx.Client) -> dict[str, Any]:
    """One try: the shop's refund of this return (found, or made now). RefundError if not."""
    if any(li["id"] == 0 for li in refund.lines):
        raise RefundError(
            f"order {refund.channel_order_id} has lines without the shop's line item id",
            transient=False,
        )
    try:
        base = woo_base(refund.settings, refund.channel_name)
        auth = woo_auth(refund.channel_name)
        api = f"{base}/wp-json/wc/v3/orders/{refund.channel_order_id}/refunds"
        existing = _check(client.get(api, params={"per_page": 100}, auth=auth)).json()
        for found in existing if isinstance(existing, list) else []:
            if isinstance(found, dict) and _ours(found, refund.code):
                return {"refund_id": found.get("id"), "already_refunded": True}
        made = _check(client.post(api, json=refund.body(), auth=auth)).json()
        return {"refund_id": made.get("id"), "refunded_payment": made.get("refunded_payment")}
    except PublishError as exc:
        raise RefundError(exc.summary, transient=exc.transient) from exc
    except httpx.TimeoutException as exc:
        raise RefundError("the shop did not answer in time", transient=True) from exc
    except httpx.HTTPError as exc:
        raise RefundError(f"cannot reach the shop ({type(exc).__name__})", transient=True) from exc


def record_refund(
    session: Session, refund: Refund, result: dict[str, Any], *, tries: int, actor: str
) -> None:
    """The `return_refunded` event (the audit log); an open `refund_failed` is resolved."""
    order = session.get_one(Order, refund.order_id)
    record_event(
        session,
        order,
        "return_refunded",
        actor=actor,
        payload={
            "return": refund.code,
            "channel": refund.channel_name,
            "amount": f"{refund.amount:.2f}",
            "lines": refund.lines,
            "attempts": tries,
            **result,
        },
    )
    resolve_job_exceptions(
        session,
        refund.order_id,
        "refund_failed",
        refund.code,
        actor=actor,
        resolution="The shop refunded on a later attempt.",
    )


def record_refund_failed(
    session: Session, return_id: int, error: str, *, tries: int, actor: str
) -> None:
    """The refund failed for good: an event and a `refund_failed` exception a person sees."""
    record_job_failed(
        session,
        return_id,
        error,
        tries=tries,
        actor=actor,
        what="refund",
        event="return_refund_failed",
        kind="refund",
        code="refund_failed",
        params=lambda order, rma: {
            "shop": order.channel.name,
            "rma": rma.code,
            "error": error[:200],
        },
    )


def enqueue_refund(session: Session, order: Order, rma: Return, *, now: datetime) -> int | None:
    """A durable `refund` job for a closed return of a refunding shop (in the closing
    transaction); its id, or None if the shop does not take refunds from us."""
    if order.channel.kind not in REFUND_KINDS:
        return None
    job = enqueue(
        session,
        "refund",
        now=now,
        dedupe_key=f"refund:{rma.id}",
        order_id=order.id,
        target=order.channel.name,
        payload={"return_id": rma.id},
    )
    return job.id
