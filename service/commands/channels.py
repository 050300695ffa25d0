"""`channel add|list`: configure storefront and operator channels.

The webhook secret goes to the keyring (the database keeps only its reference) and is never
printed or logged. Pass `--secret -` to read it from stdin, so it stays out of shell history.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import make_engine, make_sessionmaker, transaction
from service.errors import Conflict, ValidationFailed
from service.ingest.validate import DEFAULT_COD_COUNTRIES
from service.models import Channel
from service.secrets_store import SecretUnavailable, forget_cached_secrets, put_secret

log = logging.getLogger(__name__)

KINDS = ("shopify", "woocommerce", "operator", "csv")
SIGNED_KINDS = frozenset({"shopify", "woocommerce"})


def secret_ref(kind: str, name: str) -> str:
    """The keyring entry name of a channel's webhook secret."""
    return f"channel:{kind}:{name}"


def add_channel(
    session: Session,
    kind: str,
    name: str,
    *,
    secret: str | None = None,
    settings: dict[str, Any] | None = None,
) -> Channel:
    """Create a channel; shop channels need a secret, which goes to the keyring."""
    if kind not in KINDS:
        raise ValidationFailed(f"Unknown channel kind {kind!r}; use one of {', '.join(KINDS)}.")
    name = name.strip()
    if not name or len(name) > 64 or "/" in name:
        raise ValidationFailed("A channel name is 1-64 characters without '/'.", field="name")
    if kind in SIGNED_KINDS and not secret:
        raise ValidationFailed(f"A {kind} channel needs its webhook secret.", field="secret")
    if session.scalar(select(Channel.id).where(Channel.name == name)) is not None:
        raise Conflict(f"A channel named {name!r} already exists.", field="name")
    ref = None
    if secret:
        ref = secret_ref(kind, name)
        put_secret(ref, secret, session=session)
    channel = Channel(kind=kind, name=name, secret_ref=ref, settings=dict(settings or {}))
    session.add(channel)
    session.flush()
    return channel


def _read_secret(value: str | None) -> str | None:
    if value == "-":
        return sys.stdin.readline().rstrip("\r\n")
    return value


def _add(args: argparse.Namespace) -> int:
    settings: dict[str, Any] = {}
    if args.cod_countries is not None:
        settings["cod_countries"] = [
            c.strip().upper() for c in args.cod_countries.split(",") if c.strip()
        ]
    if args.cutoff_utc:
        settings["cutoff_utc"] = args.cutoff_utc
    engine = make_engine(args.db)
    try:
        secret = _read_secret(args.secret)
        with transaction(make_sessionmaker(engine)) as session:
            channel = add_channel(session, args.kind, args.name, secret=secret, settings=settings)
            channel_id = channel.id
    except (ValidationFailed, Conflict, SecretUnavailable) as exc:
        # The messages name the channel and the problem, never the secret.
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    forget_cached_secrets()
    log.info("channel %s (%s) added", args.name, args.kind)
    print(f"channel {args.name} ({args.kind}) added with id {channel_id}")
    if args.kind in SIGNED_KINDS:
        print(f"webhook URL path: /v1/channels/{args.kind}/{args.name}/webhooks")
    return 0


def _list(args: argparse.Namespace) -> int:
    engine = make_engine(args.db)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            rows = session.execute(
                select(Channel.id, Channel.kind, Channel.name, Channel.secret_ref).order_by(
                    Channel.id
                )
            ).all()
    finally:
        engine.dispose()
    for cid, kind, name, ref in rows:
        print(f"{cid}\t{kind}\t{name}\t{'secret set' if ref else 'no secret'}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `channel add` and `channel list`."""
    channel = subparsers.add_parser("channel", help="configure order channels")
    sub = channel.add_subparsers(dest="channel_command", required=True)
    add = sub.add_parser("add", help="add a Shopify, WooCommerce or operator channel")
    add.add_argument("kind", choices=KINDS)
    add.add_argument("--name", required=True, help="used in the webhook URL")
    add.add_argument(
        "--secret", help="webhook signing secret ('-' reads it from stdin); stored in keyring"
    )
    add.add_argument(
        "--cod-countries",
        help="comma-separated ISO codes where cash on delivery is allowed "
        f"(default {','.join(sorted(DEFAULT_COD_COUNTRIES))})",
    )
    add.add_argument("--cutoff-utc", help="daily dispatch cut-off, HH:MM UTC")
    add.set_defaults(func=_add)
    lst = sub.add_parser("list", help="list channels (never their secrets)")
    lst.set_defaults(func=_list)
