"""Shopify and WooCommerce product webhooks through the real app, on SQLite and PostgreSQL.

Bodies are the shops' documented product shapes (tests/support/shop_payloads)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from service.ingest.webhooks import forget_cached_channels
from service.models import (
    ChangeRow,
    Channel,
    OrderEvent,
    Product,
    ProductListing,
    WebhookReceipt,
)
from tests.integration.catalogue.conftest import held_shopify_order, order_by_channel_id
from tests.integration.ingest.conftest import count, shopify_post, woo_post
from tests.support.shop_payloads import load, shopify_order


def _product(sessions: sessionmaker[Session], sku: str) -> Product:
    with sessions() as s:
        product = s.scalar(select(Product).where(Product.sku == sku))
        assert product is not None, sku
        _ = (list(product.gtins), list(product.aliases))
        return product


def _shopify_product(**changes: Any) -> dict[str, Any]:
    body = load("shopify_products_create")
    body.update(changes)
    return body


def test_shop_products_arrive_and_the_held_order_leaves_its_hold_step_by_step(
    client: TestClient, shops: sessionmaker[Session]
) -> None:
    held = held_shopify_order(client, shops, 9001)

    r = shopify_post(client, _shopify_product(), topic="products/create", webhook_id="p-1")

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "products_upserted"
    assert body["created"] == ["MUG-350-BLU", "MUG-350-GRN"]
    assert body["skipped_without_sku"] == 1 and body["released_orders"] == []
    blue, green = _product(shops, "MUG-350-BLU"), _product(shops, "MUG-350-GRN")
    assert blue.name == "Trail Mug 350 ml - Blau"
    assert [g.gtin14 for g in blue.gtins] == ["04006381333931"]
    assert blue.weight_grams == 450
    assert blue.image_url is not None and blue.image_url.endswith("trail-mug-blau.jpg?v=1730448764")
    assert [a.code for a in green.aliases] == ["MUG350GRN"] and green.gtins == []
    assert green.weight_grams == 454  # 1 lb
    assert green.image_url is not None and "trail-mug.jpg" in green.image_url
    # Still held, now only for the plate.
    order = order_by_channel_id(shops, "9001")
    assert order.status == "on_hold"
    assert [r["message"] for r in order.hold_reasons] == [
        "No active product has the SKU 'PLATE-24'."
    ]

    # The plate comes from the WooCommerce shop: the Shopify order is released all the same.
    r = woo_post(client, load("woocommerce_product_created"), topic="product.created")

    assert r.status_code == 200, r.text
    assert r.json()["created"] == ["PLATE-24"]
    assert r.json()["released_orders"] == [held.number]
    plate = _product(shops, "PLATE-24")
    assert [g.gtin14 for g in plate.gtins] == ["00036000291452"]
    assert (plate.weight_grams, plate.length_mm, plate.width_mm, plate.height_mm) == (
        350,
        240,
        240,
        20,
    )
    assert plate.image_url == "https://shop.example.nl/wp-content/uploads/2024/11/enamel-plate.jpg"
    order = order_by_channel_id(shops, "9001")
    assert order.status == "confirmed" and all(ln.product_id for ln in order.lines)
    with shops() as s:
        kinds = [
            (e.type, e.to_status, e.actor)
            for e in s.scalars(
                select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)
            )
        ]
    assert kinds[-3:] == [
        ("hold_reasons_changed", None, "webhook:shop"),
        ("status_changed", "pending", "webhook:woo"),
        ("status_changed", "confirmed", "webhook:woo"),
    ]


def test_a_wrong_signature_is_401_and_stores_nothing(
    client: TestClient, shops: sessionmaker[Session]
) -> None:
    for post in (
        lambda: shopify_post(client, _shopify_product(), topic="products/create", secret="nope"),
        lambda: woo_post(
            client, load("woocommerce_product_created"), topic="product.created", secret="nope"
        ),
    ):
        r = post()
        assert r.status_code == 401
        assert r.json()["error"] == "invalid_signature"
    for model in (Product, ProductListing, WebhookReceipt, ChangeRow):
        assert count(shops, model) == 0, model.__name__


def test_a_repeated_delivery_is_applied_once(
    client: TestClient, shops: sessionmaker[Session]
) -> None:
    first = shopify_post(client, _shopify_product(), topic="products/create", webhook_id="d-1")
    renamed = _shopify_product(title="Renamed")
    again = shopify_post(client, renamed, topic="products/update", webhook_id="d-1")

    assert first.json()["status"] == "products_upserted"
    assert again.json() == {"status": "duplicate", "outcome": "products_upserted"}
    assert _product(shops, "MUG-350-BLU").name == "Trail Mug 350 ml - Blau"


def test_a_bad_barcode_or_a_taken_gtin_leaves_out_only_that_much(
    client: TestClient, shops: sessionmaker[Session]
) -> None:
    woo_post(client, load("woocommerce_product_created"), topic="product.created")
    body = _shopify_product()
    body["variants"][0]["barcode"] = "4006381333932"  # wrong check digit
    body["variants"][1]["barcode"] = "036000291452"  # the plate's GTIN

    r = shopify_post(client, body, topic="products/update")

    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["created"] == ["MUG-350-BLU"]
    assert answer["problems"] == [
        "product 8123456789012: barcode left out: '4006381333932' is not a valid GTIN: "
        "Invalid GTIN check digit for '4006381333932': Expected 1, got 2.",
        "The GTIN 00036000291452 already belongs to SKU PLATE-24.",
    ]
    assert _product(shops, "MUG-350-BLU").gtins == []
    with shops() as s:
        assert s.scalar(select(Product).where(Product.sku == "MUG-350-GRN")) is None


def test_a_deleted_shop_product_makes_its_skus_inactive_and_new_orders_hold(
    client: TestClient, shops: sessionmaker[Session]
) -> None:
    shopify_post(client, _shopify_product(), topic="products/create")
    woo_post(client, load("woocommerce_product_created"), topic="product.created")

    gone = shopify_post(client, {"id": 8123456789012}, topic="products/delete")
    woo_gone = woo_post(client, {"id": 794}, topic="product.deleted")

    assert gone.json() == {
        "status": "products_deactivated",
        "deactivated": ["MUG-350-BLU", "MUG-350-GRN"],
    }
    assert woo_gone.json()["deactivated"] == ["PLATE-24"]
    assert _product(shops, "MUG-350-BLU").active is False
    assert count(shops, ProductListing) == 0
    r = shopify_post(client, shopify_order(9100), webhook_id="o-9100")
    assert r.json()["order_status"] == "on_hold"
    assert {h["code"] for h in r.json()["hold_reasons"]} == {"unknown_sku"}

    # Archived in Shopify, then restored in WooCommerce: the same rules as for active.
    r = woo_post(
        client, load("woocommerce_product_created"), topic="product.restored", delivery_id="r-1"
    )
    assert r.json()["updated"] == ["PLATE-24"]
    assert _product(shops, "PLATE-24").active is True
    archived = shopify_post(client, _shopify_product(status="archived"), topic="products/update")
    assert archived.json()["unchanged"] == ["MUG-350-BLU", "MUG-350-GRN"]
    assert _product(shops, "MUG-350-BLU").active is False


def test_a_malformed_product_body_is_refused_naming_the_field(
    client: TestClient, shops: sessionmaker[Session]
) -> None:
    r = shopify_post(client, {"title": "No id"}, topic="products/create")
    assert r.status_code == 422
    assert r.json()["field"] == "id"
    body = load("woocommerce_product_created")
    body["weight"] = "heavy"
    r = woo_post(client, body, topic="product.updated")
    assert r.status_code == 422 and r.json()["field"] == "weight"
    assert count(shops, Product) == 0 and count(shops, WebhookReceipt) == 0


def test_woocommerce_variations_are_listed_under_their_parent(
    client: TestClient, shops: sessionmaker[Session]
) -> None:
    parent = load("woocommerce_product_created")
    parent.update(id=800, type="variable", sku="", variations=[801], global_unique_id="")
    variation = load("woocommerce_product_created")
    variation.update(
        id=801, parent_id=800, type="variation", sku="PLATE-24-RED", name="Enamel Plate - Red",
        weight="350", global_unique_id="",
    )  # fmt: skip
    woo = {"weight_unit": "g", "dimension_unit": "mm"}
    with shops() as s, s.begin():
        s.execute(update(Channel).where(Channel.name == "woo").values(settings=woo))
    forget_cached_channels()

    skipped = woo_post(client, parent, topic="product.created", delivery_id="v-0")
    made = woo_post(client, variation, topic="product.created", delivery_id="v-1")

    assert skipped.json()["created"] == [] and skipped.json()["skipped_without_sku"] == 1
    assert made.json()["created"] == ["PLATE-24-RED"]
    red = _product(shops, "PLATE-24-RED")
    assert (red.weight_grams, red.length_mm, red.height_mm) == (350, 24, 2)
    gone = woo_post(client, {"id": 800}, topic="product.deleted", delivery_id="v-2")
    assert gone.json()["deactivated"] == ["PLATE-24-RED"]
