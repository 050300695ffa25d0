"""Returns (RMAs) over the API: operators create, book in, close and read; a station looks
up the parcel it has in hand by any code on it."""

from __future__ import annotations

import base64
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import CurrentStation, DbSession, Operator
from service.models import ApiToken
from service.returns import desk, return_label
from service.returns.bench import lookup
from service.returns.states import Disposition, ReturnStatus
from service.stock.allocation import serve_noted_backorders
from sync.protocol import ReturnLookup

router = APIRouter(prefix="/v1", tags=["returns"])


def _actor(token: ApiToken) -> str:
    return f"operator:{token.name}" if token.name else f"token:{token.id}"


class ReturnLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=100_000)


class ReturnIn(BaseModel):
    """A return announced by an operator: the order, the lines expected back, why."""

    model_config = ConfigDict(extra="forbid")
    order: str = Field(min_length=1, max_length=32, description="order number, e.g. ORD-100123")
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)


class UnitIn(BaseModel):
    """One unit booked in at the returns desk."""

    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, max_length=64)
    disposition: Disposition
    reason: str | None = Field(default=None, max_length=40)
    key: str | None = Field(default=None, max_length=60, description="retry key")


class ReturnOut(BaseModel):
    code: str
    order_number: str
    status: str
    source: str
    reason: str
    expected: list[dict[str, Any]]
    units: list[dict[str, Any]]


def _out(v: desk.ReturnView) -> ReturnOut:
    return ReturnOut(**asdict(v))


@router.get("/returns/lookup", response_model=ReturnLookup)
def lookup_return(
    code: Annotated[str, Query(min_length=1, max_length=100)],
    session: DbSession,
    station: CurrentStation,
    applied: bool = False,
) -> Any:
    """The order and open return a scanned code names (RMA code, order number, tracking).
    With `applied=1`, `applied_through` is the station's last mutation counted in
    `returned`; without it the field is left out (a station that predates it refuses
    unknown fields)."""
    found = lookup(session, code, station.id if applied else None)
    if applied:
        return found
    return JSONResponse(found.model_dump(mode="json", exclude={"applied_through"}))


@router.get("/returns", response_model=list[ReturnOut])
def list_returns(
    session: DbSession,
    token: Operator,
    status: ReturnStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=desk.MAX_LISTED)] = 100,
) -> list[ReturnOut]:
    """Returns, oldest first; `status=received` lists those waiting for inspection."""
    return [_out(v) for v in desk.listing(session, status, limit)]


@router.post("/returns", response_model=ReturnOut, status_code=201)
def create_return(body: ReturnIn, session: DbSession, token: Operator) -> ReturnOut:
    """Announce a return; refused (409) for an order never shipped or more than shipped."""
    skus: dict[str, int] = {}
    for line in body.lines:
        skus[line.sku] = skus.get(line.sku, 0) + line.quantity
    out = desk.create(session, body.order, skus, reason=body.reason, actor=_actor(token))
    session.commit()
    return _out(out)


@router.get("/returns/{code}", response_model=ReturnOut)
def show_return(code: str, session: DbSession, token: Operator) -> ReturnOut:
    """One return with its expected lines and booked units."""
    return _out(desk.show(session, code))


@router.post("/returns/{code}/units", response_model=ReturnOut)
def receive_unit(code: str, body: UnitIn, session: DbSession, token: Operator) -> ReturnOut:
    """Book one unit in with its disposition (and its stock movement)."""
    actor = _actor(token)
    out = desk.receive(
        session, code, body.sku, body.disposition, reason=body.reason, actor=actor, key=body.key
    )
    session.commit()
    serve_noted_backorders(session, actor=actor)
    return _out(out)


@router.post("/returns/{code}/close", response_model=ReturnOut)
def close_return(code: str, session: DbSession, token: Operator) -> ReturnOut:
    """Close a return: announced units not booked in become missing."""
    out = desk.close(session, code, actor=_actor(token))
    session.commit()
    return _out(out)


class ReturnLabelIn(BaseModel):
    """A house-carrier return label wanted for a shipped order."""

    model_config = ConfigDict(extra="forbid")
    order: str = Field(min_length=1, max_length=32, description="order number, e.g. ORD-100123")
    rma: str | None = Field(default=None, max_length=32, description="the return, e.g. RMA-000012")
    again: bool = Field(default=False, description="void the live return label, issue a new one")


class ReturnLabelOut(BaseModel):
    order_number: str
    return_code: str
    tracking_number: str
    issued_at: datetime
    replaced: list[str]
    pdf_base64: str
    zpl: str
    label_url: str


def _label_out(issued: return_label.IssuedReturnLabel) -> ReturnLabelOut:
    return ReturnLabelOut(
        order_number=issued.order_number,
        return_code=issued.return_code,
        tracking_number=issued.tracking_number,
        issued_at=issued.issued_at,
        replaced=issued.replaced,
        pdf_base64=base64.b64encode(issued.pdf).decode("ascii"),
        zpl=issued.zpl.decode("utf-8"),
        label_url=f"/v1/returns/{issued.return_code}/label?format=pdf",
    )


@router.post("/returns/labels", response_model=ReturnLabelOut, status_code=201)
def issue_return_label(body: ReturnLabelIn, session: DbSession, token: Operator) -> ReturnLabelOut:
    """Issue a house-carrier return label (customer -> warehouse) for a shipped order; 409
    for an order never shipped, cancelled, or with a live return label (unless `again`)."""
    issued = return_label.issue(
        session, body.order, rma_code=body.rma, again=body.again, actor=_actor(token)
    )
    session.commit()
    return _label_out(issued)


@router.get("/returns/{code}/label", response_class=Response)
def read_return_label(
    code: str,
    session: DbSession,
    token: Operator,
    format: Literal["pdf", "zpl"] = "pdf",
) -> Response:
    """The live return label of a return (or of an order by its number), as a file."""
    issued = return_label.read(session, code)
    body, media = (issued.pdf, "application/pdf") if format == "pdf" else (issued.zpl, "text/plain")
    name = f"return-label-{issued.order_number}.{format}"
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
