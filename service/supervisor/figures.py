"""Shift figures for supervisors, aggregated in SQL (GROUP BY over time-filtered events).

Definitions (all over the shift window `[shift_start, now]` unless said otherwise):

- **Batch progress**: `total` counts the batch's orders except cancelled ones, `packed` those
  packed or later, `held` those on hold; `remaining = total - packed` (a held order still has
  to be packed before the cut-off). `rate_15m` / `rate_60m` are orders of the batch packed
  (`order_packed` events) in the last 15 / 60 minutes, per hour. The projected finish uses
  the 15-minute rate, or the 60-minute rate when nothing was packed in the last 15 minutes:
  `now + remaining / rate`. A batch *will miss* its cut-off when the projection is after it,
  or when orders remain and nothing was packed for an hour, or the cut-off already passed.
- **Packer / station throughput**: orders packed (`order_packed`), their items (sum of line
  quantities) and lines, per *active hour*: from the first to the last event of that packer
  (station) in the window, at least 15 minutes so one quick order is not an absurd rate.
- **Complexity-adjusted rate**: an order's raw work units are
  `BASE + PER_LINE * lines + PER_EXTRA_ITEM * (items - lines)` (0.5 + 0.5·lines +
  0.25·extra items; a one-line, one-item order is exactly 1.0 raw unit). Raw units are then
  divided by the mean raw units of every order packed in the window (all packers), so an
  average order of this shift counts 1 and the adjusted rates of all packers add up to the
  same number of orders. A packer on big multi-line orders is then compared fairly with one
  on single-item orders.
- **Accuracy**: `1 - rejected scans / scans`, where a scan is a `scan_recorded` event and a
  rejected scan one whose outcome is not `accepted`.
- **Time per order**: mean seconds from an order's first `scan_recorded` to its
  `order_packed`, over the orders packed in the window.
- **Overrides**: `override_granted` events (a supervisor let something through).
- **Station online**: its last request (heartbeat, sync) less than 2 minutes ago.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from service.lifecycle import OrderStatus
from service.models import (
    Batch,
    Order,
    OrderEvent,
    OrderException,
    OrderLine,
    Station,
    StationMutation,
    User,
)
from service.supervisor.schemas import (
    BatchFigures,
    ExceptionItem,
    Overview,
    StationFigures,
    ThroughputPoint,
    WorkerFigures,
)

BASE = 0.5
PER_LINE = 0.5
PER_EXTRA_ITEM = 0.25
ONLINE_WITHIN = timedelta(minutes=2)
MIN_ACTIVE = timedelta(minutes=15)
SLOT = timedelta(minutes=15)
EXCEPTION_LIMIT = 200

PACKED_OR_LATER = (
    OrderStatus.PACKED.value,
    OrderStatus.SHIPPED.value,
    OrderStatus.DELIVERED.value,
    OrderStatus.COMPLETED.value,
    OrderStatus.RETURNED.value,
)
_ACTIVITY = ("scan_recorded", "weight_recorded", "parcel_closed", "order_packed")


def raw_units(lines: int, items: int) -> float:
    """An order's raw work units before calibration (see the module docstring)."""
    return BASE + PER_LINE * lines + PER_EXTRA_ITEM * (items - lines)


def projected_finish(
    remaining: int, rate_15m: float, rate_60m: float, cutoff: datetime | None, now: datetime
) -> tuple[datetime | None, bool]:
    """(projected finish, will miss the cut-off) for a batch at the current pace."""
    if remaining <= 0:
        return None, False
    rate = rate_15m if rate_15m > 0 else rate_60m
    if rate <= 0:
        return None, cutoff is not None
    finish = now + timedelta(hours=remaining / rate)
    return finish, cutoff is not None and (finish > cutoff or now > cutoff)


def _epoch(dialect: str, col: Any) -> ColumnElement[float]:
    """Seconds since 1970 of a timestamp column, on either database."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", col), Float)
    return (func.julianday(col) - 2440587.5) * 86400.0


def _slot(dialect: str, col: Any, start: datetime) -> ColumnElement[int]:
    """The 15-minute slot number of a timestamp, counted from `start`."""
    # julianday() is a float of days: half a millisecond keeps 11:30:00 out of the 11:15 slot.
    seconds = (_epoch(dialect, col) - start.timestamp() + 0.0005) / SLOT.total_seconds()
    if dialect == "postgresql":
        return cast(func.floor(seconds), Integer)
    return cast(seconds, Integer)  # SQLite truncates toward zero; seconds >= 0 here


@dataclass
class _Tally:
    """Aggregated rows of one packer or station, merged from (station, packer) groups."""

    orders: int = 0
    items: int = 0
    lines: int = 0
    units: float = 0.0
    order_seconds: float = 0.0
    timed_orders: int = 0
    scans: int = 0
    rejected: int = 0
    overrides: int = 0
    first: datetime | None = None
    last: datetime | None = None

    def seen(self, first: datetime | None, last: datetime | None) -> None:
        if first is not None:
            self.first = first if self.first is None else min(self.first, first)
        if last is not None:
            self.last = last if self.last is None else max(self.last, last)

    def figures(self, id_: int, name: str, mean_units: float) -> WorkerFigures:
        span = (self.last - self.first) if self.first and self.last else timedelta(0)
        hours = max(span, MIN_ACTIVE).total_seconds() / 3600
        return WorkerFigures(
            id=id_,
            name=name,
            orders=self.orders,
            items=self.items,
            lines=self.lines,
            active_hours=round(hours, 3),
            orders_per_hour=round(self.orders / hours, 2),
            items_per_hour=round(self.items / hours, 2),
            adjusted_per_hour=round(self.units / mean_units / hours, 2),
            scans=self.scans,
            rejected_scans=self.rejected,
            accuracy=round(1 - self.rejected / self.scans, 4) if self.scans else None,
            avg_seconds_per_order=(
                round(self.order_seconds / self.timed_orders, 1) if self.timed_orders else None
            ),
            overrides=self.overrides,
        )


def overview(session: Session, now: datetime, shift_start: datetime) -> Overview:
    """Every supervisor figure as of `now` for the shift that began at `shift_start`."""
    dialect = session.get_bind().dialect.name
    by_packer: dict[int, _Tally] = {}
    by_station: dict[int, _Tally] = {}
    mean_units = _packed_work(session, dialect, shift_start, now, by_packer, by_station)
    _activity(session, shift_start, now, by_packer, by_station)
    return Overview(
        as_of=now,
        shift_start=shift_start,
        complexity_mean_units=round(mean_units, 4),
        batches=batch_figures(session, now, shift_start),
        packers=_packers(session, by_packer, mean_units),
        stations=_stations(session, by_station, mean_units, now),
        exceptions=exception_items(session, shift_start),
        throughput=_throughput(session, dialect, shift_start, now),
    )


def batch_figures(session: Session, now: datetime, shift_start: datetime) -> list[BatchFigures]:
    """Open and assigned batches, plus those created during the shift; most urgent first."""
    batches = session.execute(
        select(Batch, Station.name)
        .outerjoin(Station, Station.id == Batch.station_id)
        .where(or_(Batch.status != "done", Batch.created_at >= shift_start))
        .order_by(Batch.cutoff_at.is_(None), Batch.cutoff_at, Batch.id)
        .limit(200)
    ).all()
    ids = [b.id for b, _ in batches]
    counts: dict[int, tuple[int, int, int]] = {}
    for batch_id, total, packed, held in session.execute(
        select(
            Order.batch_id,
            func.sum(case((Order.status != OrderStatus.CANCELLED.value, 1), else_=0)),
            func.sum(case((Order.status.in_(PACKED_OR_LATER), 1), else_=0)),
            func.sum(case((Order.status == OrderStatus.ON_HOLD.value, 1), else_=0)),
        )
        .where(Order.batch_id.in_(ids))
        .group_by(Order.batch_id)
    ).tuples():
        if batch_id is not None:
            counts[batch_id] = (int(total or 0), int(packed or 0), int(held or 0))
    q15, q60 = now - timedelta(minutes=15), now - timedelta(minutes=60)
    rates: dict[int, tuple[int, int]] = {}
    for batch_id, n15, n60 in session.execute(
        select(
            Order.batch_id,
            func.sum(case((OrderEvent.at >= q15, 1), else_=0)),
            func.count(),
        )
        .join(Order, Order.id == OrderEvent.order_id)
        .where(
            OrderEvent.type == "order_packed",
            OrderEvent.at >= q60,
            OrderEvent.at <= now,
            Order.batch_id.in_(ids),
        )
        .group_by(Order.batch_id)
    ).tuples():
        if batch_id is not None:
            rates[batch_id] = (int(n15 or 0), int(n60 or 0))
    out: list[BatchFigures] = []
    for batch, station_name in batches:
        total, packed, held = counts.get(batch.id, (0, 0, 0))
        n15, n60 = rates.get(batch.id, (0, 0))
        remaining = max(total - packed, 0)
        rate15, rate60 = n15 * 4.0, float(n60)
        finish, miss = projected_finish(remaining, rate15, rate60, batch.cutoff_at, now)
        out.append(
            BatchFigures(
                id=batch.id,
                code=batch.code,
                name=batch.name,
                status=batch.status,
                station_id=batch.station_id,
                station_name=station_name,
                cutoff_at=batch.cutoff_at,
                total=total,
                packed=packed,
                held=held,
                remaining=remaining,
                rate_15m=rate15,
                rate_60m=rate60,
                projected_finish=finish,
                will_miss_cutoff=miss,
            )
        )
    return out


def _packer_key() -> ColumnElement[int]:
    key: ColumnElement[int] = OrderEvent.payload["packer_id"].as_integer()
    return key


def _packed_work(
    session: Session,
    dialect: str,
    start: datetime,
    now: datetime,
    by_packer: dict[int, _Tally],
    by_station: dict[int, _Tally],
) -> float:
    """Orders, items, lines, work units and time per order, per (station, packer) group."""
    packed = (
        select(
            OrderEvent.order_id.label("order_id"),
            OrderEvent.station_id.label("station_id"),
            _packer_key().label("packer_id"),
            OrderEvent.at.label("at"),
        )
        .where(OrderEvent.type == "order_packed", OrderEvent.at >= start, OrderEvent.at <= now)
        .cte("packed")
    )
    sizes = (
        select(
            OrderLine.order_id.label("order_id"),
            func.count().label("n_lines"),
            func.sum(OrderLine.quantity).label("n_items"),
        )
        .where(OrderLine.order_id.in_(select(packed.c.order_id)))
        .group_by(OrderLine.order_id)
        .subquery("sizes")
    )
    first_scan = (
        select(OrderEvent.order_id.label("order_id"), func.min(OrderEvent.at).label("at"))
        .where(
            OrderEvent.type == "scan_recorded",
            OrderEvent.order_id.in_(select(packed.c.order_id)),
        )
        .group_by(OrderEvent.order_id)
        .subquery("first_scan")
    )
    lines = func.coalesce(sizes.c.n_lines, 0)
    items = func.coalesce(sizes.c.n_items, 0)
    units = BASE + PER_LINE * lines + PER_EXTRA_ITEM * (items - lines)
    took = _epoch(dialect, packed.c.at) - _epoch(dialect, first_scan.c.at)
    rows = session.execute(
        select(
            packed.c.station_id,
            packed.c.packer_id,
            func.count(),
            func.sum(items),
            func.sum(lines),
            func.sum(units),
            func.sum(took),
            func.count(first_scan.c.at),
            func.min(packed.c.at),
            func.max(packed.c.at),
        )
        .select_from(packed)
        .outerjoin(sizes, sizes.c.order_id == packed.c.order_id)
        .outerjoin(first_scan, first_scan.c.order_id == packed.c.order_id)
        .group_by(packed.c.station_id, packed.c.packer_id)
    ).tuples()
    all_orders, all_units = 0, 0.0
    for station_id, packer_id, n, n_items, n_lines, n_units, secs, timed, first, last in rows:
        for key, table in ((packer_id, by_packer), (station_id, by_station)):
            if key is None:
                continue
            t = table.setdefault(int(key), _Tally())
            t.orders += int(n)
            t.items += int(n_items or 0)
            t.lines += int(n_lines or 0)
            t.units += float(n_units or 0)
            t.order_seconds += float(secs or 0)
            t.timed_orders += int(timed or 0)
            t.seen(first, last)
        all_orders += int(n)
        all_units += float(n_units or 0)
    return all_units / all_orders if all_orders else 1.0


def _activity(
    session: Session,
    start: datetime,
    now: datetime,
    by_packer: dict[int, _Tally],
    by_station: dict[int, _Tally],
) -> None:
    """Scans, rejected scans, overrides and the active span, per (station, packer) group."""
    # JSON keys are bound parameters: group by subquery columns, never by the expression.
    ev = (
        select(
            OrderEvent.station_id.label("station_id"),
            _packer_key().label("packer_id"),
            OrderEvent.type.label("type"),
            OrderEvent.payload["outcome"].as_string().label("outcome"),
            OrderEvent.at.label("at"),
        )
        .where(
            OrderEvent.type.in_((*_ACTIVITY, "override_granted")),
            OrderEvent.at >= start,
            OrderEvent.at <= now,
        )
        .subquery("ev")
    )
    is_scan = ev.c.type == "scan_recorded"
    rejected = and_(is_scan, func.coalesce(ev.c.outcome, "") != "accepted")
    rows = session.execute(
        select(
            ev.c.station_id,
            ev.c.packer_id,
            func.sum(case((is_scan, 1), else_=0)),
            func.sum(case((rejected, 1), else_=0)),
            func.sum(case((ev.c.type == "override_granted", 1), else_=0)),
            func.min(ev.c.at),
            func.max(ev.c.at),
        ).group_by(ev.c.station_id, ev.c.packer_id)
    ).tuples()
    for station_id, packer_id, scans, bad, overrides, first, last in rows:
        for key, table in ((packer_id, by_packer), (station_id, by_station)):
            if key is None:
                continue
            t = table.setdefault(int(key), _Tally())
            t.scans += int(scans or 0)
            t.rejected += int(bad or 0)
            t.overrides += int(overrides or 0)
            t.seen(first, last)


def _names(
    session: Session, model: type[User] | type[Station], ids: Iterable[int]
) -> dict[int, str]:
    wanted = list(ids)
    if not wanted:
        return {}
    rows = session.execute(select(model.id, model.name).where(model.id.in_(wanted))).tuples()
    return {id_: name for id_, name in rows}


def _packers(session: Session, tallies: dict[int, _Tally], mean: float) -> list[WorkerFigures]:
    names = _names(session, User, tallies)
    out = [t.figures(pid, names.get(pid, f"user {pid}"), mean) for pid, t in tallies.items()]
    return sorted(out, key=lambda f: (-f.adjusted_per_hour, f.name))


def _stations(
    session: Session, tallies: dict[int, _Tally], mean: float, now: datetime
) -> list[StationFigures]:
    out: list[StationFigures] = []
    for st in session.scalars(select(Station).order_by(Station.name)):
        tally = tallies.get(st.id, _Tally())
        beat: dict[str, Any] = st.heartbeat or {}
        devices: dict[str, Any] = beat.get("devices") or {}
        depth = beat.get("queue_depth")
        out.append(
            StationFigures(
                **tally.figures(st.id, st.name, mean).model_dump(),
                online=st.last_seen_at is not None and now - st.last_seen_at <= ONLINE_WITHIN,
                last_seen_at=st.last_seen_at,
                last_sync_at=st.last_sync_at,
                queue_depth=int(depth) if isinstance(depth, int) else None,
                printer=str(devices.get("printer") or devices.get("label_printer") or "unknown"),
                scale=str(devices.get("scale") or "unknown"),
            )
        )
    return out


def rejection_code(station_id: Any, mutation_id: Any) -> ColumnElement[str]:
    """The OrderException code that marks a rejected mutation as resolved (SQL expression)."""
    return (
        literal("mutation:") + cast(station_id, String) + literal(":") + cast(mutation_id, String)
    )


def exception_items(session: Session, shift_start: datetime) -> list[ExceptionItem]:
    """Open exceptions, weight overrides of the shift and unresolved rejected mutations."""
    items: list[ExceptionItem] = []
    station_name = _names(session, Station, session.scalars(select(Station.id)))
    for exc, number, status, version in session.execute(
        select(OrderException, Order.number, Order.status, Order.version)
        .join(Order, Order.id == OrderException.order_id)
        .where(
            or_(
                OrderException.resolved_at.is_(None),
                and_(
                    OrderException.kind == "weight",
                    OrderException.created_at >= shift_start,
                ),
            )
        )
        .order_by(OrderException.created_at, OrderException.id)
        .limit(EXCEPTION_LIMIT)
    ).tuples():
        sid = (exc.details or {}).get("station_id")
        items.append(
            ExceptionItem(
                source="exception",
                id=f"exc:{exc.id}",
                order_id=exc.order_id,
                order_number=number,
                order_status=status,
                order_version=version,
                kind=exc.kind,
                code=exc.code,
                message=exc.message,
                station_name=station_name.get(sid) if isinstance(sid, int) else None,
                at=exc.created_at,
                open=exc.resolved_at is None,
            )
        )
    resolved = exists().where(
        OrderException.kind == "rejected",
        OrderException.code
        == rejection_code(StationMutation.station_id, StationMutation.mutation_id),
    )
    for mut, number, status, version in session.execute(
        select(StationMutation, Order.number, Order.status, Order.version)
        .outerjoin(Order, Order.id == StationMutation.order_id)
        .where(
            StationMutation.status == "rejected",
            StationMutation.applied_at >= shift_start,
            ~resolved,
        )
        .order_by(StationMutation.applied_at)
        .limit(EXCEPTION_LIMIT)
    ).tuples():
        items.append(
            ExceptionItem(
                source="rejected_mutation",
                id=f"mut:{mut.station_id}:{mut.mutation_id}",
                order_id=mut.order_id if number is not None else None,
                order_number=number or "",
                order_status=status or "",
                order_version=version or 0,
                kind="rejected",
                code=mut.reason or "rejected",
                message=mut.message or "",
                station_name=station_name.get(mut.station_id),
                at=mut.applied_at,
                open=True,
            )
        )
    return items


def _throughput(
    session: Session, dialect: str, start: datetime, now: datetime
) -> list[ThroughputPoint]:
    slots_q = (
        select(_slot(dialect, OrderEvent.at, start).label("slot"))
        .where(
            OrderEvent.type == "order_packed",
            OrderEvent.at >= start,
            OrderEvent.at <= now,
        )
        .subquery("slots")
    )
    counts = {
        int(n): int(c)
        for n, c in session.execute(
            select(slots_q.c.slot, func.count()).group_by(slots_q.c.slot)
        ).tuples()
    }
    slots = int((now - start) / SLOT) + 1
    return [ThroughputPoint(start=start + i * SLOT, orders=counts.get(i, 0)) for i in range(slots)]
