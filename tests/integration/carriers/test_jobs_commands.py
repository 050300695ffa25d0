"""The jobs commands through the real entry point, and the scheduler thread of `serve`."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from service.db import utcnow
from service.jobs.queue import enqueue
from service.jobs.scheduler import Schedule, Scheduler
from service.models import Order, OrderException, OutboundJob
from tests.support.service_process import child_env, run_cli

T0 = datetime(2031, 5, 6, 7, 0, tzinfo=UTC)


def test_jobs_commands_list_run_dismiss_and_retry(
    service_db: tuple[str, Engine], sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    url, _engine = service_db
    env = child_env(tmp_path / "keyring.json", url)

    def cli(*args: str) -> tuple[int, str, str]:
        done = run_cli(*args, "--db", url, env=env)
        assert "Traceback" not in done.stderr
        return done.returncode, done.stdout, done.stderr

    assert cli("jobs", "list")[1].splitlines()[1:] == ["(no jobs)"]
    with sessions() as s, s.begin():
        # Due now by the clock the service process reads (it has no other).
        job_id = enqueue(s, "publish", now=utcnow(), dedupe_key="broken", target="myshop").id

    code, out, err = cli("jobs", "run-due")
    assert (code, out) == (0, "Ran 1 job(s): 0 done, 0 to retry, 1 dead.\n")
    assert f"job {job_id} (publish) dead after 1 attempt(s)" in err  # the log, on stderr
    code, out, _err = cli("jobs", "list", "--dead")
    (row,) = out.splitlines()[1:]
    fields = row.split("\t")
    assert fields[:6] == [str(job_id), "publish", "dead", "1", "-", "myshop"]
    assert fields[7] == f"job {job_id} names no order"

    assert cli("jobs", "retry", "9999") == (1, "", "packbench-service: error: No job 9999.\n")
    code, _out, err = cli("jobs", "dismiss", str(job_id))
    assert code == 2 and "--reason" in err  # argparse: the reason is required
    code, _out, err = cli("jobs", "dismiss", str(job_id), "--reason", "  ")
    assert code == 1 and "Say why" in err
    assert cli("jobs", "dismiss", str(job_id), "--reason", "a test order")[0] == 0
    code, out, _err = cli("jobs", "list", "--status", "dismissed")
    assert out.splitlines()[1].split("\t")[-1] == "a test order"
    code, _out, err = cli("jobs", "dismiss", str(job_id), "--reason", "again")
    assert code == 1 and "is dismissed" in err
    assert cli("jobs", "retry", str(job_id))[0] == 0
    with sessions() as s:
        job = s.get_one(OutboundJob, job_id)
    assert job.status == "pending" and job.attempts == 0
    assert cli("run-task", "reconcile") == (
        0,
        "reconcile: 0 stuck-order exception(s) opened.\n",
        "",
    )


def test_the_scheduler_runs_reconcile_and_jobs_on_its_clock_and_stops(
    sessions: sessionmaker[Session], make_order: Callable[..., int]
) -> None:
    oid = make_order()
    with sessions() as s, s.begin():
        s.get_one(Order, oid).created_at = T0
        job_id = enqueue(s, "publish", now=T0, order_id=oid).id  # an operator order: no-op
    later = T0 + timedelta(hours=30)  # paid 30 hours ago and not packed: stuck
    scheduler = Scheduler(
        sessions,
        Schedule(jobs_seconds=0.1, reconcile_seconds=0.1, tracking_seconds=0),
        clock=lambda: later,
        first_run_seconds=0,
    )
    assert [name for name, _every, _task in scheduler.tasks] == ["jobs", "reconcile"]
    scheduler.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with sessions() as s:
                stuck = s.scalars(
                    select(OrderException.code).where(OrderException.order_id == oid)
                ).all()
                status = s.get_one(OutboundJob, job_id).status
            if stuck and status == "done":
                break
            time.sleep(0.05)
    finally:
        scheduler.stop(timeout=10)
    assert stuck == ["paid_not_packed"] and status == "done"
    assert not scheduler._thread.is_alive()
