"""Stations as operators see them: name, id, enrolment, last contact and assigned batches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.errors import NotFound
from service.models import Batch, Station


@dataclass(frozen=True)
class StationRow:
    """One station for `station list` and GET /v1/stations."""

    id: int
    name: str
    enrolled_at: datetime | None
    last_seen_at: datetime | None
    open_batches: int


def list_stations(session: Session) -> list[StationRow]:
    """Every station by name, with how many open or assigned batches it holds."""
    batches = (
        select(Batch.station_id, func.count().label("n"))
        .where(Batch.status != "done", Batch.station_id.is_not(None))
        .group_by(Batch.station_id)
        .subquery()
    )
    rows = session.execute(
        select(Station, func.coalesce(batches.c.n, 0))
        .outerjoin(batches, batches.c.station_id == Station.id)
        .order_by(Station.name)
    ).all()
    return [StationRow(s.id, s.name, s.enrolled_at, s.last_seen_at, int(n)) for s, n in rows]


def station_id_by_name(session: Session, name: str) -> int:
    """The id of the station called `name`, or NotFound."""
    sid = session.scalar(select(Station.id).where(Station.name == name.strip()))
    if sid is None:
        raise NotFound(f"No station named {name!r}; see `packbench-service station list`.")
    return sid
