"""`carrier list|set-secret|configure|pickup-field`: carrier accounts and where points come from.

packbench-service carrier set-secret packeta api_password --account cz   # value on stdin
packbench-service carrier configure --channel shop --carrier packeta \\
    --set account=cz --set eshop=MyEshop --set mode=production --set 'cod_limits={"CZK": 20000}'
packbench-service carrier pickup-field --channel shop --from note_attributes \\
    --id packeta_point_id --name packeta_point_name

Secrets go to the service's secret store only (never the database, never printed); a
`--set` of a secret is refused. See docs/carriers.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from service.carriers.account import secret_ref
from service.carriers.base import CarrierError
from service.carriers.registry import SECRET_KEYS, carrier_config, get_adapter, known_carriers
from service.channels import get_channel, update_channel
from service.commands import CommandError, Subparsers, add_db_option, open_sessions
from service.db import transaction
from service.ingest.pickup import SOURCES
from service.secrets_store import forget_cached_secrets, put_secret


def _known(name: str) -> str:
    if name not in known_carriers():
        raise CommandError(f"No carrier {name!r}; known: {', '.join(sorted(known_carriers()))}.")
    return name


def run_list(args: argparse.Namespace) -> int:
    """Print the carrier adapters this service has."""
    for name in sorted(known_carriers()):
        print(name)
    return 0


def run_set_secret(args: argparse.Namespace) -> int:
    """Store one credential of a carrier account, read from stdin."""
    carrier = _known(args.carrier)
    if args.key not in SECRET_KEYS:
        raise CommandError(f"{args.key!r} is not a secret; use one of {', '.join(SECRET_KEYS)}.")
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise CommandError("Give the secret on stdin (it is never a command-line argument).")
    ref = secret_ref(carrier, args.account, args.key)
    put_secret(ref, value)
    forget_cached_secrets()
    print(f"stored {args.key} of {carrier} account {args.account!r} in the secret store ({ref})")
    return 0


def _value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def run_configure(args: argparse.Namespace) -> int:
    """Merge KEY=VALUE settings into a channel's settings for one carrier."""
    carrier = _known(args.carrier)
    changes: dict[str, Any] = {}
    for item in args.set or []:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CommandError(f"--set takes KEY=VALUE, not {item!r}.")
        if key in SECRET_KEYS:
            raise CommandError(f"{key!r} is a secret: store it with `carrier set-secret`.")
        changes[key] = _value(raw)
    if not changes:
        raise CommandError("Nothing to change: give --set KEY=VALUE.")
    with transaction(open_sessions(args)) as session:
        channel = get_channel(session, args.channel)
        carriers = dict((channel.settings or {}).get("carriers") or {})
        merged = {**dict(carriers.get(carrier) or {}), **changes}
        try:
            get_adapter(carrier, carrier_config(carrier, {"carriers": {carrier: merged}}))
        except CarrierError as exc:
            raise CommandError(f"{carrier}: {exc.message}") from exc
        carriers[carrier] = merged
        update_channel(session, args.channel, settings={"carriers": carriers})
    shown = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in sorted(merged.items()))
    print(f"{args.channel}: {carrier} {shown}")
    return 0


def run_pickup_field(args: argparse.Namespace) -> int:
    """Say where a channel's orders carry the pickup point the customer chose."""
    spec = {"from": args.source, "id": args.id, **({"name": args.name} if args.name else {})}
    with transaction(open_sessions(args)) as session:
        update_channel(session, args.channel, settings={"pickup_point": spec})
    print(f"{args.channel}: pickup point from {args.source} {args.id!r}")
    return 0


def register(subparsers: Subparsers) -> None:
    """Add the `carrier` command group."""
    carrier = subparsers.add_parser("carrier", help="carrier accounts, limits and pickup points")
    sub = carrier.add_subparsers(dest="carrier_command", metavar="ACTION")

    lst = sub.add_parser("list", help="list the carrier adapters")
    lst.set_defaults(handler=run_list)

    secret = sub.add_parser(
        "set-secret",
        help="store a carrier account's credential (read from stdin)",
        description="The value is read from stdin and goes to the secret store only.",
    )
    secret.add_argument("carrier")
    secret.add_argument("key", help=f"one of {', '.join(SECRET_KEYS)}")
    secret.add_argument("--account", default="default", help="the account name (default: default)")
    secret.set_defaults(handler=run_set_secret)

    conf = sub.add_parser(
        "configure",
        help="set a channel's settings for a carrier (account, mode, limits...)",
        description="VALUE is JSON when it parses as JSON, else text. See docs/carriers.md.",
    )
    add_db_option(conf)
    conf.add_argument("--channel", required=True)
    conf.add_argument("--carrier", required=True)
    conf.add_argument("--set", action="append", metavar="KEY=VALUE", help="repeatable")
    conf.set_defaults(handler=run_configure)

    pick = sub.add_parser(
        "pickup-field", help="where a channel's orders carry the chosen pickup point"
    )
    add_db_option(pick)
    pick.add_argument("--channel", required=True)
    pick.add_argument("--from", dest="source", required=True, choices=SOURCES)
    pick.add_argument("--id", required=True, help="the attribute or meta key of the point id")
    pick.add_argument("--name", help="the attribute or meta key of the point's name")
    pick.set_defaults(handler=run_pickup_field)
