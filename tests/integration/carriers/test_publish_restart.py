"""The real `packbench-service serve` publishes to shops in the background, across restarts.

A shop that is down when the service stops still hears of the order after the restart, once;
a shop that never answers ends in the dead-letter list (CLI and API), and an operator's retry
publishes it. SQLite and PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from service.db import utcnow
from service.models import ApiToken, Channel, OutboundJob
from service.security import token_hash
from service.shipping.dispatch import close_day
from service.shipping.publish import enqueue_publications
from tests.integration.carriers.conftest import pack
from tests.support.fake_shops import FakeShops, running_fake_shops
from tests.support.keyrings import FileKeyring
from tests.support.service_process import ServiceProcess, child_env, free_port, run_cli

TOKEN = "op-restart-token"


@pytest.fixture
def shops() -> Iterator[FakeShops]:
    with running_fake_shops() as f:
        yield f


def _wait(
    sessions: sessionmaker[Session], job_id: int, done: Callable[[OutboundJob], bool]
) -> OutboundJob:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with sessions() as s:
            job = s.get_one(OutboundJob, job_id)
        if done(job):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} stuck: {job.status} after {job.attempts} attempt(s)")


def test_publish_jobs_resume_after_a_restart_and_dead_ones_are_retried(
    service_db: tuple[str, Engine],
    sessions: sessionmaker[Session],
    make_order: Callable[..., int],
    shops: FakeShops,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, _engine = service_db
    keyring_file = tmp_path / "keyring.json"
    monkeypatch.setenv("PACKBENCH_TEST_KEYRING_FILE", str(keyring_file))
    FileKeyring().set_password("packbench-service", "shopify:myshop:token", "shpat-test")
    FileKeyring().set_password("packbench-service", "shopify:gone:token", "shpat-test")
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens: every try fails
    flaky = make_order(
        channel="myshop", kind="shopify", settings={"shop_url": shops.url}, channel_order_id="930"
    )
    lost = make_order(
        channel="gone", kind="shopify", settings={"shop_url": nowhere}, channel_order_id="931"
    )
    for oid in (flaky, lost):
        pack(sessions, oid, [1300])
    with sessions() as s, s.begin():
        shipped = close_day(s, "house", actor="test").shipped_order_ids
        flaky_job, lost_job = enqueue_publications(s, shipped, now=utcnow())
        s.add(ApiToken(token_hash=token_hash(TOKEN), role="operator", name="desk"))

    env = child_env(keyring_file, url)
    env.update(
        PACKBENCH_SCHEDULER="on",
        PACKBENCH_JOBS_EVERY="0.2",
        PACKBENCH_RECONCILE_EVERY="0",
        PACKBENCH_TRACKING_EVERY="0",
        PACKBENCH_JOBS_BACKOFF_SECONDS="0.5",
        PACKBENCH_JOBS_MAX_DELAY_SECONDS="1",
        PACKBENCH_JOBS_MAX_ATTEMPTS="6",
    )
    shops.fail_next[:] = [503] * 10_000  # the shop is down
    with ServiceProcess(url, env, tmp_path / "first.log"):
        before = _wait(sessions, flaky_job, lambda j: j.attempts >= 2)
    with sessions() as s:
        stopped = s.get_one(OutboundJob, flaky_job)
    assert stopped.status == "pending" and stopped.last_error == "shop answered 503"
    assert stopped.attempts >= before.attempts and not shops.fulfilled
    assert "scheduler stopped" in (tmp_path / "first.log").read_text()  # a clean shutdown

    shops.fail_next.clear()  # the shop is back while the service was stopped
    service = ServiceProcess(url, env, tmp_path / "second.log").start()
    try:
        done = _wait(sessions, flaky_job, lambda j: j.status == "done")
        assert done.attempts == stopped.attempts + 1
        dead = _wait(sessions, lost_job, lambda j: j.status == "dead")
        assert dead.attempts == 6 and dead.last_error == "cannot reach the shop (ConnectError)"

        listed = run_cli("jobs", "list", "--dead", "--db", url, env=env)
        assert listed.returncode == 0, listed.stderr
        (row,) = listed.stdout.splitlines()[1:]
        assert row.split("\t")[:6] == [str(lost_job), "publish", "dead", "6", str(lost), "gone"]
        api = httpx.get(
            f"{service.base_url}/v1/jobs",
            params={"status": "dead"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert [j["id"] for j in api.json()] == [lost_job]

        with sessions() as s, s.begin():  # an operator points the channel at the right shop
            channel = s.scalars(select(Channel).where(Channel.name == "gone")).one()
            channel.settings = {"shop_url": shops.url}
        again = run_cli("jobs", "retry", str(lost_job), "--db", url, env=env)
        assert again.returncode == 0, again.stderr
        retried = _wait(sessions, lost_job, lambda j: j.status == "done")
        assert retried.attempts == 1
        time.sleep(0.5)  # a few more worker passes: nothing is published twice
    finally:
        service.stop()
    assert set(shops.fulfilled) == {"930", "931"}
    creates = [b for _m, _p, b in shops.requests if "fulfillmentCreate(" in str(b)]
    assert len(creates) == 2
    for log in (tmp_path / "first.log", tmp_path / "second.log"):
        text = log.read_text()
        assert "Traceback" not in text and "shpat-test" not in text


def test_a_service_killed_mid_call_publishes_once_after_the_restart(
    service_db: tuple[str, Engine],
    sessions: sessionmaker[Session],
    make_order: Callable[..., int],
    shops: FakeShops,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, _engine = service_db
    keyring_file = tmp_path / "keyring.json"
    monkeypatch.setenv("PACKBENCH_TEST_KEYRING_FILE", str(keyring_file))
    FileKeyring().set_password("packbench-service", "shopify:myshop:token", "shpat-test")
    oid = make_order(
        channel="myshop", kind="shopify", settings={"shop_url": shops.url}, channel_order_id="940"
    )
    pack(sessions, oid, [1300])
    with sessions() as s, s.begin():
        shipped = close_day(s, "house", actor="test").shipped_order_ids
        (job_id,) = enqueue_publications(s, shipped, now=utcnow())
    env = child_env(keyring_file, url)
    env.update(
        PACKBENCH_SCHEDULER="on",
        PACKBENCH_JOBS_EVERY="0.2",
        PACKBENCH_RECONCILE_EVERY="0",
        PACKBENCH_TRACKING_EVERY="0",
        PACKBENCH_JOBS_LEASE_SECONDS="2",
    )
    shops.delay_seconds = 5.0  # the shop is slow: the call is in flight when the kill lands
    service = ServiceProcess(url, env, tmp_path / "killed.log").start()
    try:
        _wait(sessions, job_id, lambda j: j.status == "running")
        assert service.proc is not None
        service.proc.kill()  # SIGKILL: no shutdown, the job stays claimed
        service.proc.wait(10)
    finally:
        service.stop()
    with sessions() as s:
        assert s.get_one(OutboundJob, job_id).status == "running"
    shops.delay_seconds = 0.0
    with ServiceProcess(url, env, tmp_path / "restarted.log"):
        done = _wait(sessions, job_id, lambda j: j.status == "done")  # once the lease ran out
        time.sleep(0.5)
    assert done.attempts == 2
    assert list(shops.fulfilled) == ["940"]
    assert sum(1 for _m, _p, b in shops.requests if "fulfillmentCreate(" in str(b)) == 1
