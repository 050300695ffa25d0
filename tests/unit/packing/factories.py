"""Shared test values for the packing core: a small catalogue, an order, scans, a fake outbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.packing.events import PackEvent
from app.packing.model import DictCatalog, LineView, OrderView, ProductRef
from app.packing.session import PackSession
from app.packing.step import Step
from app.scanning.scan import Scan, ScanKind

MUG_GTIN13 = "4006381333931"
TOWEL_GTIN8 = "96385074"
PHONE_GTIN14 = "09506000134352"
SPARE_GTIN13 = "5012345678900"

MUG = ProductRef(1, "MUG-BLUE", "Blue Mug", 350, False, (MUG_GTIN13,), ("BM-01",))
TOWEL = ProductRef(2, "TOWEL-1", "Tea Towel", 80, False, (TOWEL_GTIN8,), ())
PHONE = ProductRef(3, "PHONE-X", "Phone X", 200, True, (PHONE_GTIN14,), ())
SPARE = ProductRef(4, "SPARE-9", "Spare Part", 10, False, (SPARE_GTIN13,), ("SP9",))


def line(line_id: int, product: ProductRef, quantity: int, *, with_codes: bool = True) -> LineView:
    """An order line for `product`; `with_codes=False` models a cache without GTINs/aliases."""
    return LineView(
        line_id=line_id,
        sku=product.sku,
        name=product.name,
        quantity=quantity,
        product_id=product.product_id,
        serial_required=product.serial_required,
        weight_grams=product.weight_grams,
        gtins=product.gtins if with_codes else (),
        aliases=product.aliases if with_codes else (),
    )


def order(*lines: LineView, number: str = "1001", status: str = "allocated") -> OrderView:
    """An order with id 7 holding lease epoch 3."""
    return OrderView(
        id=7,
        number=number,
        status=status,
        lines=tuple(lines),
        lease_epoch=3,
        carrier="dhl",
        tote="T-A17",
    )


MUG_ORDER = order(line(11, MUG, 3))
MIXED_ORDER = order(line(11, MUG, 2), line(12, TOWEL, 1), line(13, PHONE, 1))


def catalog() -> DictCatalog:
    return DictCatalog([MUG, TOWEL, PHONE, SPARE])


def product(text: str) -> Scan:
    """A PRODUCT scan as the scanning package would classify it."""
    return Scan(raw=text.encode(), text=text, kind=ScanKind.PRODUCT)


def gs1(gtin14: str | None, serial: str | None = None, **more: str) -> Scan:
    """A GS1 element-string scan with AI 01 and optionally AI 21 (and others)."""
    ais: dict[str, Any] = {}
    if gtin14 is not None:
        ais["01"] = gtin14
    if serial is not None:
        ais["21"] = serial
    ais.update({key.lstrip("_"): value for key, value in more.items()})
    text = "".join(f"({ai}){value}" for ai, value in ais.items())
    return Scan(raw=text.encode(), text=text, kind=ScanKind.GS1, ais=ais, gtin14=gtin14)


def kind(text: str, scan_kind: ScanKind, reason: str = "") -> Scan:
    return Scan(raw=text.encode(), text=text, kind=scan_kind, reason=reason)


@dataclass
class Station:
    """Drives a session the way the station does: record events, then apply the step."""

    session: PackSession = field(default_factory=lambda: PackSession(catalog(), packer_id=5))
    outbox: list[PackEvent] = field(default_factory=list)

    def do(self, step: Step) -> Step:
        self.outbox.extend(step.events)
        self.session.apply(step)
        return step

    def open(self, the_order: OrderView = MIXED_ORDER) -> Step:
        return self.do(self.session.open_order(the_order))

    def scan(self, scan: Scan) -> Step:
        return self.do(self.session.scan(scan))

    def scan_text(self, text: str) -> Step:
        return self.scan(product(text))

    def weigh(self, grams: int) -> Step:
        return self.do(self.session.weight(grams))

    def label(self, box_no: int | None = None) -> Step:
        box = box_no if box_no is not None else self.session.progress.box.box_no
        return self.do(self.session.label_printed(box))

    def close(self) -> Step:
        return self.do(self.session.close())
