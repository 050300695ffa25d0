"""Chaos for returns: Shopify return webhooks and a returns bench's pushes arrive, each sent
again on purpose, while `packbench-service serve` is SIGKILLed and restarted at random (its
scheduler publishing stock meanwhile). Every request is retried until answered, as shops and
station outboxes do. At the end the RMAs, their units, the stock ledger and the stock the
fake shop holds are exactly what was sent: nothing lost, nothing applied twice.
SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from service.api.app import create_app
from service.channels import add_channel, set_shipping
from service.db import make_sessionmaker, transaction
from service.models import (
    Order,
    OutboundJob,
    Product,
    ProductListing,
    Return,
    ReturnUnit,
    StationMutation,
    StockMovement,
    WebhookReceipt,
)
from service.stock.ledger import B_GRADE, check, level
from service.stock.operations import adjust
from tests.integration.returns.conftest import ship
from tests.integration.sync_server.conftest import enroll_station, mutation
from tests.support.fake_shops import FakeShops, running_fake_shops
from tests.support.keyrings import FileKeyring
from tests.support.service_process import ServiceProcess, child_env, free_port
from tests.support.shop_payloads import shopify_headers, shopify_order, shopify_return

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

SECRET = "shpss_chaos_0123456789"
ORDERS = 8
KILLS = 8  # a restart takes seconds on a busy CI box: more kills, longer run
MIN_KILLS = 4  # spread over the run: order i waits for i * MIN_KILLS // ORDERS kills
MUG, PLATE = "MUG-350-BLU", "PLATE-24"
MUG_ITEM, PLATE_ITEM = "gid://shopify/InventoryItem/1001", "gid://shopify/InventoryItem/1002"
LOCATION = "gid://shopify/Location/655441491"


@pytest.fixture
def shops() -> Iterator[FakeShops]:
    with running_fake_shops() as f:
        yield f


class Flaky:
    """The service process, killed and restarted on a thread until told to stop."""

    def __init__(self, url: str, env: dict[str, str], logs: Path, seed: int) -> None:
        self.url, self.env, self.logs = url, env, logs
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.rng = random.Random(seed)
        self.lives = 0
        self.kills = 0
        self.service = self._start()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _start(self) -> ServiceProcess:
        self.lives += 1
        path = self.logs / f"life-{self.lives}.log"
        return ServiceProcess(self.url, self.env, path, port=self.port).start(timeout=60)

    def _loop(self) -> None:
        while self.kills < KILLS and not self._stop.wait(self.rng.uniform(1.0, 3.0)):
            assert self.service.proc is not None
            self.service.proc.kill()  # SIGKILL: no shutdown, requests and jobs cut mid-way
            self.service.proc.wait(10)
            self.kills += 1
            self.service = self._start()

    def __enter__(self) -> Flaky:
        self._thread.start()
        return self

    def killed_at_least(self, n: int) -> None:
        """Wait until the service has been killed `n` times: the kills keep pace with the
        work, so a fast machine that sends everything within a second or two still sees
        them spread over the run rather than after it."""
        deadline = time.monotonic() + 120
        while self.kills < min(n, KILLS) and time.monotonic() < deadline:
            time.sleep(0.05)

    def calm(self) -> None:
        """No more kills; the service is running when this returns."""
        self._stop.set()
        self._thread.join(90)
        if self.service.proc is None or self.service.proc.poll() is not None:
            self.service = self._start()

    def __exit__(self, *_exc: object) -> None:
        self.calm()
        self.service.stop()


def _until_answered(send: Callable[[httpx.Client], httpx.Response]) -> httpx.Response:
    """Send until the service answers (it may be dead or starting); 5xx is sent again."""
    deadline = time.monotonic() + 120
    with httpx.Client(timeout=10) as client:
        while time.monotonic() < deadline:
            try:
                r = send(client)
            except httpx.TransportError:
                time.sleep(0.1)
                continue
            if r.status_code < 500:
                return r
            time.sleep(0.1)
    raise AssertionError("the service never answered")


def test_returns_survive_kills_and_duplicates_exactly_once(
    service_db: tuple[str, Engine],
    shops: FakeShops,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, engine = service_db
    sessions = make_sessionmaker(engine)
    keyring_file = tmp_path / "keyring.json"
    monkeypatch.setenv("PACKBENCH_TEST_KEYRING_FILE", str(keyring_file))
    FileKeyring().set_password("packbench-service", "shopify:shop:token", "shpat-test")
    shops.shopify_products["7001"] = [
        {"sku": MUG.lower(), "inventory_item": MUG_ITEM},
        {"sku": PLATE, "inventory_item": PLATE_ITEM},
    ]
    with transaction(sessions) as s:
        shop = add_channel(
            s,
            "shopify",
            "shop",
            secret=SECRET,
            settings={"shop_url": shops.url, "location_id": "655441491"},
        )
        assert shop.secret_ref is not None  # the service process reads it from its keyring
        FileKeyring().set_password("packbench-service", shop.secret_ref, SECRET)
        set_shipping(s, "shop", "DHL Paket", carrier="house", service="standard", actor="test")
        s.add_all([Product(sku=MUG, name="Mug"), Product(sku=PLATE, name="Plate")])
        s.flush()
        for p in s.scalars(select(Product)):
            s.add(ProductListing(channel_id=shop.id, shop_product_id="7001", product_id=p.id))
        adjust(s, MUG, quantity=40, reason="opening stock", actor="test")
        adjust(s, PLATE, quantity=20, reason="opening stock", actor="test")

    def webhook(
        client: Any, body: dict[str, Any], topic: str, delivery: str, base: str = ""
    ) -> Any:
        raw = json.dumps(body).encode()
        headers = shopify_headers(SECRET, raw, topic=topic, delivery=delivery)
        return client.post(
            f"{base}/v1/channels/shopify/shop/webhooks", content=raw, headers=headers
        )

    shop_ids = [5940139491000 + i for i in range(ORDERS)]
    for i in range(0, ORDERS, 2):  # the returns the shop announces, as Shopify holds them
        shops.add_return(str(7293819000 + i), [("13954720612514", MUG.lower(), 2)])
    with TestClient(create_app(engine)) as app:
        for sid in shop_ids:
            assert webhook(app, shopify_order(sid), "orders/create", f"o-{sid}").status_code == 200
        station = enroll_station(app, sessions, "returns-bench")
    with sessions() as s:
        order_ids = [
            s.scalars(select(Order.id).where(Order.channel_order_id == str(sid))).one()
            for sid in shop_ids
        ]
    for oid in order_ids:
        ship(sessions, oid)  # 2 MUG + 1 PLATE each left the shelf

    env = child_env(keyring_file, url)
    env.update(
        PACKBENCH_SCHEDULER="on",
        PACKBENCH_JOBS_EVERY="0.3",
        PACKBENCH_RECONCILE_EVERY="0",
        PACKBENCH_TRACKING_EVERY="0",
        PACKBENCH_JOBS_BACKOFF_SECONDS="0.2",
        PACKBENCH_JOBS_MAX_DELAY_SECONDS="0.5",
        PACKBENCH_JOBS_LEASE_SECONDS="2",
        PACKBENCH_JOBS_MAX_ATTEMPTS="1000",
    )
    rng = random.Random(2112)
    mids = iter(range(1, 10_000))
    sent_mutations: set[int] = set()

    def twice(send: Callable[[httpx.Client], httpx.Response]) -> httpx.Response:
        r = _until_answered(send)
        if rng.random() < 0.6:  # the same request again: a retry whose answer was lost
            again = _until_answered(send)
            assert again.status_code == r.status_code, again.text
        return r

    def push(flaky: Flaky, *muts: dict[str, Any]) -> list[dict[str, Any]]:
        sent_mutations.update(m["id"] for m in muts)
        body = {"station_id": station.id, "mutations": list(muts)}
        r = twice(
            lambda c: c.post(f"{flaky.base}/v1/sync/push", json=body, headers=station.headers)
        )
        assert r.status_code == 200, r.text
        results: list[dict[str, Any]] = r.json()["results"]
        assert all(x["status"] == "applied" for x in results), results
        return results

    def lookup(flaky: Flaky, code: str) -> dict[str, Any]:
        r = _until_answered(
            lambda c: c.get(
                f"{flaky.base}/v1/returns/lookup", params={"code": code}, headers=station.headers
            )
        )
        assert r.status_code == 200, r.text
        info: dict[str, Any] = r.json()
        return info

    with Flaky(url, env, tmp_path, seed=7) as flaky:
        for i, (sid, oid) in enumerate(zip(shop_ids, order_ids, strict=True)):
            flaky.killed_at_least(i * MIN_KILLS // ORDERS)
            with sessions() as s:
                number = s.get_one(Order, oid).number
            if i % 2 == 0:  # announced by the shop: two MUG come back
                body = shopify_return(return_id=7293819000 + i, order_id=sid)
                for topic, delivery in (
                    ("returns/request", f"r-{i}"),
                    ("returns/approve", f"a-{i}"),
                ):
                    r = twice(
                        lambda c, b=body, t=topic, d=delivery: webhook(c, b, t, d, flaky.base)
                    )
                    assert r.status_code == 200, r.text
                info = lookup(flaky, number)
                code = info["return_code"]
                assert code is not None
                mug = info["lines"][0]["line_id"]
                units = [("restock", mug, None), ("write_off", mug, "damaged")]
            else:  # unannounced at the bench: one MUG restocked, the PLATE to B-grade
                info = lookup(flaky, number)
                assert info["return_code"] is None
                mug, plate = (li["line_id"] for li in info["lines"])
                units = [("restock", mug, None), ("b_grade", plate, "damaged")]
                code = None
            for n, (disposition, line_id, reason) in enumerate(units):
                extra = {"reason": reason} if reason else {}
                push(
                    flaky,
                    mutation(
                        next(mids),
                        "return_unit_received",
                        oid,
                        None,
                        line_id=line_id,
                        disposition=disposition,
                        return_code=code,
                        **extra,
                    ),
                )
                if code is None and n == 0:
                    code = lookup(flaky, number)["return_code"]
                    assert code is not None
            push(flaky, mutation(next(mids), "return_closed", oid, None, return_code=code))
        flaky.killed_at_least(MIN_KILLS)  # the last while its jobs (stock, dispose) still run
        flaky.calm()
        kills = flaky.kills
        # The scheduler finishes what the kills interrupted (leases run out after 2 s).
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with sessions() as s:
                left = s.scalar(
                    select(func.count())
                    .select_from(OutboundJob)
                    .where(OutboundJob.status.in_(("pending", "running")))
                )
            if not left:
                break
            time.sleep(0.3)

    assert kills >= MIN_KILLS, f"only {kills} kills: the run proves little"
    with sessions() as s:
        assert check(s) == []  # every balance is the sum of its movements
        rmas = s.scalars(select(Return).order_by(Return.id)).all()
        assert len(rmas) == ORDERS and all(r.status == "closed" for r in rmas)
        assert sorted(r.channel_return_id for r in rmas if r.source == "shopify") == [
            str(7293819000 + i) for i in range(0, ORDERS, 2)
        ]
        assert sum(1 for r in rmas if r.source == "bench") == ORDERS // 2
        units = s.scalars(select(ReturnUnit.disposition)).all()
        assert sorted(units) == sorted(
            ["restock", "write_off"] * (ORDERS // 2) + ["restock", "b_grade"] * (ORDERS // 2)
        )
        moved = s.scalar(
            select(func.count())
            .select_from(StockMovement)
            .where(StockMovement.event_key.like("return:%"))
        )
        assert moved == 2 * ORDERS  # one movement per unit booked in, never two
        applied = s.scalars(select(StationMutation.mutation_id)).all()
        assert sorted(applied) == sorted(sent_mutations)
        receipts = s.execute(
            select(WebhookReceipt.webhook_id, func.count()).group_by(WebhookReceipt.webhook_id)
        ).all()
        assert all(n == 1 for _w, n in receipts)
        mug, plate = (
            s.scalars(select(Product.id).where(Product.sku == k)).one() for k in (MUG, PLATE)
        )
        mug_level, plate_level = level(s, mug), level(s, plate)
        assert mug_level.on_hand == 40 - 2 * ORDERS + ORDERS  # one MUG restocked per return
        assert plate_level.on_hand == 20 - ORDERS
        assert level(s, plate, B_GRADE).on_hand == ORDERS // 2
        jobs = s.scalars(select(OutboundJob).where(OutboundJob.kind == "stock_publish")).all()
        assert jobs and all(j.status == "done" for j in jobs), [
            (j.id, j.status, j.last_error) for j in jobs
        ]
        disposing = s.scalars(select(OutboundJob).where(OutboundJob.kind == "return_dispose"))
        assert all(j.status == "done" for j in disposing)
    # Every Shopify return disposed exactly once: one unit restocked, one not (written off).
    for i in range(0, ORDERS, 2):
        (item,) = shops.shopify_returns[str(7293819000 + i)]
        got = sorted((d["type"], d["quantity"]) for d in item["dispositions"])
        assert got == [("NOT_RESTOCKED", 1), ("RESTOCKED", 1)], (i, item["dispositions"])
    # The shop holds the ledger's figures (a RESTOCKED dispose adds to Shopify's count; the
    # stock publication after it puts the ledger's figure back).
    assert shops.inventory[(MUG_ITEM, LOCATION)] == mug_level.available
    assert shops.inventory[(PLATE_ITEM, LOCATION)] == plate_level.available
    for log in tmp_path.glob("life-*.log"):
        assert "shpat-test" not in log.read_text()
