"""`/v1/products` over HTTP against the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.models import Order, Product
from tests.integration.catalogue.conftest import held_shopify_order, order_by_channel_id
from tests.integration.ingest.conftest import count

MUG = {
    "sku": "mug-350-blu",
    "name": "Trail Mug 350 ml",
    "gtins": ["4006381333931"],
    "aliases": ["sup-77"],
    "weight_grams": 450,
    "length_mm": 120,
    "width_mm": 90,
    "height_mm": 100,
    "image_url": "https://cdn.example.com/mug.jpg",
    "serial_required": True,
    "serial_pattern": "SN[0-9]{8}",
}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_bulk_upsert_creates_reads_back_and_releases_the_held_order(
    client: TestClient, shops: sessionmaker[Session], operator_token: str
) -> None:
    held = held_shopify_order(client, shops, 8001)
    plate = {"sku": "PLATE-24", "name": "Enamel Plate 24 cm"}

    r = client.post("/v1/products", json={"products": [MUG, plate]}, headers=_auth(operator_token))

    assert r.status_code == 200, r.text
    assert r.json() == {
        "created": ["MUG-350-BLU", "PLATE-24"],
        "updated": [],
        "unchanged": [],
        "released_orders": [held.number],
    }
    assert order_by_channel_id(shops, "8001").status == "confirmed"
    one = client.get("/v1/products/Mug-350-Blu", headers=_auth(operator_token))
    assert one.status_code == 200
    got = one.json()
    assert got["gtins"] == ["04006381333931"] and got["aliases"] == ["SUP-77"]
    assert {k: got[k] for k in ("weight_grams", "serial_pattern", "active")} == {
        "weight_grams": 450,
        "serial_pattern": "SN[0-9]{8}",
        "active": True,
    }

    # PUT changes only what it names; a second identical call changes nothing.
    change = {"products": [{"sku": "PLATE-24", "weight_grams": 350, "active": False}]}
    for expected in ({"updated": ["PLATE-24"]}, {"unchanged": ["PLATE-24"]}):
        r = client.put("/v1/products", json=change, headers=_auth(operator_token))
        assert r.status_code == 200, r.text
        assert {k: v for k, v in r.json().items() if v} == expected
    with shops() as s:
        stored = s.scalar(select(Product).where(Product.sku == "PLATE-24"))
        assert stored is not None
        assert (stored.name, stored.weight_grams, stored.active) == (
            "Enamel Plate 24 cm",
            350,
            False,
        )


def test_list_pages_and_filters(
    client: TestClient, shops: sessionmaker[Session], operator_token: str
) -> None:
    products = [{"sku": f"SKU-{i:03d}", "name": f"Item {i}"} for i in range(7)]
    products.append({"sku": "OLD-1", "name": "Gone", "active": False})
    assert (
        client.post(
            "/v1/products", json={"products": products}, headers=_auth(operator_token)
        ).status_code
        == 200
    )

    page = client.get(
        "/v1/products",
        params={"limit": 3, "offset": 3, "active": True},
        headers=_auth(operator_token),
    ).json()
    assert page["total"] == 7 and page["limit"] == 3 and page["offset"] == 3
    assert [p["sku"] for p in page["items"]] == ["SKU-003", "SKU-004", "SKU-005"]
    found = client.get("/v1/products", params={"search": "gone"}, headers=_auth(operator_token))
    assert [p["sku"] for p in found.json()["items"]] == ["OLD-1"]
    missing = client.get("/v1/products/NOPE", headers=_auth(operator_token))
    assert missing.status_code == 404 and missing.json()["field"] == "sku"
    assert client.get("/v1/products").status_code == 401
    assert client.post("/v1/products", json={"products": products}).status_code == 401


def test_any_problem_answers_422_with_every_problem_and_stores_nothing(
    client: TestClient, shops: sessionmaker[Session], operator_token: str
) -> None:
    assert (
        client.post(
            "/v1/products",
            json={"products": [{"sku": "OTHER", "name": "Other", "gtins": ["96385074"]}]},
            headers=_auth(operator_token),
        ).status_code
        == 200
    )
    bad = [
        {"sku": "A-1", "name": "Bad digit", "gtins": ["4006381333932"]},
        {"sku": "B-2", "name": "Taken", "gtins": ["96385074"]},
        {"sku": "a-1", "name": "Twice"},
        {"sku": "C-3", "name": "Pattern only", "serial_pattern": "SN[0-9"},
        {"sku": "D-4"},
        {"sku": "E-5", "name": None},
    ]

    r = client.post("/v1/products", json={"products": bad}, headers=_auth(operator_token))

    assert r.status_code == 422
    problems = [(p["item"], p["field"]) for p in r.json()["problems"]]
    assert problems == [
        (0, "gtins[0]"),
        (3, "serial_pattern"),
        (5, "name"),
    ]
    assert count(shops, Product) == 1
    # With the value errors fixed, the problems between items and with the database remain.
    bad[0]["gtins"] = ["4006381333931"]
    bad[3]["serial_pattern"] = "SN[0-9]+"
    del bad[5]
    r = client.post("/v1/products", json={"products": bad}, headers=_auth(operator_token))
    assert r.status_code == 422
    messages = {(p["item"], p["field"]): p["message"] for p in r.json()["problems"]}
    assert messages == {
        (2, "sku"): "The SKU A-1 is already on products[0].",
        (4, "name"): "New product D-4 needs a name.",
        (3, "serial_pattern"): "A serial pattern is given but serial_required is no; set it "
        "to yes or leave the pattern empty.",
        (1, "gtins"): "The GTIN 00000096385074 already belongs to SKU OTHER.",
    }
    assert count(shops, Product) == 1
    with shops() as s:
        assert s.scalar(select(Order.id)) is None
