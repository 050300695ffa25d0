"""`serve`: run the HTTP API with uvicorn (log on stderr; SIGTERM drains requests, then exits)."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from service.api.app import create_app
from service.commands import CommandError, Subparsers, add_db_option, open_engine

log = logging.getLogger(__name__)


def register(subparsers: Subparsers) -> None:
    """Add the `serve` command."""
    p = subparsers.add_parser("serve", help="run the HTTP API")
    add_db_option(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    p.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; uvicorn drains open requests before returning."""
    if not 0 <= args.port <= 65535:
        raise CommandError(f"--port must be 0-65535, not {args.port}.")
    engine = open_engine(args)  # refuses a database that was never upgraded, before binding
    app = create_app(engine)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level="info",
        access_log=True,
        timeout_graceful_shutdown=10,
    )
    server = uvicorn.Server(config)
    log.info(
        "serving on http://%s:%d (database %s)",
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
