"""GET /v1/stations: the packing stations, so operators can assign batches by name."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from service.api.deps import DbSession, Operator
from service.stations import list_stations

router = APIRouter(prefix="/v1", tags=["operator"])


class StationOut(BaseModel):
    id: int
    name: str
    enrolled_at: datetime | None
    last_seen_at: datetime | None
    open_batches: int


@router.get("/stations", response_model=list[StationOut])
def get_stations(session: DbSession, _token: Operator) -> list[StationOut]:
    """Every station by name, with its id, enrolment, last contact and open batches."""
    return [StationOut(**vars(row)) for row in list_stations(session)]
