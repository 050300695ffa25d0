"""`channel add|list|update|disable|enable|set-shipping|shipping|inbox`: storefronts, their
methods and their queued webhook deliveries.

The webhook secret goes to the secret store (the database keeps only its reference) and is
never printed or logged. Pass `--secret -` to read it from stdin, so it stays out of shell
history.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from sqlalchemy import select

from service.channels import (
    KINDS,
    SIGNED_KINDS,
    add_channel,
    carrier_rules_of,
    get_channel,
    is_disabled,
    packing_slip_of,
    remove_shipping,
    set_carrier_rules,
    set_disabled,
    set_packing_slip,
    set_shipping,
    shipping_mappings,
    update_channel,
    webhook_path,
)
from service.commands import (
    CommandError,
    Subparsers,
    add_db_option,
    cli_actor,
    open_sessions,
)
from service.db import transaction
from service.ingest import inbox
from service.ingest.tables import FAILED, QUEUED
from service.ingest.validate import DEFAULT_COD_COUNTRIES
from service.models import Channel
from service.office.sessions import audit
from service.secrets_store import forget_cached_secrets

log = logging.getLogger(__name__)


def _read_secret(value: str | None) -> str | None:
    if value == "-":
        return sys.stdin.readline().rstrip("\r\n")
    return value


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if args.cod_countries is not None:
        settings["cod_countries"] = [
            c.strip().upper() for c in args.cod_countries.split(",") if c.strip()
        ]
    if args.cutoff_utc:
        settings["cutoff_utc"] = args.cutoff_utc
    if args.shop_url:
        if not args.shop_url.startswith(("https://", "http://")):
            raise CommandError(
                "--shop-url is the shop's address, e.g. https://myshop.myshopify.com"
            )
        settings["shop_url"] = args.shop_url.rstrip("/")
    if args.location_id:
        settings["location_id"] = args.location_id.strip()
    for key in ("api_version", "weight_unit", "dimension_unit"):
        value = getattr(args, key)
        if value:
            settings[key] = value
    return settings


def _slip_options(args: argparse.Namespace) -> tuple[str | None, str | None]:
    return args.packing_slip, args.ship_from_country


def _slip_words(policy: str, origin: str) -> str:
    if policy == "cross_border":
        return f"slips: cross-border (from {origin})"
    return f"slips: {policy.replace('_', '-')}"


def run_add(args: argparse.Namespace) -> int:
    """Create the channel; print its id and, for a shop, the webhook URL path."""
    secret = _read_secret(args.secret)
    settings = _settings(args)
    slip, origin = _slip_options(args)
    if slip is not None:
        settings["packing_slip"] = slip
    if origin is not None:
        settings["ship_from_country"] = origin
    with transaction(open_sessions(args)) as session:
        channel = add_channel(session, args.kind, args.name, secret=secret, settings=settings)
        channel_id = channel.id
    forget_cached_secrets()
    log.info("channel %s (%s) added", args.name, args.kind)
    print(f"channel {args.name} ({args.kind}) added with id {channel_id}")
    if args.kind in SIGNED_KINDS:
        print(f"webhook URL path: {webhook_path(args.kind, args.name)}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """One line per channel: id, kind, name, secret set or not, enabled or disabled."""
    with transaction(open_sessions(args)) as session:
        channels = session.scalars(select(Channel).order_by(Channel.id)).all()
        rows = [
            (
                c.id,
                c.kind,
                c.name,
                "secret set" if c.secret_ref else "no secret",
                "disabled" if is_disabled(c) else "enabled",
                len(shipping_mappings(c)),
                packing_slip_of(c),
            )
            for c in channels
        ]
    if not rows:
        print("No channels yet: add one with `packbench-service channel add KIND --name NAME`.")
    for cid, kind, name, secret, state, methods, slips in rows:
        print(
            f"{cid}\t{kind}\t{name}\t{secret}\t{state}\t{methods} shipping method(s) mapped"
            f"\t{_slip_words(slips.policy, slips.ship_from_country)}"
        )
    return 0


def run_update(args: argparse.Namespace) -> int:
    """Rotate the secret and/or change COD countries and cut-off."""
    secret = _read_secret(args.secret)
    settings = _settings(args)
    slip, origin = _slip_options(args)
    if secret is None and not settings and slip is None and origin is None:
        raise CommandError("Nothing to change: give --secret or a setting (see --help).")
    resent = None
    with transaction(open_sessions(args)) as session:
        update_channel(session, args.name, secret=secret, settings=settings)
        if slip is not None or origin is not None:
            policy, resent = set_packing_slip(session, args.name, slip, origin)
    forget_cached_secrets()
    print(f"channel {args.name} updated" + (" (new webhook secret)" if secret else ""))
    if resent is not None:
        print(
            f"{_slip_words(policy.policy, policy.ship_from_country)}; "
            f"{resent} order(s) not yet packed go to the stations with it"
        )
    return 0


def run_disable(args: argparse.Namespace) -> int:
    """Refuse the channel's webhooks from now on (running services within 5 s)."""
    with transaction(open_sessions(args)) as session:
        set_disabled(session, args.name, disabled=True)
    print(f"channel {args.name} disabled: its webhooks are refused like an unknown channel's")
    return 0


def run_enable(args: argparse.Namespace) -> int:
    """Take the channel's webhooks again."""
    with transaction(open_sessions(args)) as session:
        set_disabled(session, args.name, disabled=False)
    print(f"channel {args.name} enabled")
    return 0


def run_set_shipping(args: argparse.Namespace) -> int:
    """Map (or, with --remove, unmap) one shop shipping method."""
    with transaction(open_sessions(args)) as session:
        if args.remove:
            remove_shipping(session, args.channel, args.method)
            print(f"{args.channel}: {args.method!r} is no longer mapped")
            return 0
        if not args.carrier:
            raise CommandError("Give --carrier (or --remove).")
        mapping, released = set_shipping(
            session,
            args.channel,
            args.method,
            carrier=args.carrier,
            service=args.service or "",
            priority=args.priority,
            actor="cli:channel set-shipping",
        )
    print(
        f"{args.channel}: {mapping.method!r} ships with {mapping.carrier} / {mapping.service}"
        f" (priority {mapping.priority})"
    )
    if released:
        print(f"released from the carrier_unmapped hold: {', '.join(released)}")
    return 0


def run_shipping(args: argparse.Namespace) -> int:
    """List a channel's shipping-method mappings."""
    with transaction(open_sessions(args)) as session:
        mappings = shipping_mappings(get_channel(session, args.channel))
    if not mappings:
        print(f"{args.channel}: no shipping method is mapped yet (see `channel set-shipping`).")
    for m in mappings:
        print(f"{m.method}\t{m.carrier}\t{m.service}\tpriority {m.priority}")
    return 0


def _print_rules(channel: str, table: dict[str, Any] | None) -> None:
    if table is None:
        print(f"{channel}: no carrier rules; the shipping-method mapping chooses the carrier.")
        return
    print(json.dumps(table, indent=2, ensure_ascii=False))


def run_rules(args: argparse.Namespace) -> int:
    """Print the channel's carrier rule table, or (with --file) replace it."""
    if args.file is None:
        with transaction(open_sessions(args)) as session:
            table = carrier_rules_of(get_channel(session, args.name))
        _print_rules(args.name, table)
        return 0
    try:
        if args.file == "-":
            text = sys.stdin.read()
        else:
            with open(args.file, encoding="utf-8") as fh:
                text = fh.read()
    except OSError as exc:
        raise CommandError(
            f"Cannot read {args.file}: {exc.strerror}. Nothing was changed."
        ) from exc
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(
            f"{args.file} is not JSON (line {exc.lineno}: {exc.msg}). Nothing was changed."
        ) from exc
    with transaction(open_sessions(args)) as session:
        table, placed = set_carrier_rules(session, args.name, raw, actor="cli:channel rules")
    print(f"{args.name}: {len(table['rules'])} carrier rule(s) set")
    if placed:
        print(f"released from the carrier_unmapped hold: {', '.join(placed)}")
    return 0


def _settings_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--cod-countries",
        help="comma-separated ISO codes where cash on delivery is allowed "
        f"(default {','.join(sorted(DEFAULT_COD_COUNTRIES))})",
    )
    p.add_argument("--cutoff-utc", help="daily dispatch cut-off, HH:MM UTC")
    p.add_argument(
        "--shop-url", help="the shop's address for API calls (Shopify: https://NAME.myshopify.com)"
    )
    p.add_argument("--api-version", help="Shopify Admin API version, e.g. 2026-10")
    p.add_argument(
        "--location-id",
        help="Shopify location stock is published to (id or gid://shopify/Location/ID)",
    )
    p.add_argument("--weight-unit", choices=("g", "kg", "lb", "oz"), help="WooCommerce weights")
    p.add_argument("--dimension-unit", choices=("mm", "cm", "m", "in"), help="WooCommerce sizes")
    p.add_argument(
        "--packing-slip",
        choices=("never", "always", "cross-border", "b2b"),
        help="which orders get a packing slip in the parcel, printed at the station: never "
        "(default), always, cross-border (ship-to country is not --ship-from-country) or b2b "
        "(the ship-to address names a company)",
    )
    p.add_argument(
        "--ship-from-country",
        metavar="CC",
        help="two-letter country the parcels leave from (for --packing-slip cross-border)",
    )


def run_inbox(args: argparse.Namespace) -> int:
    """Per channel: deliveries queued and failed in the webhook inbox; --retry-failed queues
    the failed ones again (a running `serve` applies them within seconds), with --reason:
    the office audit log keeps who retried, when and why, as for the console's "Apply
    again"."""
    reason = (args.reason or "").strip()
    if args.retry_failed and not reason:
        raise CommandError(
            "Say what was fixed (--reason): the office audit log keeps who queued the failed "
            "deliveries again and why. Nothing was queued."
        )
    with transaction(open_sessions(args)) as session:
        names = dict(session.execute(select(Channel.id, Channel.name)).tuples().all())
        only = None
        if args.channel:
            only = get_channel(session, args.channel).id
        requeued = 0
        if args.retry_failed:
            requeued = inbox.requeue_failed(session, only)
            audit(
                session,
                None,
                "webhook_retry",
                target=args.channel or "all channels",
                reason=reason,
                details={"requeued": requeued},
                actor=cli_actor(),
            )
        counts = inbox.counts(session)
        failures = inbox.failures(session, only)
    shown = [only] if only is not None else sorted({c for c, _ in counts} | set(names))
    for cid in shown:
        queued, failed = counts.get((cid, QUEUED), 0), counts.get((cid, FAILED), 0)
        print(f"{names.get(cid, cid)}\t{queued} queued\t{failed} failed")
    for failure in failures:
        name = names.get(failure.channel_id, failure.channel_id)
        print(f"failed: {name} delivery {failure.webhook_id}: {failure.error}")
    if requeued:
        print(f"{requeued} failed deliveries queued again; a running service applies them.")
    elif any(failed for (_c, state), failed in counts.items() if state == FAILED):
        print('Fix the cause, then run with --retry-failed --reason "what was fixed".')
    return 0


def register(subparsers: Subparsers) -> None:
    """Add the `channel` command group."""
    channel = subparsers.add_parser("channel", help="configure order channels")
    sub = channel.add_subparsers(dest="channel_command", metavar="ACTION")

    add = sub.add_parser("add", help="add a Shopify, WooCommerce, operator or CSV channel")
    add_db_option(add)
    add.add_argument("kind", choices=KINDS)
    add.add_argument("--name", required=True, help="used in the webhook URL")
    add.add_argument("--secret", help="webhook signing secret ('-' reads it from stdin)")
    _settings_options(add)
    add.set_defaults(handler=run_add)

    lst = sub.add_parser("list", help="list channels (never their secrets)")
    add_db_option(lst)
    lst.set_defaults(handler=run_list)

    upd = sub.add_parser("update", help="rotate a channel's secret or change its settings")
    add_db_option(upd)
    upd.add_argument("name")
    upd.add_argument("--secret", help="new webhook signing secret ('-' reads it from stdin)")
    _settings_options(upd)
    upd.set_defaults(handler=run_update)

    for verb, handler, text in (
        ("disable", run_disable, "refuse a channel's webhooks (like an unknown channel)"),
        ("enable", run_enable, "take a disabled channel's webhooks again"),
    ):
        p = sub.add_parser(verb, help=text)
        add_db_option(p)
        p.add_argument("name")
        p.set_defaults(handler=handler)

    ship = sub.add_parser(
        "set-shipping",
        help="map a shop's shipping method to a carrier and service",
        description="Orders whose method has no carrier adapter are held as carrier_unmapped; "
        "mapping the method releases them and labels can be made ahead.",
    )
    add_db_option(ship)
    ship.add_argument("--channel", required=True)
    ship.add_argument("--method", required=True, help="the method's code or title in the shop")
    ship.add_argument("--carrier", help="a carrier adapter, e.g. house or sendcloud")
    ship.add_argument("--service", help="the carrier's service (default: the method)")
    ship.add_argument("--priority", type=int, default=0, help="0 normal, 1 high, 2 express")
    ship.add_argument("--remove", action="store_true", help="forget this method's mapping")
    ship.set_defaults(handler=run_set_shipping)

    rules = sub.add_parser(
        "rules",
        help="show or set the channel's carrier rule table",
        description="Without --file, print the table. With --file (JSON; '-' reads stdin), "
        "replace it: the first rule whose conditions (countries, methods, delivery, cod, "
        "min_grams/max_grams, min_parcels/max_parcels) hold picks carrier and service; "
        "none -> fallback; no fallback -> the shipping-method mapping. See docs/carriers.md.",
    )
    add_db_option(rules)
    rules.add_argument("name", help="the channel")
    rules.add_argument("--file", help="the table as JSON ('-' reads it from stdin)")
    rules.set_defaults(handler=run_rules)

    shipping = sub.add_parser("shipping", help="list a channel's shipping-method mappings")
    add_db_option(shipping)
    shipping.add_argument("--channel", required=True)
    shipping.set_defaults(handler=run_shipping)

    box = sub.add_parser(
        "inbox",
        help="webhook deliveries queued or failed per channel",
        description="A busy service stores order webhooks and applies them shortly after "
        "(answering the shop 202). A delivery that could not be applied is kept as failed, "
        "with its body and the reason; --retry-failed queues those again.",
    )
    add_db_option(box)
    box.add_argument("--channel", help="only this channel")
    box.add_argument("--retry-failed", action="store_true", help="queue failed deliveries again")
    box.add_argument("--reason", help="with --retry-failed: what was fixed (for the audit log)")
    box.set_defaults(handler=run_inbox)
