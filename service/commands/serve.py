"""`serve`: run the HTTP API with uvicorn (log on stderr; SIGTERM drains requests, then exits)."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
from typing import Any

import uvicorn

from service.api.app import serving_app
from service.api.http_protocol import HTTP_PROTOCOL
from service.commands import CommandError, Subparsers, add_db_option, open_engine
from service.db import DB_URL_ENV

log = logging.getLogger(__name__)


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
    p.add_argument("--ssl-certfile", help="TLS certificate (PEM) to serve HTTPS directly")
    p.add_argument("--ssl-keyfile", help="the certificate's private key (PEM)")
    p.add_argument(
        "--behind-tls-proxy",
        action="store_true",
        help="serve plain HTTP on a non-loopback address because a TLS proxy (nginx) is in "
        "front; without this or a certificate, only loopback addresses are served",
    )
    p.set_defaults(handler=run_serve)


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
    tls = tls_options(args)
    scheme = "https" if tls else "http"
    engine = open_engine(args)  # refuses a database that was never upgraded, before binding
    if args.workers > 1:
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
            timeout_graceful_shutdown=10,
            **tls,
        )
        return 0
    app = serving_app(engine)
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
    server = uvicorn.Server(config)
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
