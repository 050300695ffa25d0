"""Operator API for the catalogue: list, read, and bulk upsert products by SKU.

The upsert runs the same checks as `product import` (service.catalogue): any problem answers
422 with every problem and stores nothing. Orders held for a SKU that now exists leave the
hold in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from service.api.deps import DbSession, Operator
from service.catalogue.fields import (
    FieldError,
    normalise_sku,
    parse_alias,
    parse_gtin,
    parse_name,
    parse_pattern,
    parse_sku,
    parse_url,
)
from service.catalogue.store import Problem, ProductChange, apply_changes, check_changes
from service.errors import Conflict, NotFound
from service.models import ApiToken, Product

router = APIRouter(prefix="/v1", tags=["catalogue"])

MAX_PRODUCTS_PER_CALL = 1000
_MAX_MM = 100_000
_NOT_NULL = ("name", "serial_required", "active", "gtins", "aliases")


class ProductIn(BaseModel):
    """A product to create or update; fields left out keep their current values."""

    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, max_length=80)
    name: str | None = Field(default=None, max_length=400)
    gtins: list[str] | None = Field(default=None, max_length=50)
    aliases: list[str] | None = Field(default=None, max_length=50)
    weight_grams: int | None = Field(default=None, ge=0, le=10_000_000)
    length_mm: int | None = Field(default=None, ge=1, le=_MAX_MM)
    width_mm: int | None = Field(default=None, ge=1, le=_MAX_MM)
    height_mm: int | None = Field(default=None, ge=1, le=_MAX_MM)
    image_url: str | None = Field(default=None, max_length=600)
    serial_required: bool | None = None
    serial_pattern: str | None = Field(default=None, max_length=400)
    active: bool | None = None


class ProductsIn(BaseModel):
    """A bulk upsert."""

    model_config = ConfigDict(extra="forbid")
    products: list[ProductIn] = Field(min_length=1, max_length=MAX_PRODUCTS_PER_CALL)


class ProductOut(BaseModel):
    id: int
    sku: str
    name: str
    gtins: list[str]
    aliases: list[str]
    weight_grams: int | None
    length_mm: int | None
    width_mm: int | None
    height_mm: int | None
    image_url: str | None
    serial_required: bool
    serial_pattern: str | None
    active: bool
    updated_at: datetime


class ProductPage(BaseModel):
    items: list[ProductOut]
    total: int
    limit: int
    offset: int


class UpsertOut(BaseModel):
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    released_orders: list[str]


def _out(p: Product) -> ProductOut:
    return ProductOut(
        id=p.id,
        sku=p.sku,
        name=p.name,
        gtins=sorted(g.gtin14 for g in p.gtins),
        aliases=sorted(a.code for a in p.aliases),
        weight_grams=p.weight_grams,
        length_mm=p.length_mm,
        width_mm=p.width_mm,
        height_mm=p.height_mm,
        image_url=p.image_url,
        serial_required=bool(p.serial_required),
        serial_pattern=p.serial_pattern,
        active=bool(p.active),
        updated_at=p.updated_at,
    )


@router.get("/products", response_model=ProductPage)
def list_products(
    session: DbSession,
    _token: Operator,
    search: Annotated[str | None, Query(max_length=100)] = None,
    active: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ProductPage:
    """Products by SKU, optionally only (in)active ones or those whose SKU or name contain
    `search`."""
    query = select(Product)
    if active is not None:
        query = query.where(Product.active.is_(active))
    if search:
        like = f"%{search.strip()}%"
        query = query.where(or_(Product.sku.ilike(like), Product.name.ilike(like)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Product.sku).limit(limit).offset(offset)).all()
    return ProductPage(items=[_out(p) for p in rows], total=total, limit=limit, offset=offset)


@router.get("/products/{sku:path}", response_model=ProductOut)
def get_product(sku: str, session: DbSession, _token: Operator) -> ProductOut:
    """One product by SKU (any case)."""
    product = session.scalar(select(Product).where(Product.sku == normalise_sku(sku)))
    if product is None:
        raise NotFound(f"No product has the SKU {sku!r}.", field="sku")
    return _out(product)


def _change(item: int, given: ProductIn, problems: list[Problem]) -> ProductChange | None:
    """One ProductIn as a ProductChange (only the fields it sets), or its problems."""
    before = len(problems)
    sent = given.model_fields_set
    values: dict[str, Any] = {}

    def check(field: str, parse: Any, *args: Any) -> Any:
        try:
            return parse(*args, field)
        except FieldError as exc:
            problems.append(Problem(item, exc.field, exc.message))
            return None

    sku = check("sku", parse_sku, given.sku) or ""
    for name in _NOT_NULL:
        if name in sent and getattr(given, name) is None:
            problems.append(Problem(item, name, f"{name} cannot be null; leave it out instead."))
    if given.name is not None:
        values["name"] = check("name", parse_name, given.name)
    if given.gtins is not None:
        values["gtins"] = [check(f"gtins[{i}]", parse_gtin, g) for i, g in enumerate(given.gtins)]
    if given.aliases is not None:
        values["aliases"] = [
            check(f"aliases[{i}]", parse_alias, a) for i, a in enumerate(given.aliases)
        ]
    for name in ("weight_grams", "length_mm", "width_mm", "height_mm"):
        if name in sent:
            values[name] = getattr(given, name)
    if "image_url" in sent:
        values["image_url"] = check("image_url", parse_url, given.image_url or "")
    if "serial_pattern" in sent:
        pattern = given.serial_pattern or ""
        values["serial_pattern"] = check("serial_pattern", parse_pattern, pattern)
    for name in ("serial_required", "active"):
        if getattr(given, name) is not None:
            values[name] = getattr(given, name)
    if len(problems) > before:
        return None
    return ProductChange(sku, values, row=item, label=f"products[{item}]")


def _refused(problems: list[Problem]) -> JSONResponse:
    return JSONResponse(
        {
            "error": "validation_failed",
            "message": f"{len(problems)} problem(s); nothing was stored.",
            "problems": [{"item": p.row, "field": p.field, "message": p.message} for p in problems],
        },
        status_code=422,
    )


def _actor(token: ApiToken) -> str:
    return f"operator:{token.name}" if token.name else f"token:{token.id}"


@router.post("/products", response_model=UpsertOut)
@router.put("/products", response_model=UpsertOut)
def upsert_products(body: ProductsIn, session: DbSession, token: Operator) -> Any:
    """Create or update products by SKU, all or nothing; 422 lists every problem."""
    problems: list[Problem] = []
    changes = [c for i, p in enumerate(body.products) if (c := _change(i, p, problems))]
    if not problems:
        problems = check_changes(session, changes)
    if problems:
        session.rollback()
        return _refused(problems)
    try:
        report = apply_changes(session, changes, actor=_actor(token))
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(
            "Another change to the same products was stored at the same time; send again."
        ) from exc
    return UpsertOut(**report.as_json())
