"""Available stock goes to the shops as durable `stock_publish` jobs, run by the real
`packbench-service jobs run-due`: coalesced (a burst sends the last figure once), retried
while a shop is down and dead-lettered with the reason, and a restocked return publishes.
SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.db import transaction, utcnow
from service.ingest.rows import IngestResult
from service.jobs.queue import RetryPolicy, claim
from service.models import Channel, Order, OutboundJob, Product, ProductListing
from service.returns.desk import create, receive
from service.returns.states import Disposition
from service.stock.ledger import level
from service.stock.operations import adjust_and_allocate
from tests.integration.returns.conftest import shipped
from tests.integration.stock.conftest import ingest, stocked
from tests.support import factories
from tests.support.fake_shops import FakeShops, running_fake_shops
from tests.support.keyrings import FileKeyring
from tests.support.service_process import child_env, run_cli

__all__ = ["ingest", "shipped", "stocked"]

LOCATION = "gid://shopify/Location/655441491"
MUG_ITEM = "gid://shopify/InventoryItem/49148385"
OTHER_ITEM = "gid://shopify/InventoryItem/49148386"


@pytest.fixture
def shops() -> Iterator[FakeShops]:
    with running_fake_shops() as f:
        yield f


@pytest.fixture
def env(
    stocked: sessionmaker[Session],
    shops: FakeShops,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """Shop `myshop` (Shopify) lists MUG as a variant; `woo` lists MUG as a variation of a
    variable product and PLATE as a simple product. Secrets in the test keyring."""
    keyring_file = tmp_path / "keyring.json"
    monkeypatch.setenv("PACKBENCH_TEST_KEYRING_FILE", str(keyring_file))
    ring = FileKeyring()
    ring.set_password("packbench-service", "shopify:myshop:token", "shpat-test")
    ring.set_password("packbench-service", "woocommerce:woo:consumer_key", "ck")
    ring.set_password("packbench-service", "woocommerce:woo:consumer_secret", "cs")
    shops.shopify_products["7001"] = [
        {"sku": "mug", "inventory_item": MUG_ITEM},  # the shop's SKU, not normalised
        {"sku": "MUG-XL", "inventory_item": OTHER_ITEM},
    ]
    shops.woo_products["8001"] = {
        "sku": "",
        "type": "variable",
        "manage_stock": False,
        "stock_quantity": None,
        "variations": {"8002": {"sku": "MUG", "manage_stock": False, "stock_quantity": None}},
    }
    shops.woo_products["8010"] = {"sku": "PLATE", "type": "simple", "stock_quantity": 0}
    with transaction(stocked) as s:
        shop = factories.channel(
            s, "myshop", "shopify", {"shop_url": shops.url, "location_id": "655441491"}
        )
        woo = factories.channel(s, "woo", "woocommerce", {"base_url": shops.url})
        mug, plate = (
            s.scalars(select(Product).where(Product.sku == sku)).one() for sku in ("MUG", "PLATE")
        )
        s.add_all(
            [
                ProductListing(channel_id=shop.id, shop_product_id="7001", product_id=mug.id),
                ProductListing(channel_id=woo.id, shop_product_id="8001", product_id=mug.id),
                ProductListing(channel_id=woo.id, shop_product_id="8010", product_id=plate.id),
            ]
        )
    url = str(stocked.kw["bind"].url.render_as_string(hide_password=False))
    return child_env(keyring_file, url)


def _adjust(sessions: sessionmaker[Session], sku: str, qty: int) -> int:
    with sessions() as s:
        after, _ = adjust_and_allocate(s, sku, quantity=qty, reason="delivery", actor="test")
    return after.available


def _jobs(sessions: sessionmaker[Session], status: str | None = None) -> list[OutboundJob]:
    with sessions() as s:
        q = select(OutboundJob).where(OutboundJob.kind == "stock_publish")
        if status:
            q = q.where(OutboundJob.status == status)
        return list(s.scalars(q.order_by(OutboundJob.id)))


def _run_due(env: dict[str, str]) -> str:
    done = run_cli("jobs", "run-due", env=env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "shpat-test" not in done.stderr
    return done.stdout


def test_a_burst_of_movements_sends_the_last_figure_once_to_each_shop(
    stocked: sessionmaker[Session], shops: FakeShops, env: dict[str, str]
) -> None:
    for qty in (1, 2, 3, -1, 4):  # five movements, five transactions
        last = _adjust(stocked, "MUG", qty)
    assert last == 19
    pending = _jobs(stocked, "pending")
    with stocked() as s:
        channels = dict(s.execute(select(Channel.id, Channel.name)).tuples().all())
    assert sorted(channels[j.payload["channel_id"]] for j in pending) == ["myshop", "woo"]
    assert {j.target for j in pending} == {"myshop", "woo"}

    assert _run_due(env) == "Ran 2 job(s): 2 done, 0 to retry, 0 dead.\n"
    assert shops.stock_sets == [(MUG_ITEM, LOCATION, 19)]
    assert shops.woo_stock_puts == [
        ("products/8001/variations/8002", {"manage_stock": True, "stock_quantity": 19})
    ]
    assert shops.woo_products["8001"]["variations"]["8002"]["stock_quantity"] == 19
    sets = [b for _m, _p, b in shops.requests if "inventorySetQuantities(" in str(b)]
    assert len(sets) == 1 and sets[0]["variables"]["input"]["name"] == "available"
    assert sets[0]["variables"]["input"]["quantities"][0]["changeFromQuantity"] is None
    done = _jobs(stocked, "done")
    assert {j.payload["sent"]["quantity"] for j in done} == {19}

    # Nothing moved: nothing more is sent.
    assert _run_due(env) == "Ran 0 job(s): 0 done, 0 to retry, 0 dead.\n"
    # The next movement (PLATE on Woo only, MUG on both) queues new jobs with the new figure.
    _adjust(stocked, "MUG", -2)
    _adjust(stocked, "PLATE", 5)
    assert len(_jobs(stocked, "pending")) == 3
    assert _run_due(env) == "Ran 3 job(s): 3 done, 0 to retry, 0 dead.\n"
    assert shops.stock_sets[-1] == (MUG_ITEM, LOCATION, 17)
    assert shops.woo_products["8010"]["stock_quantity"] == 8
    assert shops.woo_products["8001"]["variations"]["8002"]["stock_quantity"] == 17
    assert len(shops.stock_sets) == 2 and len(shops.woo_stock_puts) == 3


def test_a_movement_while_a_job_runs_queues_a_new_one(
    stocked: sessionmaker[Session], env: dict[str, str]
) -> None:
    _adjust(stocked, "PLATE", 1)
    (first,) = _jobs(stocked, "pending")
    policy = RetryPolicy(lease_seconds=60)
    with stocked() as s, s.begin():  # a worker holds it: it may have read the figure already
        assert [j.id for j in claim(s, now=utcnow(), worker="w:1", policy=policy)] == [first.id]
    _adjust(stocked, "PLATE", 1)
    _adjust(stocked, "PLATE", 1)  # coalesced into the new one
    jobs = _jobs(stocked)
    assert (jobs[0].id, jobs[0].status) == (first.id, "running")
    assert [j.status for j in jobs[1:]] == ["pending"]
    assert jobs[1].dedupe_key is not None and jobs[0].dedupe_key is None


def test_a_shop_that_is_down_is_retried_then_dead_with_the_reason_and_retried_by_hand(
    stocked: sessionmaker[Session], shops: FakeShops, env: dict[str, str]
) -> None:
    env = {
        **env,
        "PACKBENCH_JOBS_BACKOFF_SECONDS": "0.2",
        "PACKBENCH_JOBS_MAX_DELAY_SECONDS": "0.4",
        "PACKBENCH_JOBS_MAX_ATTEMPTS": "3",
    }
    _adjust(stocked, "PLATE", 2)  # Woo only
    (job,) = _jobs(stocked, "pending")
    shops.fail_next[:] = [503] * 100  # the shop is down
    outs = []
    for _ in range(3):
        outs.append(_run_due(env))
        time.sleep(0.5)
    assert outs == [
        "Ran 1 job(s): 0 done, 1 to retry, 0 dead.\n",
        "Ran 1 job(s): 0 done, 1 to retry, 0 dead.\n",
        "Ran 1 job(s): 0 done, 0 to retry, 1 dead.\n",
    ]
    (dead,) = _jobs(stocked, "dead")
    assert dead.id == job.id and dead.attempts == 3
    assert dead.last_error == "stock of PLATE to woo: shop answered 503"
    listed = run_cli("jobs", "list", "--dead", env=env)
    assert "stock_publish" in listed.stdout and "stock of PLATE to woo" in listed.stdout

    # Stock moves while the job is dead: a new job, not the dead one, carries the change.
    _adjust(stocked, "PLATE", 1)
    (fresh,) = _jobs(stocked, "pending")
    assert fresh.id != job.id
    shops.fail_next.clear()
    assert run_cli("jobs", "retry", str(job.id), env=env).returncode == 0
    assert _run_due(env) == "Ran 2 job(s): 2 done, 0 to retry, 0 dead.\n"
    with stocked() as s:
        plate = s.scalars(select(Product).where(Product.sku == "PLATE")).one()
        assert level(s, plate.id).available == 6
    assert [b["stock_quantity"] for _w, b in shops.woo_stock_puts] == [6, 6]  # absolute, twice


def test_a_shop_channel_without_a_location_is_dead_at_once_saying_what_to_set(
    stocked: sessionmaker[Session], shops: FakeShops, env: dict[str, str]
) -> None:
    with transaction(stocked) as s:
        shop = s.scalars(select(Channel).where(Channel.name == "myshop")).one()
        shop.settings = {"shop_url": shops.url}
    _adjust(stocked, "MUG", 1)
    assert _run_due(env) == "Ran 2 job(s): 1 done, 0 to retry, 1 dead.\n"
    (dead,) = _jobs(stocked, "dead")
    assert dead.target == "myshop"
    assert dead.last_error is not None and "has no location_id" in dead.last_error
    assert "--location-id" in dead.last_error
    assert shops.stock_sets == []
    # An operator sets it with the channel command; the retried job sends the figure.
    assert (
        run_cli("channel", "update", "myshop", "--location-id", "655441491", env=env).returncode
        == 0
    )
    assert run_cli("jobs", "retry", str(dead.id), env=env).returncode == 0
    assert _run_due(env) == "Ran 1 job(s): 1 done, 0 to retry, 0 dead.\n"
    assert shops.stock_sets == [(MUG_ITEM, LOCATION, 11)]
    # A channel pinned to an API version before 2026-01 opts out of the compare the old way.
    assert (
        run_cli("channel", "update", "myshop", "--api-version", "2025-10", env=env).returncode == 0
    )
    _adjust(stocked, "MUG", 1)
    assert _run_due(env) == "Ran 2 job(s): 2 done, 0 to retry, 0 dead.\n"
    assert shops.stock_sets[-1] == (MUG_ITEM, LOCATION, 12)
    (old,) = [b for _m, p, b in shops.requests if "2025-10" in p and "inventorySet" in str(b)]
    assert "@idempotent" not in old["query"] and old["variables"]["input"]["ignoreCompareQuantity"]


def test_a_restocked_return_publishes_and_a_b_grade_unit_does_not(
    stocked: sessionmaker[Session],
    shops: FakeShops,
    env: dict[str, str],
    shipped: Callable[..., IngestResult],
) -> None:
    order = shipped({"MUG": 2})
    assert _run_due(env) == "Ran 2 job(s): 2 done, 0 to retry, 0 dead.\n"  # the pack
    assert shops.stock_sets == [(MUG_ITEM, LOCATION, 8)]
    with stocked() as s, s.begin():
        number = s.get_one(Order, order.order_id).number
        code = create(s, number, {"MUG": 2}, reason="too small", actor="test").code
    with stocked() as s, s.begin():
        receive(s, code, "MUG", Disposition.B_GRADE, reason="damaged", actor="test")
    assert _jobs(stocked, "pending") == []  # second quality is not sellable stock
    with stocked() as s, s.begin():
        receive(s, code, "MUG", Disposition.RESTOCK, reason=None, actor="test")
    assert {j.target for j in _jobs(stocked, "pending")} == {"myshop", "woo"}
    assert _run_due(env) == "Ran 2 job(s): 2 done, 0 to retry, 0 dead.\n"
    assert shops.stock_sets[-1] == (MUG_ITEM, LOCATION, 9)
    assert shops.woo_products["8001"]["variations"]["8002"]["stock_quantity"] == 9
