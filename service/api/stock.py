"""Operator API for stock: read levels, adjust with a reason, record a count.

Every change is one ledger movement (service.stock.ledger); a change that would take
available stock below zero is a 409 `stock_short` and records nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from service.api.deps import DbSession, Operator
from service.errors import ValidationFailed
from service.models import ApiToken, Product, StockBalance
from service.stock.ledger import MAIN, Level
from service.stock.operations import MAX_UNITS, adjust_and_allocate, product_stock

router = APIRouter(prefix="/v1", tags=["stock"])


def _actor(token: ApiToken) -> str:
    return f"operator:{token.name}" if token.name else f"token:{token.id}"


class LevelOut(BaseModel):
    sku: str
    location: str
    on_hand: int
    allocated: int
    available: int


class MovementOut(BaseModel):
    at: str
    kind: str
    location: str
    on_hand_delta: int
    allocated_delta: int
    order_id: int | None
    reason: str
    actor: str


class ProductStockOut(BaseModel):
    sku: str
    name: str
    levels: list[LevelOut]
    movements: list[MovementOut]


class AdjustIn(BaseModel):
    """Units to add (negative: take away) with the reason, or a count of the shelf."""

    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, max_length=80)
    qty: int | None = Field(default=None, ge=-MAX_UNITS, le=MAX_UNITS)
    count: int | None = Field(default=None, ge=0, le=MAX_UNITS)
    reason: str = Field(min_length=1, max_length=400)
    location: str = Field(default=MAIN, min_length=1, max_length=32)


class AdjustOut(BaseModel):
    level: LevelOut
    allocated_orders: list[str]


def _level(sku: str, lv: Level) -> LevelOut:
    return LevelOut(
        sku=sku,
        location=lv.location,
        on_hand=lv.on_hand,
        allocated=lv.allocated,
        available=lv.available,
    )


@router.get("/stock", response_model=list[LevelOut])
def list_stock(
    session: DbSession,
    token: Operator,
    below: Annotated[int | None, Query(ge=0, le=MAX_UNITS)] = None,
    location: Annotated[str, Query(min_length=1, max_length=32)] = MAIN,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[LevelOut]:
    """Tracked products at a location by SKU; `below=N`: only those with available < N."""
    query = (
        select(Product.sku, StockBalance)
        .join(Product, Product.id == StockBalance.product_id)
        .where(StockBalance.location == location.upper())
        .order_by(Product.sku)
        .limit(limit)
    )
    if below is not None:
        query = query.where(StockBalance.on_hand - StockBalance.allocated < below)
    return [
        _level(sku, Level(b.product_id, b.location, b.on_hand, b.allocated))
        for sku, b in session.execute(query).tuples()
    ]


@router.get("/stock/{sku}", response_model=ProductStockOut)
def show_stock(sku: str, session: DbSession, token: Operator) -> ProductStockOut:
    """A product's stock per location and its last 50 movements."""
    stock = product_stock(session, sku, last=50)
    return ProductStockOut(
        sku=stock.sku,
        name=stock.name,
        levels=[_level(stock.sku, lv) for lv in stock.levels],
        movements=[
            MovementOut(
                at=m.at.isoformat(),
                kind=m.kind,
                location=m.location,
                on_hand_delta=m.on_hand_delta,
                allocated_delta=m.allocated_delta,
                order_id=m.order_id,
                reason=m.reason,
                actor=m.actor,
            )
            for m in stock.movements
        ],
    )


@router.post("/stock/adjustments", response_model=AdjustOut)
def adjust_stock(body: AdjustIn, session: DbSession, token: Operator) -> AdjustOut:
    """Adjust (`qty`) or count (`count`) one product's stock; exactly one of the two."""
    if (body.qty is None) == (body.count is None):
        raise ValidationFailed("Give either qty (an adjustment) or count (a shelf count).")
    after, allocated = adjust_and_allocate(
        session,
        body.sku,
        quantity=body.qty,
        counted=body.count,
        reason=body.reason,
        actor=_actor(token),
        location=body.location,
    )
    return AdjustOut(level=_level(body.sku.strip().upper(), after), allocated_orders=allocated)
