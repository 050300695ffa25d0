"""In-memory stand-ins for the station runtime's ports (store, claims, label printing)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from app.packing.events import PackEvent
from app.packing.model import DictCatalog, LineView, OrderView, ProductRef
from app.packing.weight_rules import LearnedWeight
from app.station.ports import (
    BatchOrderRow,
    BatchRow,
    ClaimRefused,
    LeaseRecord,
    OrderRecord,
    UserRecord,
)

STATION_ID = 7


def lease(epoch: int = 3, station_id: int = STATION_ID) -> LeaseRecord:
    return LeaseRecord(station_id, "bench-7", epoch, datetime.now(UTC) + timedelta(minutes=30))


MUG = ProductRef(1, "MUG-BLU-350", "Blue mug", 350, gtins=("4006381333931",))
PLATE = ProductRef(2, "PLT-WHT-27", "White plate", 600, gtins=("5012345678900",))
PHONES = ProductRef(
    3, "HDP-BT-01", "Headphones", 250, serial_required=True, gtins=("4012345678901",)
)


def order(
    order_id: int = 1,
    *lines: tuple[ProductRef, int],
    status: str = "allocated",
    number: str | None = None,
) -> OrderRecord:
    views = tuple(
        LineView(
            line_id=order_id * 100 + i,
            sku=p.sku,
            name=p.name,
            quantity=q,
            product_id=p.product_id,
            serial_required=p.serial_required,
            weight_grams=p.weight_grams,
            gtins=p.gtins,
        )
        for i, (p, q) in enumerate(lines, start=1)
    )
    view = OrderView(
        id=order_id,
        number=number or f"ORD-{100000 + order_id}",
        status=status,
        lines=views,
        carrier="house",
        service="standard",
        channel="shopify",
    )
    return OrderRecord(view=view, lease=None, country="DE")


@dataclass
class FakeStore:
    """A store whose `record` can be made to fail, to prove nothing shows green unsaved."""

    orders: dict[int, OrderRecord] = field(default_factory=dict)
    users: dict[str, UserRecord] = field(default_factory=dict)
    recorded: list[PackEvent] = field(default_factory=list)
    fail_next_record: bool = False
    station_id: int = STATION_ID
    catalog: DictCatalog = field(default_factory=lambda: DictCatalog([MUG, PLATE, PHONES]))

    def user_by_badge(self, badge: str) -> UserRecord | None:
        return self.users.get(badge)

    def order_by_code(self, code: str) -> OrderRecord | None:
        for rec in self.orders.values():
            if code in (rec.view.number, rec.view.tote):
                return rec
        return None

    def order_by_id(self, order_id: int) -> OrderRecord | None:
        return self.orders.get(order_id)

    batch_rows: list[BatchRow] = field(default_factory=list)

    def batches(self) -> Sequence[BatchRow]:
        return self.batch_rows

    def batch_orders(self, batch_id: int) -> Sequence[BatchOrderRow]:
        return [
            BatchOrderRow(o.view.id, o.view.number, o.view.tote, o.view.status, o.view.total_units)
            for o in sorted(self.orders.values(), key=lambda o: o.view.id)
            if o.batch_id == batch_id
        ]

    def record(self, events: Sequence[PackEvent]) -> None:
        if self.fail_next_record:
            self.fail_next_record = False
            raise OSError("disk full")
        self.recorded.extend(events)

    def order_events(self, order_id: int) -> Sequence[PackEvent]:
        return [e for e in self.recorded if e.order_id == order_id]

    def queued_events(self, order_id: int, after: int) -> Sequence[PackEvent]:
        """Mutation ids are positions in `recorded`, from 1."""
        return [e for i, e in enumerate(self.recorded, 1) if i > after and e.order_id == order_id]

    def queue_depth(self) -> int:
        return len(self.recorded)

    profiles: dict[str, LearnedWeight] = field(default_factory=dict)

    def weight_profile(self, contents_key: str) -> LearnedWeight | None:
        return self.profiles.get(contents_key)


@dataclass
class FakeClaims:
    store: FakeStore
    refuse: dict[int, str] = field(default_factory=dict)
    offline: bool = False
    calls: list[int] = field(default_factory=list)
    batch_calls: list[int] = field(default_factory=list)

    def claim_order(self, order_id: int) -> LeaseRecord:
        from app.station.ports import Offline

        self.calls.append(order_id)
        if self.offline:
            raise Offline("no route to host")
        if order_id in self.refuse:
            raise ClaimRefused(self.refuse[order_id])
        granted = lease()
        self.store.orders[order_id] = replace(self.store.orders[order_id], lease=granted)
        return granted

    def claim_batch(self, batch_id: int) -> int:
        self.batch_calls.append(batch_id)
        if self.offline:
            from app.station.ports import Offline

            raise Offline("no route to host")
        granted = 0
        for order_id, rec in list(self.store.orders.items()):
            if rec.batch_id == batch_id and rec.lease is None:
                self.store.orders[order_id] = replace(rec, lease=lease())
                granted += 1
        return granted


@dataclass
class FakeLabels:
    jobs: list[tuple[int, int, int]] = field(default_factory=list)  # order, box, grams
    reprints: list[tuple[int, int, int, str]] = field(default_factory=list)

    awaiting: bool = False  # the carrier label for the weight has not come yet
    waiting_boxes: set[int] = field(default_factory=set)  # boxes whose label has not come yet
    counts: list[int] = field(default_factory=list)  # the box count each label was asked for
    # Jobs that ended before the runtime asked (printed before a restart); the others end
    # through the runtime's label_done, as the print worker reports.
    ended: dict[int, tuple[bool, str]] = field(default_factory=dict)
    job_ids: dict[tuple[int, int], int] = field(default_factory=dict)  # queued before a restart
    withdrawn: list[int] = field(default_factory=list)  # jobs of boxes weighed again

    def print_label(self, order: OrderRecord, box_no: int, box_count: int, grams: int) -> int:
        if (order.view.id, box_no) in self.job_ids:
            return self.job_ids[(order.view.id, box_no)]  # the queue's job from before
        if self.awaiting or box_no in self.waiting_boxes:
            from app.station.ports import AwaitingLabel

            raise AwaitingLabel(f"Box {box_no} waits for its label from the service.")
        self.jobs.append((order.view.id, box_no, grams))
        self.counts.append(box_count)
        return len(self.jobs) + len(self.reprints)

    def label_for_job(self, job_id: int) -> tuple[int | None, str | None]:
        return (None, None)

    def job_outcome(self, job_id: int) -> tuple[bool, str] | None:
        return self.ended.get(job_id)

    def withdraw(self, job_id: int) -> bool:
        self.withdrawn.append(job_id)
        return job_id not in self.ended

    def reprint_label(self, order: OrderRecord, box_no: int, by_user: int, reason: str) -> int:
        self.reprints.append((order.view.id, box_no, by_user, reason))
        return len(self.jobs) + len(self.reprints)


def run_now(fn: Callable[[], object], done: Callable[[object], None]) -> None:
    """A background runner that runs synchronously (Picard's FakeThreadPool idea)."""
    try:
        result: object = fn()
    except Exception as exc:
        result = exc
    done(result)
