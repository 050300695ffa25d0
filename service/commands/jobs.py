"""`jobs list|retry|dismiss|run-due`: the durable outbound jobs and their dead-letter list.

packbench-service jobs list [--dead | --status STATUS] [--limit N]
packbench-service jobs retry ID                   (a dead or dismissed job, due at once)
packbench-service jobs dismiss ID --reason TEXT   (give up on a dead or pending job)
packbench-service jobs run-due [--limit N]        (one pass of the worker; for cron/timers)
packbench-service run-task jobs|reconcile|tracking (one pass of a task `serve` schedules)
"""

from __future__ import annotations

import argparse

from service.commands import (
    CommandError,
    Subparsers,
    add_db_option,
    cli_actor,
    open_sessions,
)
from service.db import transaction, utcnow
from service.jobs.queue import STATUSES, dismiss, list_jobs, retry
from service.jobs.scheduler import TASKS
from service.jobs.worker import run_due
from service.models import OutboundJob


def register(subparsers: Subparsers) -> None:
    """Add the `jobs` command and its actions."""
    jobs = subparsers.add_parser(
        "jobs", help="durable calls to shops and carriers, and the dead-letter list"
    )
    sub = jobs.add_subparsers(dest="action", metavar="ACTION")
    lst = sub.add_parser("list", help="list jobs, newest first")
    add_db_option(lst)
    which = lst.add_mutually_exclusive_group()
    which.add_argument("--dead", action="store_true", help="only the dead-letter list")
    which.add_argument("--status", choices=STATUSES, help="only jobs in this state")
    lst.add_argument("--limit", type=int, default=100, help="at most N jobs (default 100)")
    lst.set_defaults(handler=run_list)

    again = sub.add_parser("retry", help="put a dead or dismissed job back in the queue, due now")
    add_db_option(again)
    again.add_argument("job_id", type=int, metavar="ID")
    again.set_defaults(handler=run_retry)

    drop = sub.add_parser("dismiss", help="give up on a dead or pending job, saying why")
    add_db_option(drop)
    drop.add_argument("job_id", type=int, metavar="ID")
    drop.add_argument("--reason", required=True, help="why (for the audit trail)")
    drop.set_defaults(handler=run_dismiss)

    due = sub.add_parser(
        "run-due", help="run every due job once and exit (for cron or a systemd timer)"
    )
    add_db_option(due)
    due.add_argument("--limit", type=int, default=100, help="at most N jobs (default 100)")
    due.set_defaults(handler=run_run_due)

    task = subparsers.add_parser(
        "run-task",
        help="one pass of a background task (what `serve` schedules; for systemd timers)",
    )
    add_db_option(task)
    task.add_argument("task", choices=sorted(TASKS))
    task.set_defaults(handler=run_task)


def _line(job: OutboundJob) -> str:
    when = job.finished_at if job.status in ("done", "dead", "dismissed") else job.next_at
    note = job.dismissed_reason if job.status == "dismissed" else job.last_error
    return "\t".join(
        [
            str(job.id),
            job.kind,
            job.status,
            str(job.attempts),
            str(job.order_id or "-"),
            job.target or "-",
            when.isoformat(timespec="seconds") if when else "-",
            (note or "").replace("\n", " "),
        ]
    )


def run_list(args: argparse.Namespace) -> int:
    """Print jobs as tab-separated lines under a header."""
    if args.limit < 1:
        raise CommandError(f"--limit must be 1 or more, not {args.limit}.")
    status = "dead" if args.dead else args.status
    with transaction(open_sessions(args)) as session:
        jobs = list_jobs(session, status=status, limit=args.limit)
        lines = [_line(j) for j in jobs]
    print("id\tkind\tstatus\tattempts\torder\ttarget\tnext/finished\terror or reason")
    for line in lines:
        print(line)
    if not lines:
        print(f"(no {status or ''} jobs)".replace("  ", " "))
    return 0


def run_retry(args: argparse.Namespace) -> int:
    """Requeue a dead or dismissed job."""
    with transaction(open_sessions(args)) as session:
        job = retry(session, args.job_id, now=utcnow())
        kind = job.kind
    print(f"Job {args.job_id} ({kind}) is queued again and runs on the worker's next pass.")
    return 0


def run_dismiss(args: argparse.Namespace) -> int:
    """Dismiss a dead or pending job."""
    with transaction(open_sessions(args)) as session:
        dismiss(session, args.job_id, now=utcnow(), by=cli_actor(), reason=args.reason)
    print(f"Job {args.job_id} dismissed.")
    return 0


def run_run_due(args: argparse.Namespace) -> int:
    """One worker pass."""
    if args.limit < 1:
        raise CommandError(f"--limit must be 1 or more, not {args.limit}.")
    report = run_due(open_sessions(args), limit=args.limit)
    print(
        f"Ran {len(report.done) + len(report.retrying) + len(report.dead)} job(s): "
        f"{len(report.done)} done, {len(report.retrying)} to retry, {len(report.dead)} dead."
    )
    return 0


def run_task(args: argparse.Namespace) -> int:
    """One pass of a scheduled task, with a one-line summary."""
    print(f"{args.task}: {TASKS[args.task](open_sessions(args), utcnow)}.")
    return 0
