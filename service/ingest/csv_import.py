"""CSV adapter: one row per line item, rows grouped into orders by `order_id`.

Columns (header row required, any order; `,` or `;` separated; UTF-8, an Excel BOM is fine):

    order_id       required  the order's id in the source (unique per channel)
    order_name               shown to people, e.g. "#1001" (default: order_id)
    ordered_at               ISO 8601, e.g. 2024-11-10T10:30:00+01:00 (no offset = UTC)
    currency       required  ISO 4217, e.g. EUR
    payment        required  paid | pending | cod | invoice (B2B on account: ships)
    total                    order total (default: sum of the lines)
    email, phone
    ship_name, ship_company, ship_street1, ship_street2, ship_postcode, ship_city,
    ship_region, ship_country (ISO code or common name)
    priority                 0 normal, 1 high, 2 express
    carrier, service, cutoff_at (ISO 8601)
    sku            required  per row
    name                     product name as sold
    quantity       required  1..10000
    unit_price, tax, discount  decimals with a dot, e.g. 12.50

Order-level columns are read from an order's first row; later rows of the same order may
repeat them or leave them empty, but a different value is an error. Any error rejects the
whole file with every problem and its line number; nothing is imported.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, TextIO

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from service.ingest.errors import field_path
from service.ingest.model import (
    Money,
    NormalisedLine,
    NormalisedOrder,
    PaymentState,
    Quantity,
    make_address,
)
from service.ingest.normalise import normalise_phone

MAX_ROWS = 100_000
REQUIRED_COLUMNS = ("order_id", "currency", "payment", "sku", "quantity")
ORDER_COLUMNS = (
    "order_name",
    "ordered_at",
    "currency",
    "payment",
    "total",
    "email",
    "phone",
    "ship_name",
    "ship_company",
    "ship_street1",
    "ship_street2",
    "ship_postcode",
    "ship_city",
    "ship_region",
    "ship_country",
    "priority",
    "carrier",
    "service",
    "cutoff_at",
)
LINE_COLUMNS = ("sku", "name", "quantity", "unit_price", "tax", "discount")
KNOWN_COLUMNS = frozenset(("order_id", *ORDER_COLUMNS, *LINE_COLUMNS))


class CsvRejected(Exception):
    """The file is malformed; `problems` lists each as "line N: column: what is wrong"."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the CSV file; nothing was imported.")
        self.problems = problems


class _Blank(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value


class CsvOrderFields(_Blank):
    """The order-level columns of an order's first row."""

    order_id: str = Field(min_length=1, max_length=64)
    order_name: str | None = Field(default=None, max_length=64)
    ordered_at: datetime | None = None
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    payment: Literal["paid", "pending", "cod", "invoice"]
    total: Money | None = None
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    ship_name: str | None = None
    ship_company: str | None = None
    ship_street1: str | None = None
    ship_street2: str | None = None
    ship_postcode: str | None = None
    ship_city: str | None = None
    ship_region: str | None = None
    ship_country: str | None = None
    priority: int = Field(default=0, ge=0, le=2)
    carrier: str | None = Field(default=None, max_length=40)
    service: str | None = Field(default=None, max_length=40)
    cutoff_at: datetime | None = None


class CsvLine(_Blank):
    """The line-item columns of one row."""

    sku: str = Field(min_length=1, max_length=64)
    name: str | None = Field(default=None, max_length=200)
    quantity: Quantity
    unit_price: Money = Decimal("0")
    tax: Money = Decimal("0")
    discount: Money = Decimal("0")


def _problem(line: int, exc: ValidationError) -> list[str]:
    return [
        f"line {line}: {field_path(tuple(e['loc'])) or 'row'}: {e['msg']}" for e in exc.errors()
    ]


def _utc(value: datetime | None) -> datetime | None:
    # A time without an offset in a warehouse file is taken as UTC, never as local time.
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _order(head: CsvOrderFields, lines: list[CsvLine]) -> NormalisedOrder:
    ship = make_address(
        name=head.ship_name,
        company=head.ship_company,
        street1=head.ship_street1,
        street2=head.ship_street2,
        postcode=head.ship_postcode,
        city=head.ship_city,
        region=head.ship_region,
        country=head.ship_country,
        phone=head.phone,
    )
    normalised = tuple(
        NormalisedLine(
            sku=ln.sku,
            name=ln.name or "",
            quantity=ln.quantity,
            unit_price=ln.unit_price,
            tax=ln.tax,
            discount=ln.discount,
        )
        for ln in lines
    )
    total = head.total
    if total is None:
        total = max(
            sum((x.unit_price * x.quantity + x.tax - x.discount for x in normalised), Decimal(0)),
            Decimal(0),
        )
    payment = PaymentState.PAID if head.payment == "invoice" else PaymentState(head.payment)
    return NormalisedOrder(
        channel_order_id=head.order_id,
        channel_order_name=head.order_name or head.order_id,
        currency=head.currency,
        total=total,
        payment_state=payment,
        payment_method=head.payment,
        email=head.email or "",
        phone=normalise_phone(head.phone, ship.country) or "",
        shipping_address=ship,
        priority=head.priority,
        cutoff_at=_utc(head.cutoff_at),
        carrier=head.carrier or "",
        service=head.service or "",
        ordered_at=_utc(head.ordered_at),
        lines=normalised,
    )


def _dialect(first_line: str) -> str:
    return ";" if first_line.count(";") > first_line.count(",") else ","


def parse_csv(stream: TextIO) -> list[NormalisedOrder]:
    """Every order in the file, or CsvRejected listing every problem with its line number."""
    first = stream.readline()
    rows: Iterable[str] = [first, *stream]
    reader = csv.DictReader(rows, delimiter=_dialect(first))
    columns = [c.strip() for c in reader.fieldnames or []]
    reader.fieldnames = columns
    problems: list[str] = []
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise CsvRejected([f"line 1: header: missing column(s) {', '.join(missing)}"])
    unknown = sorted(set(columns) - KNOWN_COLUMNS - {""})
    if unknown:
        problems.append(f"line 1: header: unknown column(s) {', '.join(unknown)}")
    heads: dict[str, tuple[int, Mapping[str, str]]] = {}
    grouped: dict[str, list[CsvLine]] = {}
    for row in reader:
        line = reader.line_num
        if reader.line_num > MAX_ROWS + 1:
            problems.append(f"line {line}: file: more than {MAX_ROWS} rows; split the file")
            break
        if None in row:
            problems.append(f"line {line}: row: more fields than the header has columns")
            continue
        values = {k: (v or "").strip() for k, v in row.items()}
        if not any(values.values()):
            continue  # blank line
        order_id = values.get("order_id", "")
        if not order_id:
            problems.append(f"line {line}: order_id: every row needs an order_id")
            continue
        try:
            grouped.setdefault(order_id, []).append(CsvLine.model_validate(values))
        except ValidationError as exc:
            problems.extend(_problem(line, exc))
        if order_id not in heads:
            heads[order_id] = (line, values)
            continue
        first_line, head = heads[order_id]
        for col in ORDER_COLUMNS:
            if values.get(col) and head.get(col) and values[col] != head[col]:
                problems.append(
                    f"line {line}: {col}: {values[col]!r} differs from {head[col]!r} "
                    f"on line {first_line} of the same order"
                )
    orders: list[NormalisedOrder] = []
    for order_id, (line, head) in heads.items():
        try:
            fields = CsvOrderFields.model_validate(head)
            if not problems:
                orders.append(_order(fields, grouped[order_id]))
        except ValidationError as exc:
            problems.extend(_problem(line, exc))
    if problems:
        raise CsvRejected(problems)
    if not orders:
        raise CsvRejected(["line 2: file: no order rows"])
    return orders
