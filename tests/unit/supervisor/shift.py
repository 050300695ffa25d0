"""A scripted shift with known answers, for the figures tests and the API tests.

Now is 12:00; the shift began at 08:00. Two stations, two packers, two batches:

- batch A at bench-1 (cut-off 13:00): 10 one-item orders; Alice packed 4 of them at 11:10,
  11:20, 11:50, 11:55 (scan 2 minutes before each; one wrong item scanned at 11:07), one is
  on hold, five wait. Rate 15 min: 2 -> 8/h; remaining 6 -> finish 12:45, in time.
- batch B at bench-2 (cut-off 12:30): 7 orders of 3 lines / 5 items, one cancelled; Bob
  packed one at 11:30 (5 scans 11:20..11:28). Nothing in 15 min, 1 in 60 -> 1/h; remaining
  5 -> finish 17:00, misses the cut-off.

Open exceptions: Alice's hold, a granted weight override (for review), a paid order stuck
for 30 hours (from service.reconcile) and one unresolved rejected push of bench-2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from service.models import Batch, Order, OrderEvent, OrderException, StationMutation, User
from service.reconcile import reconcile
from service.security import hash_pin
from sync import clock
from tests.support import factories

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SHIFT_START = NOW - timedelta(hours=4)
SAM_PIN = "246810"
SAM_PIN_HASH = hash_pin(SAM_PIN)


def m(minutes: float) -> datetime:
    """`minutes` before NOW."""
    return NOW - timedelta(minutes=minutes)


@dataclass
class Shift:
    """Ids of what the script created."""

    stations: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    batches: dict[str, int] = field(default_factory=dict)
    orders: dict[str, list[int]] = field(default_factory=dict)
    held_order: int = 0
    hold_exception: int = 0
    stuck_order: int = 0


def _event(
    s: Session, order_id: int, type_: str, at: datetime, station: int, packer: int, **p: Any
) -> None:
    s.add(
        OrderEvent(
            order_id=order_id,
            type=type_,
            payload={**p, "packer_id": packer},
            actor=f"station:{station}",
            station_id=station,
            at=at,
        )
    )


def build(s: Session, now: datetime = NOW) -> Shift:
    """Write the scripted shift as of `now` (the service clock stands there meanwhile)."""
    with clock.frozen(now):
        return _build(s, now)


def _build(s: Session, now: datetime) -> Shift:
    shift = Shift()

    def m(minutes: float) -> datetime:
        return now - timedelta(minutes=minutes)

    b1 = factories.station(s, "bench-1")
    b1.last_seen_at = now - timedelta(minutes=1)
    b1.last_sync_at = now - timedelta(minutes=1)
    b1.heartbeat = {"queue_depth": 3, "devices": {"printer": "ready", "scale": "stable"}}
    b2 = factories.station(s, "bench-2")
    b2.last_seen_at = now - timedelta(minutes=5)
    b2.heartbeat = {"queue_depth": 12, "devices": {"printer": "paper out"}}
    shift.stations = {"bench-1": b1.id, "bench-2": b2.id}
    users = [
        User(name="Alice", role="packer", badge="P-ALICE"),
        User(name="Bob", role="packer", badge="P-BOB"),
        User(name="Sam", role="supervisor", badge="S-SAM", pin_hash=SAM_PIN_HASH),
        User(name="Old Sue", role="supervisor", badge="S-SUE", pin_hash=SAM_PIN_HASH, active=False),
    ]
    s.add_all(users)
    s.flush()
    alice, bob, sam, sue = (u.id for u in users)
    shift.users = {"alice": alice, "bob": bob, "sam": sam, "sue": sue}

    batch_a = Batch(
        code="B-A",
        name="A",
        status="assigned",
        station_id=b1.id,
        cutoff_at=now + timedelta(hours=1),
    )
    batch_b = Batch(
        code="B-B",
        name="B",
        status="assigned",
        station_id=b2.id,
        cutoff_at=now + timedelta(minutes=30),
    )
    s.add_all([batch_a, batch_b])
    s.flush()
    shift.batches = {"A": batch_a.id, "B": batch_b.id}

    a_orders: list[Order] = []
    for i in range(10):
        status = "packed" if i < 4 else ("on_hold" if i == 4 else "allocated")
        o = factories.order(s, status=status, lines=[("MUG", 1)])
        o.batch_id = batch_a.id
        a_orders.append(o)
    for packed_at, o in zip((50, 40, 10, 5), a_orders[:4], strict=True):
        _event(s, o.id, "scan_recorded", m(packed_at + 2), b1.id, alice, outcome="accepted")
        _event(s, o.id, "order_packed", m(packed_at), b1.id, alice, boxes=1)
    _event(s, a_orders[0].id, "scan_recorded", m(53), b1.id, alice, outcome="not_in_order")
    _event(s, a_orders[1].id, "override_granted", m(41), b1.id, alice, kind="weight")
    held = a_orders[4]
    held.held_from = "allocated"
    held.hold_reasons = [{"code": "damaged_item", "message": "mug broken"}]
    exc = OrderException(
        order_id=held.id,
        kind="hold",
        code="damaged_item",
        message="mug broken",
        details={"station_id": b1.id},
        created_at=m(45),
    )
    s.add(exc)
    s.add(
        OrderException(
            order_id=a_orders[1].id,
            kind="weight",
            code="weight_override",
            message="Weight override by Sam",
            details={"station_id": b1.id},
            created_at=m(41),
            resolved_at=m(41),
            resolved_by=f"user:{sam}",
            resolution="extra packaging",
        )
    )
    s.add(
        OrderException(
            order_id=a_orders[5].id,
            kind="stuck",
            code="paid_not_packed",
            message="old news",
            created_at=m(300),
            resolved_at=m(200),
            resolved_by="reconcile",
        )
    )
    b_orders: list[Order] = []
    for i in range(7):
        status = "packed" if i == 0 else ("cancelled" if i == 1 else "allocated")
        o = factories.order(s, status=status, lines=[("A", 2), ("B", 2), ("C", 1)])
        o.batch_id = batch_b.id
        b_orders.append(o)
    for k in range(5):
        _event(s, b_orders[0].id, "scan_recorded", m(40 - 2 * k), b2.id, bob, outcome="accepted")
    _event(s, b_orders[0].id, "order_packed", m(30), b2.id, bob, boxes=1)
    s.add_all(
        [
            StationMutation(
                station_id=b2.id,
                mutation_id=7,
                type="order_packed",
                order_id=b_orders[2].id,
                status="rejected",
                reason="claimed_by_other",
                message="claimed by bench-1",
                at=m(20),
                applied_at=m(20),
            ),
            StationMutation(
                station_id=b2.id,
                mutation_id=8,
                type="scan_recorded",
                order_id=b_orders[3].id,
                status="rejected",
                reason="no_lease",
                message="not claimed",
                at=m(19),
                applied_at=m(19),
            ),
            OrderException(
                order_id=b_orders[3].id,
                kind="rejected",
                code=f"mutation:{b2.id}:8",
                message="not claimed",
                created_at=m(19),
                resolved_at=m(18),
                resolved_by=f"user:{sam}",
            ),
        ]
    )
    # Reconciliation finds a paid order nobody batched for 30 hours: a "stuck" exception.
    shift.stuck_order = factories.order(s, status="confirmed", age_hours=30).id
    s.flush()
    reconcile(s, now=now)
    shift.orders = {"A": [o.id for o in a_orders], "B": [o.id for o in b_orders]}
    shift.held_order = held.id
    shift.hold_exception = exc.id
    return shift
