"""Shift activity aggregated in SQL per 15-minute slot, station and packer, with closed slots
kept in memory.

Order events are append-only and stamped with the service's clock when written
(`lifecycle.record_event` / `transition` use utcnow()), so once a slot has ended — plus a
settling margin for transactions still committing — its aggregates can no longer change.
Each process therefore aggregates a closed slot once (GROUP BY slot, station, packer over a
time-filtered range) and only re-aggregates the open tail of the shift on every request.
Rows written later with an old `at` (imports, hand-made fixtures) are not seen by a process
that already cached that slot: `forget()` drops the cache.
"""

from __future__ import annotations

import functools
import threading
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Float, Integer, Select, and_, bindparam, case, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from service.db import UTCDateTime
from service.models import OrderEvent, OrderLine

SLOT = timedelta(minutes=15)
SETTLE = timedelta(minutes=2)
# Closed slots older than the longest window the API offers (24 h) are dropped from the cache,
# so a long-running process does not keep every slot it ever aggregated.
KEEP = timedelta(hours=24) + 2 * SLOT
BASE = 0.5
PER_LINE = 0.5
PER_EXTRA_ITEM = 0.25
ACTIVITY = ("scan_recorded", "weight_recorded", "parcel_closed", "order_packed", "override_granted")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The statements are built once per dialect; these are their parameters.
_A = bindparam("a", type_=UTCDateTime)
_B = bindparam("b", type_=UTCDateTime)
_ORIGIN = bindparam("origin", type_=Float)

Key = tuple[int | None, int | None]  # (station id, packer id)


@dataclass
class Agg:
    """Sums for one (station, packer) in one slot; they merge by adding."""

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
        """Widen the active span."""
        if first is not None:
            self.first = first if self.first is None else min(self.first, first)
        if last is not None:
            self.last = last if self.last is None else max(self.last, last)

    def add(self, other: Agg) -> None:
        """Merge another group's sums into this one."""
        self.orders += other.orders
        self.items += other.items
        self.lines += other.lines
        self.units += other.units
        self.order_seconds += other.order_seconds
        self.timed_orders += other.timed_orders
        self.scans += other.scans
        self.rejected += other.rejected
        self.overrides += other.overrides
        self.seen(other.first, other.last)

    def copy(self) -> Agg:
        """An independent copy (positional: dataclasses.replace costs more per request)."""
        return Agg(
            self.orders,
            self.items,
            self.lines,
            self.units,
            self.order_seconds,
            self.timed_orders,
            self.scans,
            self.rejected,
            self.overrides,
            self.first,
            self.last,
        )


SlotRows = dict[Key, Agg]
_cache: weakref.WeakKeyDictionary[Engine, dict[datetime, SlotRows]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def forget() -> None:
    """Drop every cached slot (after writing events with an old `at`)."""
    with _lock:
        _cache.clear()
        _rollups.clear()


def slot_floor(at: datetime) -> datetime:
    """The start of the 15-minute slot holding `at`."""
    whole = (at - _EPOCH) // SLOT
    return _EPOCH + whole * SLOT


def epoch(dialect: str, col: Any) -> ColumnElement[float]:
    """Seconds since 1970 of a timestamp column, on either database."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", col), Float)
    return (func.julianday(col) - 2440587.5) * 86400.0


def _slot_no(dialect: str, col: Any) -> ColumnElement[int]:
    """The slot number of `col` counted from the bound `origin` (seconds since 1970)."""
    # julianday() is a float of days: half a millisecond keeps 11:30:00 out of the 11:15 slot.
    seconds = (epoch(dialect, col) - _ORIGIN + 0.0005) / SLOT.total_seconds()
    if dialect == "postgresql":
        return cast(func.floor(seconds), Integer)
    return cast(seconds, Integer)  # SQLite truncates toward zero; never negative here


def closed_slots(session: Session, first: datetime, settled: datetime) -> dict[datetime, SlotRows]:
    """Aggregates of the closed slots in [first, settled), each computed once per process."""
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    with _lock:
        known = _cache.setdefault(engine, {})
        out = {s: known[s] for s in known if first <= s < settled}
    missing_from = first
    while missing_from < settled and missing_from in out:
        missing_from += SLOT
    if missing_from < settled:
        fresh = _aggregate(session, missing_from, settled)
        slot = missing_from
        while slot < settled:
            out[slot] = fresh.get(slot, {})
            slot += SLOT
        with _lock:
            known.update({k: v for k, v in out.items() if k >= missing_from})
            for old in [k for k in known if k < settled - KEEP]:
                del known[old]
    return out


@dataclass
class Window:
    """The shift window rolled up per packer and per station, plus orders per slot."""

    by_packer: dict[int, Agg]
    by_station: dict[int, Agg]
    slot_orders: dict[datetime, int]
    orders: int = 0
    units: float = 0.0

    def add(self, slot: datetime, rows: SlotRows) -> None:
        """Fold one slot's rows in."""
        for (station_id, packer_id), g in rows.items():
            if packer_id is not None:
                self.by_packer.setdefault(packer_id, Agg()).add(g)
            if station_id is not None:
                self.by_station.setdefault(station_id, Agg()).add(g)
            self.orders += g.orders
            self.units += g.units
            self.slot_orders[slot] = self.slot_orders.get(slot, 0) + g.orders

    def copy(self) -> Window:
        """A copy whose Aggs can be added to without touching this one."""
        return Window(
            {k: v.copy() for k, v in self.by_packer.items()},
            {k: v.copy() for k, v in self.by_station.items()},
            dict(self.slot_orders),
            self.orders,
            self.units,
        )


_rollups: weakref.WeakKeyDictionary[Engine, tuple[tuple[datetime, datetime], Window]] = (
    weakref.WeakKeyDictionary()
)


def window(session: Session, start: datetime, now: datetime) -> Window:
    """The window from the slot holding `start` to `now`: the closed part rolled up once per
    slot change, the open tail aggregated on every call."""
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    first = slot_floor(start)
    settled = max(slot_floor(now - SETTLE), first)
    with _lock:
        cached = _rollups.get(engine)
    if cached is not None and cached[0] == (first, settled):
        closed = cached[1]
    else:
        closed = Window({}, {}, {})
        for slot, rows in sorted(closed_slots(session, first, settled).items()):
            closed.add(slot, rows)
        with _lock:
            _rollups[engine] = ((first, settled), closed)
    result = closed.copy()
    for slot, rows in _aggregate(session, settled, now + timedelta(microseconds=1)).items():
        result.add(slot, rows)
    return result


@functools.cache
def _statements(dialect: str) -> tuple[Select[Any], Select[Any]]:
    """The two GROUP BY (slot, station, packer) statements over [a, b), built once per dialect:
    activity counts, and packed orders with their sizes and first scans."""
    packer_key = OrderEvent.payload["packer_id"].as_integer()
    in_range = and_(OrderEvent.at >= _A, OrderEvent.at < _B)
    # JSON keys are bound parameters: group by subquery columns, never by the expression.
    ev = (
        select(
            _slot_no(dialect, OrderEvent.at).label("slot"),
            OrderEvent.station_id.label("station_id"),
            packer_key.label("packer_id"),
            OrderEvent.type.label("type"),
            OrderEvent.payload["outcome"].as_string().label("outcome"),
            OrderEvent.at.label("at"),
        )
        .where(OrderEvent.type.in_(ACTIVITY), in_range)
        .subquery("ev")
    )
    is_scan = ev.c.type == "scan_recorded"
    rejected = and_(is_scan, func.coalesce(ev.c.outcome, "") != "accepted")
    activity = select(
        ev.c.slot,
        ev.c.station_id,
        ev.c.packer_id,
        func.sum(case((is_scan, 1), else_=0)),
        func.sum(case((rejected, 1), else_=0)),
        func.sum(case((ev.c.type == "override_granted", 1), else_=0)),
        func.min(ev.c.at),
        func.max(ev.c.at),
    ).group_by(ev.c.slot, ev.c.station_id, ev.c.packer_id)

    # One row per packed order: its lines joined and summed, its first scan looked up by
    # (order_id, at). Grouping by the event's key keeps the subquery from being merged into
    # the outer aggregate, where PostgreSQL would run each per-order lookup once per use.
    scan = OrderEvent.__table__.alias("scan")
    first_scan = (
        select(func.min(scan.c.at))
        .where(scan.c.order_id == OrderEvent.order_id, scan.c.type == "scan_recorded")
        .scalar_subquery()
    )
    per_order = (
        select(
            _slot_no(dialect, OrderEvent.at).label("slot"),
            OrderEvent.station_id.label("station_id"),
            packer_key.label("packer_id"),
            OrderEvent.at.label("at"),
            func.count(OrderLine.id).label("n_lines"),
            func.coalesce(func.sum(OrderLine.quantity), 0).label("n_items"),
            first_scan.label("first_scan"),
        )
        .select_from(OrderEvent)
        .outerjoin(OrderLine, OrderLine.order_id == OrderEvent.order_id)
        .where(OrderEvent.type == "order_packed", in_range)
        .group_by(OrderEvent.id)
        .subquery("packed")
    )
    p = per_order.c
    took = epoch(dialect, p.at) - epoch(dialect, p.first_scan)
    packed = select(
        p.slot,
        p.station_id,
        p.packer_id,
        func.count(),
        func.sum(p.n_items),
        func.sum(p.n_lines),
        func.sum(took),
        func.count(p.first_scan),
    ).group_by(p.slot, p.station_id, p.packer_id)
    return activity, packed


def _aggregate(session: Session, a: datetime, b: datetime) -> dict[datetime, SlotRows]:
    """Activity and packed orders per (slot, station, packer) over [a, b)."""
    activity, packed = _statements(session.get_bind().dialect.name)
    params = {"a": a, "b": b, "origin": a.timestamp()}
    found: dict[datetime, SlotRows] = {}

    def agg(slot_no: int, station: int | None, packer: int | None) -> Agg:
        rows = found.setdefault(a + slot_no * SLOT, {})
        return rows.setdefault((station, packer), Agg())

    conn = session.connection()  # Core rows one at a time: no ORM result buffering
    for slot_no, station, packer, scans, bad, overrides, first, last in conn.execute(
        activity, params
    ).tuples():
        g = agg(int(slot_no), station, packer)
        g.scans, g.rejected, g.overrides = int(scans or 0), int(bad or 0), int(overrides or 0)
        g.seen(first, last)
    for slot_no, station, packer, n, items, lines, secs, timed in conn.execute(
        packed, params
    ).tuples():
        g = agg(int(slot_no), station, packer)
        g.orders, g.items, g.lines = int(n), int(items or 0), int(lines or 0)
        # Raw units are linear in lines and items, so the group's sum follows from its sums.
        g.units = BASE * g.orders + PER_LINE * g.lines + PER_EXTRA_ITEM * (g.items - g.lines)
        g.order_seconds, g.timed_orders = float(secs or 0), int(timed or 0)
    return found
