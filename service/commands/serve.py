"""`serve`: run the HTTP API with uvicorn (log on stderr; SIGTERM drains requests, then exits).

Unless `--no-scheduler` (or PACKBENCH_SCHEDULER=off), the same process runs the job worker,
reconciliation and tracking polls in a background thread (service/jobs/scheduler.py).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import ipaddress
import logging
import os
from collections.abc import AsyncIterator, Callable, Generator
from typing import Any

import uvicorn
import uvicorn.config
from sqlalchemy import Engine

from service.api.app import serving_app
from service.api.http_protocol import HTTP_PROTOCOL
from service.commands import (
    LOG_FORMAT,
    CommandError,
    Subparsers,
    add_db_option,
    db_url,
    open_engine,
)
from service.db import DB_URL_ENV, make_engine, make_sessionmaker, upkeep_warnings
from service.jobs.scheduler import Schedule, Scheduler
from service.secrets_store import BACKEND_ENV, SecretUnavailable, describe_store

log = logging.getLogger(__name__)


def _workers_log_config() -> dict[str, Any]:
    """uvicorn's logging set-up, plus this process's own for every other logger.

    Workers are spawned afresh: without it, what the service logs in them (the inbox's
    applier, rejected mutations, failed jobs) had no handler. Info lines were dropped, and
    warnings and errors reached stderr as bare messages, without time, level or logger.
    """
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["formatters"]["service"] = {"format": LOG_FORMAT}
    config["handlers"]["service"] = {
        "class": "logging.StreamHandler",
        "formatter": "service",
        "stream": "ext://sys.stderr",
    }
    config["root"] = {"handlers": ["service"], "level": logging.getLogger().level}
    return config


def register(subparsers: Subparsers) -> None:
    """Add the `serve` command."""
    p = subparsers.add_parser("serve", help="run the HTTP API")
    add_db_option(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (default 1; about one per CPU core on a dedicated server)",
    )
    sched = p.add_argument_group(
        "background work", "intervals in seconds; 0 turns one task off (env in brackets)"
    )
    sched.add_argument(
        "--no-scheduler",
        action="store_true",
        help="run no background work in this process [PACKBENCH_SCHEDULER=off]",
    )
    defaults = Schedule()
    sched.add_argument(
        "--jobs-every",
        type=float,
        metavar="S",
        help=f"job worker pass (default {defaults.jobs_seconds:g}) [PACKBENCH_JOBS_EVERY]",
    )
    sched.add_argument(
        "--reconcile-every",
        type=float,
        metavar="S",
        help=f"stuck-order check (default {defaults.reconcile_seconds:g}) "
        "[PACKBENCH_RECONCILE_EVERY]",
    )
    sched.add_argument(
        "--tracking-every",
        type=float,
        metavar="S",
        help=f"tracking poll (default {defaults.tracking_seconds:g}) [PACKBENCH_TRACKING_EVERY]",
    )
    p.add_argument("--ssl-certfile", help="TLS certificate (PEM) to serve HTTPS directly")
    p.add_argument("--ssl-keyfile", help="the certificate's private key (PEM)")
    p.add_argument(
        "--behind-tls-proxy",
        action="store_true",
        help="serve plain HTTP on a non-loopback address because a TLS proxy (nginx) is in "
        "front; without this or a certificate, only loopback addresses are served",
    )
    p.set_defaults(handler=run_serve)


def _schedule(args: argparse.Namespace) -> Schedule | None:
    """The background schedule asked for, or None when it is off."""
    off = os.environ.get("PACKBENCH_SCHEDULER", "").strip().lower() in ("off", "0", "false", "no")
    if args.no_scheduler or off:
        return None
    env = Schedule.from_env()
    schedule = Schedule(
        env.jobs_seconds if args.jobs_every is None else args.jobs_every,
        env.reconcile_seconds if args.reconcile_every is None else args.reconcile_every,
        env.tracking_seconds if args.tracking_every is None else args.tracking_every,
    )
    schedule.check()
    return schedule


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or name to bind) is reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


def tls_options(args: argparse.Namespace) -> dict[str, Any]:
    """uvicorn's TLS settings, or CommandError for plain HTTP on a non-loopback address.

    Station tokens, PINs and customers' addresses cross this connection.
    """
    cert, key = args.ssl_certfile, args.ssl_keyfile
    if bool(cert) != bool(key):
        raise CommandError("--ssl-certfile and --ssl-keyfile go together; give both.")
    if cert:
        return {"ssl_certfile": cert, "ssl_keyfile": key}
    if not is_loopback(args.host) and not args.behind_tls_proxy:
        raise CommandError(
            f"Refusing to serve plain HTTP on {args.host}: station tokens and customer data "
            "would cross the network unencrypted. Give --ssl-certfile and --ssl-keyfile, "
            "or --behind-tls-proxy when a TLS proxy (see packaging/service/) forwards to it."
        )
    return {}


def run_serve(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; uvicorn drains open requests before returning."""
    if not 0 <= args.port <= 65535:
        raise CommandError(f"--port must be 0-65535, not {args.port}.")
    if args.workers < 1:
        raise CommandError(f"--workers must be 1 or more, not {args.workers}.")
    schedule = _schedule(args)
    try:
        log.info("secrets: %s", describe_store())
    except SecretUnavailable as exc:
        if os.environ.get(BACKEND_ENV, "").strip():
            raise  # a backend was chosen and does not work: refuse to start, say why
        log.warning("secrets: %s Webhooks and shop publishing will fail until then.", exc)
    tls = tls_options(args)
    engine = open_engine(args)  # refuses a database that was never upgraded, before binding
    for warning in upkeep_warnings(engine):
        log.warning("database: %s", warning)
    if schedule is None:
        log.info("scheduler off: run `jobs run-due`, `reconcile`, `tracking poll` from timers")
        return _serve(args, engine, tls)
    # Its own engine: one scheduler per `serve`, however many HTTP workers there are.
    background = make_engine(db_url(args))
    scheduler = Scheduler(make_sessionmaker(background), schedule)
    try:
        return _serve(args, engine, tls, on_start=scheduler.start, on_stop=scheduler.stop)
    finally:
        scheduler.stop()
        background.dispose()


class _Server(uvicorn.Server):
    """uvicorn's server, running `on_stop` after draining requests and before it re-raises
    the SIGTERM it caught (which ends the process at once, `finally` blocks unrun)."""

    def __init__(self, config: uvicorn.Config, on_stop: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_stop = on_stop

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        with super().capture_signals():
            try:
                yield
            finally:
                self.on_stop()


def _start_after_startup(app: Any, start: Callable[[], None]) -> None:
    """Run `start` once the app's own start-up is done. The webhook inbox forks its applier
    process there (service.api.app), and a fork copies whatever locks another running thread
    holds at that instant, held for ever in the child: no thread of ours may run before it."""
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def run(app: Any) -> AsyncIterator[Any]:
        async with inner(app) as state:
            start()
            yield state

    app.router.lifespan_context = run


def _serve(
    args: argparse.Namespace,
    engine: Engine,
    tls: dict[str, Any],
    on_start: Callable[[], None] = lambda: None,
    on_stop: Callable[[], None] = lambda: None,
) -> int:
    scheme = "https" if tls else "http"
    if args.workers > 1:
        on_start()  # the workers are spawned afresh, not forked from this process
        # Each worker process builds its own app (and engine) from PACKBENCH_DB_URL.
        os.environ[DB_URL_ENV] = engine.url.render_as_string(hide_password=False)
        engine.dispose()
        log.info(
            "serving on %s://%s:%d with %d workers", scheme, args.host, args.port, args.workers
        )
        uvicorn.run(
            "service.api.app:serving_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            http=HTTP_PROTOCOL,
            log_level="info",
            log_config=_workers_log_config(),
            timeout_graceful_shutdown=10,
            **tls,
        )
        return 0
    app = serving_app(engine)
    _start_after_startup(app, on_start)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        http=HTTP_PROTOCOL,
        log_level="info",
        access_log=True,
        timeout_graceful_shutdown=10,
        **tls,
    )
    server = _Server(config, on_stop)
    log.info(
        "serving on %s://%s:%d (database %s)",
        scheme,
        args.host,
        args.port,
        engine.url.render_as_string(hide_password=True),
    )
    try:
        server.run()
    finally:
        engine.dispose()
    # uvicorn returns (instead of raising) when it cannot bind the port.
    if not server.started:
        raise CommandError(f"Could not listen on {args.host}:{args.port} (see the log above).")
    return 0
