"""The webhook inbox in the real `serve` process: a busy service answers the shop 202 at
once, its applier is a child process at a lower CPU priority that dies with it (on
PostgreSQL; a thread on SQLite), and deliveries queued by a killed process are applied by
the next one, each once (both databases)."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, select

from service.ingest.inbox import APPLIER_NICE
from service.models import Base, Order, WebhookReceipt
from tests.support.service_process import ServiceProcess, child_env, run_cli
from tests.support.shop_payloads import shopify_headers, shopify_order

SECRET = "shpss_inbox_process_5c1e"
DELIVERIES = 40


def _post(client: httpx.Client, base: str, n: int) -> httpx.Response:
    body = json.dumps(shopify_order(9000 + n)).encode()
    return client.post(
        f"{base}/v1/channels/shopify/shop/webhooks",
        content=body,
        headers=shopify_headers(SECRET, body, delivery=f"proc-{n}"),
    )


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat's fields after the command name (state first), or None once gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rpartition(")")[2].split()


def _children(pid: int) -> list[int]:
    """The live processes whose parent is `pid` (zombies are dead: not counted)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and fields[0] != "Z" and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _applier(pid: int, engine: Engine) -> int | None:
    """The serving process's one child, its inbox's applier, at a lower CPU priority (on
    PostgreSQL; on SQLite a thread applies, and there is no child: None)."""
    if engine.dialect.name == "sqlite":
        assert _children(pid) == []  # /healthz answered: start-up, and any fork, is done
        return None
    deadline = time.monotonic() + 10
    while not (children := _children(pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(children) == 1, children
    fields = _stat(children[0])
    assert fields is not None
    assert int(fields[16]) - int(_stat(pid)[16]) == APPLIER_NICE  # type: ignore[index]
    return children[0]


def _gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fields = _stat(pid)
        if fields is None or fields[0] == "Z":
            return True
        time.sleep(0.05)
    return False


def _outcomes(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(WebhookReceipt.outcome, func.count()).group_by(WebhookReceipt.outcome)
        )
        return {outcome: n for outcome, n in rows}


def test_queued_deliveries_survive_a_killed_service_and_are_applied_once(
    service_db: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = service_db
    Base.metadata.drop_all(engine)
    env = child_env(tmp_path / "keyring.json")
    for args in (
        ["db", "upgrade"],
        ["channel", "add", "shopify", "--name", "shop", "--secret", "-"],
    ):
        done = run_cli(*args, "--db", url, env=env, input=SECRET + "\n")
        assert done.returncode == 0, done.stderr

    # No inline slot: every order delivery is checked, stored and answered 202. On
    # PostgreSQL the test holds the orders table in SHARE mode (inserts into it wait, the
    # receipts' inserts, which check their key into it, do not), so nothing is applied before
    # the kill.
    blocker = engine.connect()
    if engine.dialect.name == "postgresql":
        blocker.begin()
        blocker.exec_driver_sql("LOCK TABLE orders IN SHARE MODE")
    busy = ServiceProcess(url, {**env, "PACKBENCH_WEBHOOK_INLINE": "0"}, tmp_path / "a.log")
    try:
        with busy, httpx.Client(timeout=10) as client:
            answers = [_post(client, busy.base_url, n) for n in range(DELIVERIES)]
            assert {(r.status_code, r.json()["status"]) for r in answers} == {(202, "queued")}
            # A bad delivery is still refused at once, and stored nowhere.
            forged = client.post(
                f"{busy.base_url}/v1/channels/shopify/shop/webhooks",
                content=b'{"id": 1}',
                headers={"X-Shopify-Topic": "orders/create", "X-Shopify-Hmac-Sha256": "AAAA"},
            )
            assert forged.status_code == 401
            assert busy.proc is not None
            applier = _applier(busy.proc.pid, engine)
            busy.proc.kill()  # SIGKILL: whatever it was applying is rolled back
            busy.proc.wait(10)
            # The applier dies with it, as a thread would: nothing applies behind its back.
            assert applier is None or _gone(applier), f"applier {applier} outlived its service"
    finally:
        blocker.rollback()
        blocker.close()
    at_kill = _outcomes(engine)
    assert sum(at_kill.values()) == DELIVERIES
    if engine.dialect.name == "postgresql":
        assert at_kill == {"queued": DELIVERIES}

    # The next process applies what the killed one left, at start-up. Its scheduler starts
    # only after the applier is forked: a fork copies the locks a running thread holds.
    scheduled = {
        **env,
        "PACKBENCH_SCHEDULER": "on",
        "PACKBENCH_JOBS_EVERY": "0.2",
        "PACKBENCH_RECONCILE_EVERY": "0",
        "PACKBENCH_TRACKING_EVERY": "0",
    }
    with ServiceProcess(url, scheduled, tmp_path / "b.log") as again:
        assert again.proc is not None
        applier = _applier(again.proc.pid, engine)
        deadline = time.monotonic() + 60
        while _outcomes(engine).get("queued") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _outcomes(engine) == {"created": DELIVERIES}, again.log()
        with httpx.Client(timeout=10) as client:
            replay = _post(client, again.base_url, 0)
        assert (replay.status_code, replay.json()) == (
            200,
            {"status": "duplicate", "outcome": "created"},
        )
    # A graceful stop (SIGTERM) stops the applier first: none is left behind.
    assert "webhook inbox: the applier" not in again.log()  # no failure, no forced kill
    lines = again.log().splitlines()
    first = {
        key: next(i for i, line in enumerate(lines) if key in line)
        for key in ("scheduler: jobs every", "Waiting for application startup")
    }
    if engine.dialect.name == "postgresql":
        first["forked"] = next(i for i, line in enumerate(lines) if "applier process" in line)
        assert first["forked"] < first["scheduler: jobs every"], again.log()
    assert first["Waiting for application startup"] < first["scheduler: jobs every"], again.log()
    assert applier is None or _gone(applier, timeout=1), f"applier {applier} outlived serve"

    # An applier process that dies alone (killed, a bug) is named in the log, and its
    # process then applies each delivery while the shop waits: none is queued for an applier
    # that is gone. (SQLite applies in a thread of the serving process: nothing to kill.)
    made = DELIVERIES
    if engine.dialect.name == "postgresql":
        lone = ServiceProcess(url, {**env, "PACKBENCH_WEBHOOK_INLINE": "0"}, tmp_path / "c.log")
        with lone, httpx.Client(timeout=10) as client:
            assert lone.proc is not None
            gone = _applier(lone.proc.pid, engine)
            assert gone is not None
            os.kill(gone, signal.SIGKILL)
            assert _gone(gone)
            alone = _post(client, lone.base_url, DELIVERIES)
            assert (alone.status_code, alone.json()["status"]) == (200, "created"), lone.log()
            assert f"the applier process {gone} ended" in lone.log()
        made += 1

    with engine.connect() as conn:
        ids = conn.execute(select(Order.channel_order_id)).scalars().all()
    assert sorted(ids) == sorted(str(9000 + n) for n in range(made))

    shown = run_cli("channel", "inbox", "--db", url, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "shop\t0 queued\t0 failed" in shown.stdout


class _Workers(ServiceProcess):
    """`packbench-service serve --workers 2`, as on a real server."""

    def command(self) -> list[str]:
        return [*super().command(), "--workers", "2"]


def test_each_worker_forks_its_applier_without_a_warning(
    service_db: tuple[str, Engine], tmp_path: Path
) -> None:
    """Each of `serve --workers 2`'s workers forks an applier at start-up, beside uvicorn's
    health-check thread only (it waits on its pipe, holding no lock): no warning about
    threads at the fork, which every worker start on a real server logged before. And the
    workers' own log lines are kept, in the service's format (they had no handler)."""
    url, engine = service_db
    env = child_env(tmp_path / "keyring.json", url)
    with _Workers(url, env, tmp_path / "workers.log") as service:
        deadline = time.monotonic() + 30
        while service.log().count("startup complete") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    log = service.log()
    assert log.count("Application startup complete") == 2, log
    if engine.dialect.name == "postgresql":
        assert log.count("INFO service.ingest.inbox: webhook inbox: applier process") == 2, log
    assert "forked while other threads run" not in log, log
