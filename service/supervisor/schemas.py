"""Wire shapes of the supervisor overview and its actions (JSON over /v1/supervisor)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class BatchFigures(BaseModel):
    """Progress of one batch and whether it will make its cut-off at the current pace."""

    id: int
    code: str
    name: str
    status: str
    station_id: int | None
    station_name: str | None
    cutoff_at: datetime | None
    total: int  # orders in the batch, cancelled ones left out
    packed: int  # packed or later
    held: int  # on hold right now
    remaining: int  # total - packed (held orders still have to be packed)
    rate_15m: float  # orders packed per hour over the last 15 minutes
    rate_60m: float  # orders packed per hour over the last 60 minutes
    projected_finish: datetime | None  # None: done, or no progress in the last hour
    will_miss_cutoff: bool


class WorkerFigures(BaseModel):
    """Throughput and quality of one packer or one station over the shift window."""

    id: int
    name: str
    orders: int
    items: int
    lines: int
    active_hours: float
    orders_per_hour: float
    items_per_hour: float
    adjusted_per_hour: float  # complexity-adjusted orders per hour, see figures.py
    scans: int
    rejected_scans: int
    accuracy: float | None  # 1 - rejected/scans; None without scans
    avg_seconds_per_order: float | None  # first scan to order_packed
    overrides: int


class StationFigures(WorkerFigures):
    """A station's throughput plus its health as last reported in its heartbeat."""

    online: bool
    last_seen_at: datetime | None
    last_sync_at: datetime | None
    queue_depth: int | None
    printer: str
    scale: str


class ExceptionItem(BaseModel):
    """One thing a supervisor should look at, with the order state the actions check."""

    source: Literal["exception", "rejected_mutation"]
    id: str  # "exc:<id>" or "mut:<station_id>:<mutation_id>"
    order_id: int | None
    order_number: str
    order_status: str
    order_version: int
    kind: str  # hold | stuck | validation | weight | rejected | ...
    code: str
    message: str  # English, for older stations and logs
    # What `message` says as a code and its parameters (sync.protocol.EXCEPTION_MESSAGES):
    # {"code": ..., "params": {...}}, so the station words it in the reader's language; None
    # for a text that is itself data (a person's hold note, a carrier's own words).
    say: dict[str, Any] | None = None
    station_name: str | None
    at: datetime
    open: bool  # False for weight overrides (already granted, listed for review)
    labels_printed: int = 0  # printed labels of the order: void them before re-packing


class ThroughputPoint(BaseModel):
    """Orders packed in one 15-minute slot of the shift."""

    start: datetime
    orders: int


class Overview(BaseModel):
    """Everything the supervisor screen shows, as of one moment."""

    as_of: datetime
    shift_start: datetime
    complexity_mean_units: float
    batches: list[BatchFigures]
    packers: list[WorkerFigures]
    stations: list[StationFigures]
    exceptions: list[ExceptionItem]
    throughput: list[ThroughputPoint]


class ActionIn(BaseModel):
    """Why a supervisor acts; `expected_version` is the order version they were looking at."""

    reason: str = Field(min_length=3, max_length=500)
    expected_version: int | None = None


class ReassignIn(ActionIn):
    batch_id: int


class AssignIn(BaseModel):
    station_id: int
    reason: str = Field(default="", max_length=500)


# What an action did, by ActionOut.code: `message` is the English template filled with
# `params`; a station words it from its own catalogue (app/station/supervisor.py).
# {status} is an order status code.
ACTION_MESSAGES: dict[str, str] = {
    "released": "Order {order} released; it is {status}.",
    "held": "Order {order} is on hold.",
    "batched": "Order {order} is in batch {batch}.",
    "cancelled": "Order {order} cancelled.",
    "relabelled": "Box {box} has a new label {new}; {old} was voided.",
    "relabelled_void_queued": "Box {box} has a new label {new}; {old} was voided "
    "(the carrier was away: voiding the old one is queued).",
    "reassigned": "Order {order} moved to batch {batch}.",
    "exception_resolved": "Exception on order {order} marked resolved.",
    "rejection_resolved": "Rejected event on order {order} marked resolved.",
}


class ActionOut(BaseModel):
    """What an action did to the order."""

    order_id: int | None
    order_number: str
    order_status: str
    order_version: int
    action: str
    actor: str
    message: str  # English, for older stations and logs
    code: str = ""  # ACTION_MESSAGES
    params: dict[str, str] = {}


class CandidateOrder(BaseModel):
    """A confirmed, unbatched order a batch could take."""

    id: int
    number: str
    carrier: str
    service: str
    priority: int
    cutoff_at: datetime | None
    lines: int
    items: int


def as_json(model: BaseModel) -> dict[str, Any]:
    """JSON-ready dict (datetimes as ISO strings)."""
    return model.model_dump(mode="json")
