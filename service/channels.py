"""Order channels: add, change, disable, and map their shipping methods to carriers.

One set of functions behind both the `channel` commands and the operator API. A channel's
webhook secret goes to the secret store (the database keeps only its reference) and is never
printed or logged. A disabled channel answers its webhooks exactly like an unknown one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.carriers.registry import known_carriers
from service.changes import mark_changed
from service.errors import Conflict, NotFound, ValidationFailed
from service.ingest.errors import ChannelNotFound
from service.ingest.model import Priority
from service.ingest.validate import CARRIER_UNMAPPED
from service.models import Channel, Order
from service.secrets_store import put_secret
from service.slips import SlipPolicy, checked_slip_settings, slip_policy

KINDS = ("shopify", "woocommerce", "operator", "csv")
SIGNED_KINDS = frozenset({"shopify", "woocommerce"})


def secret_ref(kind: str, name: str) -> str:
    """The secret-store entry name of a channel's webhook secret."""
    return f"channel:{kind}:{name}"


def webhook_path(kind: str, name: str) -> str:
    """Where the shop posts its webhooks, relative to the service's base URL."""
    return f"/v1/channels/{kind}/{name}/webhooks"


def get_channel(session: Session, name: str) -> Channel:
    """The channel called `name`, or a NotFound naming it."""
    channel = session.scalar(select(Channel).where(Channel.name == name))
    if channel is None:
        raise ChannelNotFound(f"No channel named {name!r}.", field="channel")
    return channel


def add_channel(
    session: Session,
    kind: str,
    name: str,
    *,
    secret: str | None = None,
    settings: dict[str, Any] | None = None,
) -> Channel:
    """Create a channel; shop channels need a secret, which goes to the secret store."""
    if kind not in KINDS:
        raise ValidationFailed(f"Unknown channel kind {kind!r}; use one of {', '.join(KINDS)}.")
    name = name.strip()
    if not name or len(name) > 64 or "/" in name or not name.isprintable():
        raise ValidationFailed("A channel name is 1-64 characters without '/'.", field="name")
    if kind in SIGNED_KINDS and not secret:
        raise ValidationFailed(f"A {kind} channel needs its webhook secret.", field="secret")
    if session.scalar(select(Channel.id).where(Channel.name == name)) is not None:
        raise Conflict(f"A channel named {name!r} already exists.", field="name")
    settings = dict(settings or {})
    settings.update(
        checked_slip_settings(
            settings.pop("packing_slip", None), settings.pop("ship_from_country", None), {}
        )
    )
    ref = None
    if secret:
        ref = secret_ref(kind, name)
        put_secret(ref, secret, session=session)
    channel = Channel(kind=kind, name=name, secret_ref=ref, settings=dict(settings or {}))
    session.add(channel)
    session.flush()
    return channel


def update_channel(
    session: Session,
    name: str,
    *,
    secret: str | None = None,
    settings: dict[str, Any] | None = None,
) -> Channel:
    """Rotate a channel's secret and/or merge `settings` into its own."""
    channel = get_channel(session, name)
    if secret is not None:
        if not secret:
            raise ValidationFailed("A webhook secret cannot be empty.", field="secret")
        ref = channel.secret_ref or secret_ref(channel.kind, channel.name)
        put_secret(ref, secret, session=session)
        channel.secret_ref = ref
    if settings:
        channel.settings = {**(channel.settings or {}), **settings}
    session.flush()
    _forget_cached_channels()
    return channel


# Orders still to be packed: a new slip setting must reach the stations holding them.
_UNPACKED = ("pending", "confirmed", "allocated", "picking", "on_hold", "backorder")


def set_packing_slip(
    session: Session,
    name: str,
    policy: str | None = None,
    ship_from_country: str | None = None,
) -> tuple[SlipPolicy, int]:
    """Change which of the channel's orders get a packing slip; resend its unpacked orders.

    Returns the new setting and how many unpacked orders go to the stations again with it.
    """
    channel = get_channel(session, name)
    current = dict(channel.settings or {})
    changes = checked_slip_settings(policy, ship_from_country, current)
    if not changes:
        raise ValidationFailed("Nothing to change: give a packing-slip setting or a country.")
    channel.settings = {**current, **changes}
    session.flush()
    order_ids = session.scalars(
        select(Order.id).where(Order.channel_id == channel.id, Order.status.in_(_UNPACKED))
    ).all()
    for order_id in order_ids:
        mark_changed(session, "order", order_id)
    _forget_cached_channels()
    return slip_policy(channel.settings), len(order_ids)


def packing_slip_of(channel: Channel) -> SlipPolicy:
    """The channel's packing-slip setting."""
    return slip_policy(channel.settings or {})


def set_disabled(session: Session, name: str, disabled: bool) -> Channel:
    """Stop (or start again) taking a channel's webhooks and orders."""
    channel = get_channel(session, name)
    settings = dict(channel.settings or {})
    if disabled:
        settings["disabled"] = True
    else:
        settings.pop("disabled", None)
    channel.settings = settings
    session.flush()
    _forget_cached_channels()
    return channel


def is_disabled(channel: Channel) -> bool:
    """Whether the channel was disabled by an operator."""
    return bool((channel.settings or {}).get("disabled"))


@dataclass(frozen=True)
class ShippingMapping:
    """One shop shipping method and the carrier service it ships with."""

    method: str
    carrier: str
    service: str
    priority: int


def shipping_mappings(channel: Channel) -> list[ShippingMapping]:
    """The channel's shipping-method mappings, by method name."""
    methods = (channel.settings or {}).get("shipping_methods") or {}
    return [
        ShippingMapping(
            method=str(method),
            carrier=str(m.get("carrier", "")),
            service=str(m.get("service", "")),
            priority=int(m.get("priority", 0)),
        )
        for method, m in sorted(methods.items())
        if isinstance(m, dict)
    ]


def set_shipping(
    session: Session,
    name: str,
    method: str,
    *,
    carrier: str,
    service: str = "",
    priority: int = Priority.NORMAL,
    actor: str,
) -> tuple[ShippingMapping, list[str]]:
    """Map a shop's shipping method to a carrier service; release orders held for it.

    Returns the mapping and the numbers of the orders whose `carrier_unmapped` hold it lifted.
    """
    method = method.strip()
    if not method or len(method) > 100:
        raise ValidationFailed("A shipping method name is 1-100 characters.", field="method")
    known = known_carriers()
    if carrier not in known:
        raise ValidationFailed(
            f"No carrier adapter {carrier!r}; use one of {', '.join(sorted(known))}.",
            field="carrier",
        )
    if priority not in (Priority.NORMAL, Priority.HIGH, Priority.EXPRESS):
        raise ValidationFailed("Priority is 0 (normal), 1 (high) or 2 (express).", field="priority")
    service = (service.strip() or method)[:40]
    channel = get_channel(session, name)
    settings = dict(channel.settings or {})
    methods = {
        k: v
        for k, v in dict(settings.get("shipping_methods") or {}).items()
        if str(k).lower() != method.lower()
    }
    methods[method] = {"carrier": carrier, "service": service, "priority": int(priority)}
    settings["shipping_methods"] = methods
    channel.settings = settings
    session.flush()
    mapping = ShippingMapping(method, carrier, service, int(priority))
    _forget_cached_channels()
    return mapping, _release_unmapped(session, channel, mapping, actor)


def release_mapped(session: Session, *, actor: str) -> list[str]:
    """Release every `carrier_unmapped` hold whose method has a mapping by now.

    `set_shipping` releases the orders held when it runs; a webhook handled in the seconds
    before every service process saw the new mapping may still be held. Reconciliation
    sweeps those up, so no order waits for a mapping that exists.
    """
    released: list[str] = []
    for channel in session.scalars(select(Channel).order_by(Channel.id)):
        for mapping in shipping_mappings(channel):
            released += _release_unmapped(session, channel, mapping, actor)
    return released


def _forget_cached_channels() -> None:
    # This process's webhook path caches channels for a few seconds; others catch up alone.
    from service.ingest.webhooks import forget_cached_channels

    forget_cached_channels()


def remove_shipping(session: Session, name: str, method: str) -> None:
    """Forget a method's mapping (orders already mapped keep their carrier)."""
    channel = get_channel(session, name)
    settings = dict(channel.settings or {})
    methods = dict(settings.get("shipping_methods") or {})
    kept = {k: v for k, v in methods.items() if str(k).lower() != method.strip().lower()}
    if len(kept) == len(methods):
        raise NotFound(f"Channel {name!r} has no mapping for {method!r}.", field="method")
    settings["shipping_methods"] = kept
    channel.settings = settings
    session.flush()
    _forget_cached_channels()


def _release_unmapped(
    session: Session, channel: Channel, mapping: ShippingMapping, actor: str
) -> list[str]:
    # Imported here: ingest.store imports this package's neighbours at module load.
    from service.ingest.store import revalidate_hold

    released: list[str] = []
    held = session.scalars(
        select(Order).where(Order.channel_id == channel.id, Order.status == "on_hold")
    )
    for order in held:
        if not any(
            r.get("code") == CARRIER_UNMAPPED
            and mapping.method.lower()
            in (str(r.get("method", "")).lower(), str(r.get("method_title", "")).lower())
            for r in order.hold_reasons
        ):
            continue
        order.carrier, order.service = mapping.carrier, mapping.service
        order.priority = mapping.priority
        revalidate_hold(
            session,
            order,
            drop={CARRIER_UNMAPPED},
            actor=actor,
            fixed_by=f"shipping method {mapping.method!r} mapped to {mapping.carrier}",
        )
        released.append(order.number)
    return released


def carrier_rules_of(channel: Channel) -> dict[str, Any] | None:
    """The channel's carrier rule table ({"rules", "fallback"}), or None without one."""
    from service.ingest.carrier_rules import table_of

    return table_of(channel.settings)


def set_carrier_rules(
    session: Session, name: str, raw: Any, *, actor: str
) -> tuple[dict[str, Any], list[str]]:
    """Replace the channel's carrier rule table after checking all of it; audited.

    A table with any fault raises ValidationFailed naming the rule and field, and the
    channel keeps its old table. Orders held as `carrier_unmapped` that the new table
    places are given its carrier and re-judged; returns the table and their numbers.
    """
    from service.ingest.carrier_rules import SETTING, checked_table
    from service.office.sessions import audit

    table = checked_table(raw)
    channel = get_channel(session, name)
    settings = dict(channel.settings or {})
    before = settings.get(SETTING)
    settings[SETTING] = table
    channel.settings = settings
    audit(
        session,
        None,
        "carrier_rules_set",
        target=f"channel:{channel.name}",
        actor=actor,
        details={"before": before, "after": table},
    )
    session.flush()
    _forget_cached_channels()
    return table, _rechoose_unmapped(session, channel, table, actor)


def _rechoose_unmapped(
    session: Session, channel: Channel, table: dict[str, Any], actor: str
) -> list[str]:
    """Let the new table choose for the channel's orders held for an unmapped carrier."""
    from service.ingest.carrier_rules import choose, chosen_payload, facts_of
    from service.ingest.store import revalidate_hold
    from service.lifecycle import record_event

    placed: list[str] = []
    held = session.scalars(
        select(Order).where(Order.channel_id == channel.id, Order.status == "on_hold")
    )
    for order in held:
        reason = next((r for r in order.hold_reasons if r.get("code") == CARRIER_UNMAPPED), None)
        if reason is None:
            continue
        method = (str(reason.get("method", "")), str(reason.get("method_title", "")))
        facts = facts_of(session, order, method)
        picked = choose(table, facts)
        if picked is None:
            continue
        result, by = picked
        order.carrier, order.service = result["carrier"], result["service"]
        record_event(
            session, order, "carrier_chosen", actor=actor, payload=chosen_payload(facts, result, by)
        )
        revalidate_hold(
            session,
            order,
            drop={CARRIER_UNMAPPED},
            actor=actor,
            fixed_by=f"carrier rules chose {result['carrier']}",
        )
        placed.append(order.number)
    return placed
