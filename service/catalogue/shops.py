"""Shop product shapes -> ProductChanges: Shopify (webhook REST product, GraphQL node) and
WooCommerce (REST v3 product or variation, as its webhooks send them).

One shop product becomes one change per variant that has a SKU (the warehouse unit); a
variant without a SKU cannot match an order line and is skipped. A barcode that is a GTIN
becomes one; any other barcode text becomes an alias; a digit string with a wrong check
digit is left out and reported, so a typo in the shop never stops a product from shipping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from service.catalogue.fields import (
    FieldError,
    grams,
    millimetres,
    parse_alias,
    parse_gtin,
    parse_name,
    parse_sku,
    parse_url,
)
from service.catalogue.store import Problem, ProductChange
from service.ingest.errors import from_validation_error

DEFAULT_VARIANT_TITLE = "Default Title"


@dataclass(frozen=True)
class ShopVariant:
    """One sellable variant as any shop describes it."""

    sku: str | None
    barcode: str | None = None
    title: str | None = None
    weight: tuple[Decimal, str] | None = None  # value and the shop's unit
    image_url: str | None = None


@dataclass
class ShopProduct:
    """One shop product: its id in the shop, title, whether it is sold, its variants."""

    shop_id: str
    title: str
    active: bool
    variants: list[ShopVariant] = field(default_factory=list)
    image_url: str | None = None
    size: tuple[Decimal, Decimal, Decimal, str] | None = None  # WooCommerce only


@dataclass
class ShopChanges:
    """The changes one or more shop products make, and what was left out."""

    changes: list[ProductChange] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: int = 0  # variants without a SKU


def _codes(barcode: str | None, where: str) -> tuple[dict[str, list[str]], list[str]]:
    code = (barcode or "").strip()
    if not code:
        return {"gtins": [], "aliases": []}, []
    if code.isdigit():
        try:
            return {"gtins": [parse_gtin(code, "barcode")], "aliases": []}, []
        except FieldError as exc:
            if len(code) in (8, 12, 13, 14):
                return {}, [f"{where}: barcode left out: {exc.message}"]
    try:
        return {"gtins": [], "aliases": [parse_alias(code, "barcode")]}, []
    except FieldError as exc:
        return {}, [f"{where}: barcode left out: {exc.message}"]


def changes_of(products: list[ShopProduct], channel_id: int) -> ShopChanges:
    """Every variant with a SKU as a ProductChange linked to its shop product."""
    out = ShopChanges()
    item = 0
    for product in products:
        for variant in product.variants:
            item += 1
            where = f"product {product.shop_id}"
            if not (variant.sku or "").strip():
                out.skipped += 1
                continue
            try:
                values = _values(product, variant, where, out.problems, item)
                sku = parse_sku(variant.sku or "", "sku")
            except FieldError as exc:
                out.problems.append(Problem(item, exc.field, f"{where}: {exc.message}"))
                continue
            out.changes.append(
                ProductChange(
                    sku,
                    values,
                    row=item,
                    listing=(channel_id, product.shop_id),
                    label=f"{where} (SKU {sku})",
                )
            )
    return out


def _values(
    product: ShopProduct, variant: ShopVariant, where: str, problems: list[Problem], item: int
) -> dict[str, Any]:
    title = product.title
    if variant.title and variant.title != DEFAULT_VARIANT_TITLE:
        title = f"{title} - {variant.title}"
    values: dict[str, Any] = {"name": parse_name(title[:200], "title"), "active": product.active}
    codes, notes = _codes(variant.barcode, where)
    values.update(codes)
    problems.extend(Problem(item, "barcode", note) for note in notes)
    if variant.weight is not None:
        values["weight_grams"] = grams(variant.weight[0], variant.weight[1], "weight_unit")
    image = variant.image_url or product.image_url
    if image:
        values["image_url"] = parse_url(image, "image")
    if product.size is not None:
        length, width, height, unit = product.size
        values.update(
            length_mm=millimetres(length, unit, "dimensions"),
            width_mm=millimetres(width, unit, "dimensions"),
            height_mm=millimetres(height, unit, "dimensions"),
        )
    return values


# --------------------------------------------------------------------------- Shopify


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _ShopifyImage(_Model):
    id: int | None = None
    src: str | None = None


class _ShopifyVariant(_Model):
    id: int | None = None
    sku: str | None = None
    barcode: str | None = None
    title: str | None = None
    weight: Decimal | None = None
    weight_unit: str | None = None
    grams: int | None = None
    image_id: int | None = None


class _ShopifyProduct(_Model):
    id: int
    title: str
    status: str | None = None
    image: _ShopifyImage | None = None
    images: list[_ShopifyImage] = []
    variants: list[_ShopifyVariant] = []


class _ShopDeleted(_Model):
    id: int | str


def shopify_product(payload: Any) -> ShopProduct:
    """A products/create or products/update body (the REST Product object)."""
    try:
        p = _ShopifyProduct.model_validate(payload)
    except ValidationError as exc:
        raise from_validation_error(exc) from exc
    images = {i.id: i.src for i in p.images if i.id is not None}
    variants = []
    for v in p.variants:
        weight: tuple[Decimal, str] | None = None
        if v.weight is not None and v.weight_unit:
            weight = (v.weight, v.weight_unit)
        elif v.grams is not None:  # older API versions send grams alone
            weight = (Decimal(v.grams), "g")
        image = images.get(v.image_id) if v.image_id is not None else None
        variants.append(ShopVariant(v.sku, v.barcode, v.title, weight, image))
    return ShopProduct(
        shop_id=str(p.id),
        title=p.title,
        active=(p.status or "active").lower() != "archived",
        variants=variants,
        image_url=p.image.src if p.image else None,
    )


def deleted_id(payload: Any) -> str:
    """The shop's product id in a products/delete or product.deleted body."""
    try:
        return str(_ShopDeleted.model_validate(payload).id)
    except ValidationError as exc:
        raise from_validation_error(exc) from exc


def _url(node: Any, *path: str) -> str | None:
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node if isinstance(node, str) else None


def shopify_graphql_product(node: dict[str, Any], variants: list[dict[str, Any]]) -> ShopProduct:
    """A `products` node of the GraphQL Admin API and all its variant nodes."""
    out: list[ShopVariant] = []
    for v in variants:
        weight = None
        measured = _url_dict(v, "inventoryItem", "measurement", "weight")
        if measured and measured.get("value") is not None and measured.get("unit"):
            try:
                weight = (Decimal(str(measured["value"])), str(measured["unit"]))
            except InvalidOperation:
                weight = None
        image = _url(v, "image", "url")
        out.append(ShopVariant(v.get("sku"), v.get("barcode"), v.get("title"), weight, image))
    gid = str(node.get("id", ""))
    return ShopProduct(
        shop_id=gid.rsplit("/", 1)[-1],
        title=str(node.get("title") or ""),
        active=str(node.get("status") or "ACTIVE").upper() != "ARCHIVED",
        variants=out,
        image_url=_url(node, "featuredMedia", "preview", "image", "url"),
    )


def _url_dict(node: Any, *path: str) -> dict[str, Any] | None:
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node if isinstance(node, dict) else None


# --------------------------------------------------------------------------- WooCommerce


class _WooImage(_Model):
    src: str | None = None


class _WooDimensions(_Model):
    length: str = ""
    width: str = ""
    height: str = ""


class _WooProduct(_Model):
    id: int
    parent_id: int = 0
    name: str = ""
    sku: str = ""
    status: str = "publish"
    type: str = "simple"
    weight: str = ""
    dimensions: _WooDimensions | None = None
    images: list[_WooImage] = []
    image: _WooImage | None = None  # a variation has one image, not a list
    global_unique_id: str = ""  # GTIN, UPC, EAN or ISBN (WooCommerce 9.2+)


def woo_product(payload: Any, settings: dict[str, Any]) -> ShopProduct:
    """A product.created/updated/restored body; units come from the channel settings
    `weight_unit` (WooCommerce's default kg) and `dimension_unit` (default cm)."""
    try:
        p = _WooProduct.model_validate(payload)
    except ValidationError as exc:
        raise from_validation_error(exc) from exc
    weight_unit = str(settings.get("weight_unit") or "kg")
    length_unit = str(settings.get("dimension_unit") or "cm")
    weight = None
    if p.weight.strip():
        weight = (_decimal(p.weight, "weight"), weight_unit)
    size = None
    d = p.dimensions
    if d is not None and d.length.strip() and d.width.strip() and d.height.strip():
        size = (
            _decimal(d.length, "dimensions.length"),
            _decimal(d.width, "dimensions.width"),
            _decimal(d.height, "dimensions.height"),
            length_unit,
        )
    image = p.image.src if p.image else (p.images[0].src if p.images else None)
    variant = ShopVariant(p.sku, p.global_unique_id, None, weight, image)
    return ShopProduct(
        # A variation is listed under its parent, so deleting the parent finds it.
        shop_id=str(p.parent_id or p.id),
        title=p.name,
        active=p.status != "trash",
        variants=[variant],
        size=size,
    )


def _decimal(text: str, field_name: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation as exc:
        raise FieldError(field_name, f"{text!r} is not a number.") from exc
    if value < 0:
        raise FieldError(field_name, f"{text!r} is negative.")
    return value
