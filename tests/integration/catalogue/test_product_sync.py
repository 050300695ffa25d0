"""`packbench-service product sync` against a fake Shopify GraphQL Admin API on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from service.db import transaction
from service.models import Channel, Product, ProductListing
from service.secrets_store import SERVICE_NAME
from tests.integration.catalogue.conftest import held_shopify_order, order_by_channel_id
from tests.support.fake_shopify_catalogue import product, running_fake_catalogue, variant
from tests.support.keyrings import FileKeyring
from tests.support.service_process import run_cli


def _catalogue() -> list[dict[str, object]]:
    blue = variant(
        1,
        "MUG-350-BLU",
        barcode="4006381333931",
        title="Blau",
        weight=(450, "GRAMS"),
        image="https://cdn.shopify.com/blau.jpg",
    )
    socks = [
        variant(100 + i, f"SOCK-{i:03d}", title=f"Size {i}", weight=(2, "OUNCES"))
        for i in range(120)
    ]
    plate = variant(3, "PLATE-24", weight=(0.35, "KILOGRAMS"))
    lamp = variant(4, "LAMP-OLD", weight=(1, "POUNDS"))
    items = [
        product(8123456789012, "Trail Mug 350 ml", [blue, variant(2, "", title="Sample")]),
        product(8123456789013, "Enamel Plate 24 cm", [plate]),
        product(8123456789014, "Sock", socks),
        product(8123456789015, "Old lamp", [lamp], status="ARCHIVED"),
    ]
    items += [
        product(9000 + i, f"Filler {i}", [variant(5000 + i, f"FILL-{i:02d}")]) for i in range(20)
    ]
    return items  # type: ignore[return-value]


def _configure(
    sessions: sessionmaker[Session], url: str, tmp_path: Path, mp: pytest.MonkeyPatch
) -> None:
    with transaction(sessions) as s:
        s.execute(update(Channel).where(Channel.name == "shop").values(settings={"shop_url": url}))
    mp.setenv("PACKBENCH_TEST_KEYRING_FILE", str(tmp_path / "keyring.json"))
    FileKeyring().set_password(SERVICE_NAME, "shopify:shop:token", "shpat-test")


def test_sync_pages_through_the_whole_catalogue_and_releases_held_orders(
    service_db: tuple[str, Engine],
    client: TestClient,
    shops: sessionmaker[Session],
    cli_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, _ = service_db
    held = held_shopify_order(client, shops, 9501)
    with running_fake_catalogue() as fake:
        fake.products = _catalogue()
        fake.graphql_fail_next = ["throttled"]  # the first call is throttled and retried
        _configure(shops, fake.url, tmp_path, monkeypatch)

        run = run_cli("product", "sync", "--channel", "shop", "--db", url, env=cli_env)

        assert run.returncode == 0, run.stderr
        assert (
            "24 shop product(s), 144 variant(s): 143 created, 0 updated, 0 unchanged, 1 skipped"
            in run.stdout
        )
        assert f"orders no longer on hold: {held.number}" in run.stdout
        # The throttled try was retried; then three pages of products (10, 10, 4), and the
        # 120 socks completed with two more variant pages.
        assert fake.graphql_fail_next == []
        product_pages = [q for q in fake.queries if "first" in q]
        assert [q.get("after") is None for q in product_pages] == [True, False, False]
        variant_pages = [q for q in fake.queries if "id" in q]
        assert [q["id"] for q in variant_pages] == ["gid://shopify/Product/8123456789014"] * 2

        again = run_cli("product", "sync", "--channel", "shop", "--db", url, env=cli_env)
        assert again.returncode == 0, again.stderr
        assert "0 created, 0 updated, 143 unchanged" in again.stdout

    with shops() as s:
        mug = s.scalar(select(Product).where(Product.sku == "MUG-350-BLU"))
        assert mug is not None
        assert (mug.name, mug.weight_grams, mug.image_url) == (
            "Trail Mug 350 ml - Blau", 450, "https://cdn.shopify.com/blau.jpg"
        )  # fmt: skip
        assert [g.gtin14 for g in mug.gtins] == ["04006381333931"]
        weights = dict(
            s.execute(select(Product.sku, Product.weight_grams).where(
                Product.sku.in_(["PLATE-24", "SOCK-119", "LAMP-OLD", "FILL-00"])
            )).tuples().all()
        )  # fmt: skip
        lamp = s.scalar(select(Product.active).where(Product.sku == "LAMP-OLD"))
        plate = s.scalar(select(Product.image_url).where(Product.sku == "PLATE-24"))
        socks = s.scalar(
            select(func.count()).select_from(Product).where(Product.sku.like("SOCK-%"))
        )
        listings = s.scalar(select(func.count()).select_from(ProductListing))
    assert weights == {"PLATE-24": 350, "SOCK-119": 57, "LAMP-OLD": 454, "FILL-00": None}
    assert lamp is False and socks == 120 and listings == 143
    assert plate == "https://cdn.shopify.com/s/files/1/products/8123456789013.jpg"
    assert order_by_channel_id(shops, "9501").status == "confirmed"


def test_sync_refuses_clearly_what_it_cannot_do(
    service_db: tuple[str, Engine],
    shops: sessionmaker[Session],
    cli_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, _ = service_db

    def sync(channel: str) -> str:
        run = run_cli("product", "sync", "--channel", channel, "--db", url, env=cli_env)
        assert run.returncode == 1 and "Traceback" not in run.stderr
        return run.stderr.strip()

    assert "Channel 'woo' is a woocommerce channel" in sync("woo")
    assert "No channel named 'nope'" in sync("nope")
    assert "Channel 'shop' has no shop_url setting." in sync("shop")
    with running_fake_catalogue() as fake:
        with transaction(shops) as s:
            s.execute(
                update(Channel)
                .where(Channel.name == "shop")
                .values(settings={"shop_url": fake.url})
            )
        monkeypatch.setenv("PACKBENCH_TEST_KEYRING_FILE", str(tmp_path / "keyring.json"))
        assert "No access token for channel 'shop'" in sync("shop")
        FileKeyring().set_password(SERVICE_NAME, "shopify:shop:token", "wrong-token")
        assert "The shop refused the request (401)" in sync("shop")
    with shops() as s:
        assert s.scalar(select(func.count()).select_from(Product)) == 0
