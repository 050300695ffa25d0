"""Shift figures for supervisors, aggregated in SQL (GROUP BY over time-filtered events).

Definitions (all over the shift window `[shift_start, now]` unless said otherwise; the
window starts at the 15-minute slot holding `shift_start`, and per-slot aggregates of ended
slots are computed once per process, see service.supervisor.slots):

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

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Station, User
from service.supervisor.queries import (
    BATCHES,
    EXCEPTIONS,
    REJECTIONS,
    STATIONS,
    StationRow,
    counts_statement,
    names_statement,
)
from service.supervisor.schemas import (
    BatchFigures,
    ExceptionItem,
    Overview,
    StationFigures,
    ThroughputPoint,
    WorkerFigures,
)
from service.supervisor.slots import BASE, PER_EXTRA_ITEM, PER_LINE, SLOT, Agg, slot_floor, window
from sync.protocol import exception_say

ONLINE_WITHIN = timedelta(minutes=2)
MIN_ACTIVE = timedelta(minutes=15)


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
        # No pace to project from: judged against the batch's own cut-off, only a cut-off
        # within the next hour (or past) is a warning; tomorrow's batch is simply not started.
        return None, cutoff is not None and cutoff - now <= timedelta(hours=1)
    finish = now + timedelta(hours=remaining / rate)
    return finish, cutoff is not None and (finish > cutoff or now > cutoff)


def _worker_fields(t: Agg, id_: int, name: str, mean_units: float) -> dict[str, Any]:
    """One packer's or station's figures from its sums over the window (WorkerFigures fields)."""
    span = (t.last - t.first) if t.first and t.last else timedelta(0)
    hours = max(span, MIN_ACTIVE).total_seconds() / 3600
    return {
        "id": id_,
        "name": name,
        "orders": t.orders,
        "items": t.items,
        "lines": t.lines,
        "active_hours": round(hours, 3),
        "orders_per_hour": round(t.orders / hours, 2),
        "items_per_hour": round(t.items / hours, 2),
        "adjusted_per_hour": round(t.units / mean_units / hours, 2),
        "scans": t.scans,
        "rejected_scans": t.rejected,
        "accuracy": round(1 - t.rejected / t.scans, 4) if t.scans else None,
        "avg_seconds_per_order": (
            round(t.order_seconds / t.timed_orders, 1) if t.timed_orders else None
        ),
        "overrides": t.overrides,
    }


def _worker(t: Agg, id_: int, name: str, mean_units: float) -> WorkerFigures:
    """One packer's figures from its sums over the window."""
    return WorkerFigures(**_worker_fields(t, id_, name, mean_units))


def overview(session: Session, now: datetime, shift_start: datetime) -> Overview:
    """Every supervisor figure as of `now` for the shift since `shift_start`'s 15-min slot."""
    start = slot_floor(shift_start)
    win = window(session, start, now)
    stations = session.connection().execute(STATIONS).tuples().all()
    mean_units = win.units / win.orders if win.orders else 1.0
    throughput: list[ThroughputPoint] = []
    slot = start
    while slot <= now:
        throughput.append(ThroughputPoint(start=slot, orders=win.slot_orders.get(slot, 0)))
        slot += SLOT
    return Overview(
        as_of=now,
        shift_start=start,
        complexity_mean_units=round(mean_units, 4),
        batches=batch_figures(session, now, start),
        packers=_packers(session, win.by_packer, mean_units),
        stations=_stations(stations, win.by_station, mean_units, now),
        exceptions=exception_items(session, start, {row[0]: row[1] for row in stations}),
        throughput=throughput,
    )


def batch_figures(session: Session, now: datetime, shift_start: datetime) -> list[BatchFigures]:
    """Open and assigned batches, plus those created during the shift; most urgent first."""
    conn = session.connection()
    params = {
        "shift_start": shift_start,
        "now": now,
        "q15": now - timedelta(minutes=15),
        "q60": now - timedelta(minutes=60),
    }
    batches = conn.execute(BATCHES, params).tuples().all()
    counts: dict[int, tuple[int, int, int]] = {}
    if batches:
        ids = [row[0] for row in batches]
        for batch_id, total, packed, held in conn.execute(
            counts_statement(conn.dialect.name), {"ids": ids}
        ).tuples():
            counts[batch_id] = (int(total or 0), int(packed or 0), int(held or 0))
    out: list[BatchFigures] = []
    for id_, code, name, status, station_id, station_name, cutoff, n15, n60 in batches:
        total, packed, held = counts.get(id_, (0, 0, 0))
        remaining = max(total - packed, 0)
        rate15, rate60 = int(n15 or 0) * 4.0, float(n60 or 0)
        finish, miss = projected_finish(remaining, rate15, rate60, cutoff, now)
        out.append(
            BatchFigures(
                id=id_,
                code=code,
                name=name,
                status=status,
                station_id=station_id,
                station_name=station_name,
                cutoff_at=cutoff,
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


def _names(
    session: Session, model: type[User] | type[Station], ids: Iterable[int]
) -> dict[int, str]:
    wanted = list(ids)
    if not wanted:
        return {}
    conn = session.connection()
    rows = conn.execute(names_statement(model, conn.dialect.name), {"ids": wanted})
    return {id_: name for id_, name in rows.tuples()}


def _packers(session: Session, tallies: dict[int, Agg], mean: float) -> list[WorkerFigures]:
    names = _names(session, User, tallies)
    out = [_worker(t, pid, names.get(pid, f"user {pid}"), mean) for pid, t in tallies.items()]
    return sorted(out, key=lambda f: (-f.adjusted_per_hour, f.name))


def _stations(
    stations: Sequence[StationRow], tallies: dict[int, Agg], mean: float, now: datetime
) -> list[StationFigures]:
    out: list[StationFigures] = []
    for id_, name, last_seen, last_sync, heartbeat in stations:
        beat: dict[str, Any] = heartbeat or {}
        devices: dict[str, Any] = beat.get("devices") or {}
        depth = beat.get("queue_depth")
        out.append(
            StationFigures(
                **_worker_fields(tallies.get(id_, Agg()), id_, name, mean),
                online=last_seen is not None and now - last_seen <= ONLINE_WITHIN,
                last_seen_at=last_seen,
                last_sync_at=last_sync,
                queue_depth=int(depth) if isinstance(depth, int) else None,
                printer=str(devices.get("printer") or devices.get("label_printer") or "unknown"),
                scale=str(devices.get("scale") or "unknown"),
            )
        )
    return out


def exception_items(
    session: Session, shift_start: datetime, station_name: dict[int, str] | None = None
) -> list[ExceptionItem]:
    """Open exceptions, weight overrides of the shift and unresolved rejected mutations."""
    items: list[ExceptionItem] = []
    if station_name is None:
        station_name = _names(session, Station, session.scalars(select(Station.id)))
    params = {"shift_start": shift_start}
    conn = session.connection()
    for row in conn.execute(EXCEPTIONS, params).tuples():
        id_, order_id, kind, code, message, details, created, resolved_at, *order = row
        number, status, version, labels_printed = order
        sid = (details or {}).get("station_id")
        items.append(
            ExceptionItem(
                source="exception",
                id=f"exc:{id_}",
                order_id=order_id,
                order_number=number,
                order_status=status,
                order_version=version,
                kind=kind,
                code=code,
                message=message,
                say=_say(details),
                station_name=station_name.get(sid) if isinstance(sid, int) else None,
                at=created,
                open=resolved_at is None,
                labels_printed=int(labels_printed or 0),
            )
        )
    for row in conn.execute(REJECTIONS, params).tuples():
        station_id, mutation_id, order_id, reason, message, applied_at, *order = row
        number, status, version = order
        items.append(
            ExceptionItem(
                source="rejected_mutation",
                id=f"mut:{station_id}:{mutation_id}",
                order_id=order_id if number is not None else None,
                order_number=number or "",
                order_status=status or "",
                order_version=version or 0,
                kind="rejected",
                code=reason or "rejected",
                message=message or "",
                station_name=station_name.get(station_id),
                at=applied_at,
                open=True,
            )
        )
    return items


def _say(details: object) -> dict[str, Any] | None:
    said = exception_say(details)
    return None if said is None else {"code": said[0], "params": said[1]}
