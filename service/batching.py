"""Batches: confirmed orders grouped by rules, then assigned to a packing station.

A batch holds orders of one carrier service and one cut-off, single-item and multi-item
orders apart (a single-item batch packs much faster), at most `max_orders` each, most
urgent first. Batching moves each order `confirmed -> allocated` through the lifecycle.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.changes import mark_changed
from service.db import utcnow
from service.errors import Conflict, NotFound, ValidationFailed
from service.lifecycle import OrderStatus, record_event, transition
from service.models import Batch, Order, Station
from service.sync_server.visibility import mark_batch_reassigned

MAX_ORDERS_LIMIT = 500
# Any constant works: it only has to be the same for every process batching orders.
_PG_BATCHING_LOCK = 0x50424254  # "PBBT"


class ItemMix(StrEnum):
    """Which orders a rule takes by their number of items."""

    SINGLE = "single"  # exactly one unit of one SKU
    MULTI = "multi"
    ANY = "any"  # both, but never mixed in one batch


@dataclass(frozen=True)
class BatchRule:
    """Which confirmed, unbatched orders to batch, and how many per batch."""

    carrier: str | None = None
    service: str | None = None
    cutoff_before: datetime | None = None  # only orders due before this (no cut-off: never)
    min_priority: int | None = None
    items: ItemMix = ItemMix.ANY
    max_orders: int = 25
    limit: int | None = None  # at most this many orders in all (None: every match)

    def check(self) -> None:
        """Raise ValidationFailed for a rule that cannot be applied."""
        if not 1 <= self.max_orders <= MAX_ORDERS_LIMIT:
            raise ValidationFailed(
                f"max_orders must be between 1 and {MAX_ORDERS_LIMIT}.", field="max_orders"
            )
        if self.limit is not None and self.limit < 1:
            raise ValidationFailed("limit must be at least 1.", field="limit")
        if self.cutoff_before is not None and self.cutoff_before.tzinfo is None:
            raise ValidationFailed("cutoff_before needs a time zone.", field="cutoff_before")

    def as_json(self) -> dict[str, Any]:
        """The rule as stored on the batch (what made it)."""
        data = asdict(self)
        data["items"] = self.items.value
        data["cutoff_before"] = self.cutoff_before.isoformat() if self.cutoff_before else None
        return data


def is_single_item(order: Order) -> bool:
    """One line with quantity one: the packer scans one item and closes."""
    return len(order.lines) == 1 and order.lines[0].quantity == 1


def create_batches(
    session: Session, rule: BatchRule, *, actor: str, now: datetime | None = None
) -> list[Batch]:
    """Batch every confirmed, unbatched order the rule matches; [] when none match."""
    rule.check()
    now = now or utcnow()
    _serialise_batching(session)
    orders = _candidates(session, rule)
    groups: dict[tuple[str, str, datetime | None, bool], list[Order]] = defaultdict(list)
    for order in orders:
        single = is_single_item(order)
        if rule.items is ItemMix.SINGLE and not single:
            continue
        if rule.items is ItemMix.MULTI and single:
            continue
        groups[(order.carrier, order.service, order.cutoff_at, single)].append(order)
    taken = 0
    batches: list[Batch] = []
    next_no = _next_code_number(session, now)
    for key in sorted(groups, key=lambda k: _group_urgency(k, groups[k])):
        members = groups[key]
        if rule.limit is not None:
            members = members[: max(rule.limit - taken, 0)]
        for start in range(0, len(members), rule.max_orders):
            chunk = members[start : start + rule.max_orders]
            batches.append(_make_batch(session, key, chunk, rule, actor, now, next_no))
            next_no += 1
            taken += len(chunk)
    return batches


def assign_batch(session: Session, batch_id: int, station_id: int, *, actor: str) -> Batch:
    """Give a batch to a station so it pulls the batch and its orders."""
    batch = session.get(Batch, batch_id, with_for_update=True)
    if batch is None:
        raise NotFound(f"No batch {batch_id}.")
    station = session.get(Station, station_id)
    if station is None:
        raise NotFound(f"No station {station_id}.", field="station_id")
    if batch.status == "done":
        raise Conflict(f"Batch {batch.code} is done; it cannot be assigned again.")
    previous = batch.station_id
    batch.station_id = station.id
    batch.status = "assigned"
    mark_changed(session, "batch", batch.id)
    if previous is not None and previous != station.id:
        # The old station must be told the batch and its orders left its view (tombstones).
        mark_batch_reassigned(session, batch.id, previous)
    for order in session.scalars(select(Order).where(Order.batch_id == batch.id)):
        record_event(
            session,
            order,
            "batch_assigned",
            actor=actor,
            payload={"batch": batch.code, "station": station.name, "previous": previous},
        )
        mark_changed(session, "order", order.id)
    return batch


def add_to_batch(session: Session, order: Order, batch_code: str, *, actor: str) -> Batch:
    """Put one confirmed, unbatched order (locked by the caller) into an open or assigned
    batch, as triage does for an order that missed its batch; the batch's station pulls it."""
    code = batch_code.strip()
    batch = session.scalar(select(Batch).where(Batch.code == code).with_for_update())
    if batch is None:
        raise NotFound(f"No batch {code!r}; pick one of the open batches.", field="batch")
    if batch.status == "done":
        raise Conflict(f"Batch {batch.code} is done; pick an open batch. Nothing was changed.")
    if order.batch_id is not None:
        current = session.get(Batch, order.batch_id)
        name = current.code if current is not None else str(order.batch_id)
        raise Conflict(f"Order {order.number} is already in batch {name}; nothing was changed.")
    if order.status != OrderStatus.CONFIRMED.value:
        raise Conflict(
            f"Order {order.number} is {order.status}: only a confirmed order joins a batch "
            "(release its hold first). Nothing was changed."
        )
    if batch.carrier and (order.carrier, order.service) != (batch.carrier, batch.service):
        raise Conflict(
            f"Batch {batch.code} ships {batch.carrier} {batch.service}; order {order.number} "
            f"ships {order.carrier or 'no carrier'} {order.service or ''}. Pick a batch of its "
            "carrier. Nothing was changed."
        )
    transition(session, order, OrderStatus.ALLOCATED, actor=actor, payload={"batch": batch.code})
    order.batch_id = batch.id
    mark_changed(session, "batch", batch.id)
    mark_changed(session, "order", order.id)
    return batch


def open_batch_codes(session: Session) -> list[str]:
    """Codes of the batches an order can still join, newest first."""
    return list(
        session.scalars(select(Batch.code).where(Batch.status != "done").order_by(Batch.id.desc()))
    )


def _candidates(session: Session, rule: BatchRule) -> list[Order]:
    query = select(Order).where(
        Order.status == OrderStatus.CONFIRMED.value, Order.batch_id.is_(None)
    )
    if rule.carrier is not None:
        query = query.where(Order.carrier == rule.carrier)
    if rule.service is not None:
        query = query.where(Order.service == rule.service)
    if rule.cutoff_before is not None:
        query = query.where(Order.cutoff_at < rule.cutoff_before)
    if rule.min_priority is not None:
        query = query.where(Order.priority >= rule.min_priority)
    # Most urgent first; NULL cut-offs last on both databases.
    query = query.order_by(
        Order.priority.desc(),
        Order.cutoff_at.is_(None),
        Order.cutoff_at,
        Order.created_at,
        Order.id,
    )
    # Orders another transaction is changing are left for the next run rather than waited on.
    return list(session.scalars(query.with_for_update(skip_locked=True, of=Order)))


def _group_urgency(
    key: tuple[str, str, datetime | None, bool], members: list[Order]
) -> tuple[int, bool, datetime | None, str, str, bool]:
    carrier, service, cutoff, single = key
    top = max(o.priority for o in members)
    return (-top, cutoff is None, cutoff, carrier, service, not single)


def _make_batch(
    session: Session,
    key: tuple[str, str, datetime | None, bool],
    orders: list[Order],
    rule: BatchRule,
    actor: str,
    now: datetime,
    number: int,
) -> Batch:
    carrier, service, cutoff, single = key
    code = f"B-{now:%Y%m%d}-{number:03d}"
    label = [carrier or "no carrier", service or "no service"]
    label.append("single-item" if single else "multi-item")
    if cutoff is not None:
        label.append(f"cut-off {cutoff:%Y-%m-%d %H:%M} UTC")
    batch = Batch(
        code=code,
        name=" · ".join(label),
        status="open",
        carrier=carrier,
        service=service,
        cutoff_at=cutoff,
        priority=max(o.priority for o in orders),
        rule={**rule.as_json(), "single_item": single},
        created_by=actor,
        created_at=now,
    )
    session.add(batch)
    session.flush()
    for order in orders:
        transition(session, order, OrderStatus.ALLOCATED, actor=actor, payload={"batch": code})
        order.batch_id = batch.id
    mark_changed(session, "batch", batch.id)
    return batch


def _next_code_number(session: Session, now: datetime) -> int:
    prefix = f"B-{now:%Y%m%d}-"
    last = session.scalar(select(func.max(Batch.code)).where(Batch.code.like(prefix + "%")))
    if last is None:
        return 1
    tail = last.removeprefix(prefix)
    return int(tail) + 1 if tail.isdigit() else 1


def _serialise_batching(session: Session) -> None:
    # Two operators batching at once would pick the same next code. SQLite already runs one
    # writer at a time (BEGIN IMMEDIATE); PostgreSQL takes a lock held until commit.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_PG_BATCHING_LOCK)))
