"""Apply one station mutation to an order: validate, check the lease, change state.

`apply_mutation` either returns the result dict of an applied mutation or raises
`Rejected` (a business rejection the station shows) or `IllegalTransition`. The caller runs
it inside a SAVEPOINT, so a rejection never leaves half of a mutation's writes behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.carriers.registry import known_carriers
from service.changes import mark_changed
from service.db import utcnow
from service.lifecycle import OrderStatus, hold, record_event, transition
from service.models import Label, Lease, Order, OrderException, Parcel
from service.returns.bench import apply_close, apply_unit
from service.shipping.labels import check_weight as check_label_weight
from service.shipping.rollup import unpacked_parcels
from service.stock.allocation import consume_order
from service.stock.counting import apply_station_count
from service.sync_server.leases import batch_owner, release_lease, station_names
from service.sync_server.overrides import OverrideUnproven, override_actor
from service.users import set_language_at_station
from service.weights.history import record_parcel_weight
from sync.protocol import (
    ORDERLESS_TYPES,
    PAYLOAD_MODELS,
    REJECTION_MESSAGES,
    SET_ASIDE_TYPE,
    ClaimReleased,
    ExceptionRaised,
    LabelPrinted,
    Mutation,
    MutationType,
    OrderPacked,
    OverrideGranted,
    ParcelClosed,
    RejectReason,
    ReturnClosed,
    ReturnUnitReceived,
    ScanOutcome,
    ScanRecorded,
    StockCounted,
    UserLanguageSet,
    WeightRecorded,
    exception_words,
)

S = OrderStatus
# Once an order reached one of these, only the station that packed it may still add facts.
_PACKED_OR_LATER = frozenset({S.PACKED, S.SHIPPED, S.DELIVERED, S.COMPLETED, S.RETURNED})
_FORWARD = (S.CONFIRMED, S.ALLOCATED, S.PICKING, S.PACKED)


@dataclass(frozen=True)
class StationRef:
    """The pushing station as a push needs it: its id and the last mutation it applied."""

    id: int
    last_mutation_id: int


class Rejected(Exception):
    """A business rejection: stored and answered as a 200 result with status 'rejected'.

    `code` and `params` say it (sync.protocol.REJECTION_MESSAGES): stored in the result as
    `say`, so a station words it in its packer's language; `message` is the English.
    `message=` instead of a code: a text only a developer can act on, sent as it is."""

    def __init__(
        self,
        reason: str,
        code: str | None,
        params: dict[str, Any] | None = None,
        result: dict[str, Any] | None = None,
        *,
        message: str | None = None,
    ) -> None:
        said = {k: str(v) for k, v in (params or {}).items()}
        text = message if code is None else REJECTION_MESSAGES[code].format(**said)
        super().__init__(text)
        self.reason = reason
        self.message = text or ""
        self.result = dict(result or {})
        if code is not None:
            self.result["say"] = {"code": code, "params": said}


@dataclass
class MutationContext:
    """Everything a handler needs about the mutation being applied."""

    session: Session
    station: StationRef
    mutation: Mutation
    order: Order
    lease: Lease | None

    @property
    def actor(self) -> str:
        return f"station:{self.station.id}"

    def facts(self, payload: BaseModel) -> dict[str, Any]:
        """The event payload: the station's payload plus where and when it was recorded."""
        body = payload.model_dump(mode="json")
        body["mutation_id"] = self.mutation.id
        body["station_at"] = station_time(self.mutation).isoformat()
        return body

    def event(self, type_: str, payload: BaseModel) -> None:
        record_event(
            self.session,
            self.order,
            type_,
            actor=self.actor,
            payload=self.facts(payload),
            station_id=self.station.id,
        )

    def move_forward(self, target: OrderStatus, payload: BaseModel) -> None:
        """Walk confirmed -> allocated -> picking -> packed up to `target`, each step audited.

        From any other state (on hold, say) only the direct transition is tried, so a held
        order is never released as a side effect; an illegal one raises IllegalTransition.
        """
        current = S(self.order.status)
        if current in _FORWARD and _FORWARD.index(current) < _FORWARD.index(target):
            steps = _FORWARD[_FORWARD.index(current) + 1 : _FORWARD.index(target) + 1]
        else:
            steps = (target,)
        for step in steps:
            transition(
                self.session,
                self.order,
                step,
                actor=self.actor,
                payload=self.facts(payload),
                station_id=self.station.id,
            )


def station_time(mutation: Mutation) -> datetime:
    """When the station recorded the mutation, as aware UTC (a naive time is taken as UTC)."""
    at = mutation.at
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def parse_type(mutation: Mutation) -> MutationType:
    """The mutation's type, or Rejected(unknown_type), or Rejected(set_aside)."""
    if mutation.type == SET_ASIDE_TYPE:
        # The station stands in this for an event the service refused outright; it keeps
        # the original in its own log and shows it. Recording it keeps the ids gap-free.
        raise Rejected(RejectReason.SET_ASIDE, "set_aside")
    try:
        return MutationType(mutation.type)
    except ValueError:
        raise Rejected(
            RejectReason.UNKNOWN_TYPE, "unknown_type", {"type": repr(mutation.type)}
        ) from None


def parse_payload(kind: MutationType, mutation: Mutation) -> BaseModel:
    """The validated payload model, or Rejected(invalid_payload) naming the first problem."""
    try:
        return PAYLOAD_MODELS[kind].model_validate(mutation.payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "payload"
        raise Rejected(
            RejectReason.INVALID_PAYLOAD,
            "malformed",
            {"kind": kind.value, "where": where, "problem": first.get("msg", "invalid")},
        ) from None


def check_order(ctx: MutationContext) -> None:
    """Order state and lease checks shared by every type; raises Rejected."""
    order, lease, mutation = ctx.order, ctx.lease, ctx.mutation
    status = S(order.status)

    def holder() -> str | None:
        """The lease holder's name, looked up only for a rejection message."""
        if lease is None:
            return None
        return station_names(ctx.session, [lease.station_id]).get(lease.station_id, "?")

    if status is S.CANCELLED:
        raise Rejected(RejectReason.ORDER_CANCELLED, "order_cancelled", {"order": order.number})
    if status in _PACKED_OR_LATER and (lease is None or lease.station_id != ctx.station.id):
        packer = holder()
        raise Rejected(
            RejectReason.ALREADY_PACKED,
            "already_packed_at" if packer else "already_packed",
            {"order": order.number, "station": packer} if packer else {"order": order.number},
            {"station_name": packer},
        )
    owner = batch_owner(ctx.session, order)
    if owner is not None and owner != ctx.station.id:
        owner_name = station_names(ctx.session, [owner]).get(owner, "?")
        raise Rejected(
            RejectReason.CLAIMED_BY_OTHER,
            "batch_elsewhere",
            {"order": order.number, "station": owner_name},
            {"station_id": owner, "station_name": owner_name},
        )
    if lease is None or mutation.lease_epoch is None:
        raise Rejected(RejectReason.NO_LEASE, "not_claimed", {"order": order.number})
    if lease.station_id != ctx.station.id:
        other = holder()
        raise Rejected(
            RejectReason.CLAIMED_BY_OTHER,
            "claimed_elsewhere",
            {"order": order.number, "station": other, "at": f"{lease.granted_at:%Y-%m-%d %H:%M}"},
            {
                "station_id": lease.station_id,
                "station_name": other,
                "claimed_at": lease.granted_at.isoformat(),
            },
        )
    if mutation.lease_epoch != lease.epoch or mutation.lease_epoch != order.lease_epoch:
        # Our own station holds it again, but under a newer grant: this event predates it.
        raise Rejected(
            RejectReason.NO_LEASE,
            "older_claim",
            {"order": order.number, "epoch": mutation.lease_epoch, "current": order.lease_epoch},
        )


def _scan(ctx: MutationContext, p: BaseModel) -> None:
    assert isinstance(p, ScanRecorded)
    ctx.event("scan_recorded", p)
    if p.outcome is ScanOutcome.ACCEPTED and S(ctx.order.status) in (S.CONFIRMED, S.ALLOCATED):
        ctx.move_forward(S.PICKING, p)


def _weight(ctx: MutationContext, p: BaseModel) -> None:
    assert isinstance(p, WeightRecorded)
    ctx.event("weight_recorded", p)


def _parcel(ctx: MutationContext, p: BaseModel) -> None:
    assert isinstance(p, ParcelClosed)
    parcel = ctx.session.scalar(
        select(Parcel).where(Parcel.order_id == ctx.order.id, Parcel.box_no == p.box_no)
    )
    if parcel is None:
        parcel = Parcel(order_id=ctx.order.id, box_no=p.box_no)
        ctx.session.add(parcel)
    parcel.box_type = p.box_type
    parcel.weight_grams = p.weight_grams
    parcel.items = [item.model_dump(mode="json") for item in p.items]
    parcel.status = "closed"
    parcel.station_id = ctx.station.id
    parcel.closed_at = station_time(ctx.mutation)
    ctx.event("parcel_closed", p)
    record_parcel_weight(
        ctx.session,
        station_id=ctx.station.id,
        mutation_id=ctx.mutation.id,
        order=ctx.order,
        parcel=p,
        weighed_at=parcel.closed_at,
    )
    # The label made ahead must fit the measured weight; if not, a new one is requested
    # (the old one cancelled at the carrier) and the station pulls it.
    if (
        p.weight_grams is not None
        and check_label_weight(ctx.session, ctx.order, p.box_no, p.weight_grams, actor=ctx.actor)
        is None
    ):
        parcel.status = "awaiting_label"


def _label(ctx: MutationContext, p: BaseModel) -> None:
    assert isinstance(p, LabelPrinted)
    tracking = p.tracking_number
    if p.label_id is not None:
        label = ctx.session.get(Label, p.label_id)
        if label is None or label.order_id != ctx.order.id:
            raise Rejected(
                RejectReason.INVALID_PAYLOAD,
                "label_not_of_order",
                {"label": p.label_id, "order": ctx.order.number},
            )
        label.status = "printed"
        tracking = tracking or label.tracking_number
        mark_changed(ctx.session, "label", label.id)
    if tracking:
        parcel = ctx.session.scalar(
            select(Parcel).where(Parcel.order_id == ctx.order.id, Parcel.box_no == p.box_no)
        )
        if parcel is not None:
            parcel.tracking_number = tracking
    ctx.event("label_reprinted" if p.reprint else "label_printed", p)


def _exception(ctx: MutationContext, p: BaseModel) -> None:
    assert isinstance(p, ExceptionRaised)
    reason = {"code": p.reason.value, "message": p.text or p.reason.value.replace("_", " ")}
    if S(ctx.order.status) is S.ON_HOLD:
        # Already held (by this or an earlier exception): add the reason, keep the state.
        ctx.order.hold_reasons = [*(ctx.order.hold_reasons or []), reason]
        ctx.order.version = (ctx.order.version or 1) + 1
        ctx.event("hold_reason_added", p)
    else:
        hold(ctx.session, ctx.order, [reason], actor=ctx.actor, station_id=ctx.station.id)
        ctx.event("exception_raised", p)
    ctx.session.add(
        OrderException(
            order_id=ctx.order.id,
            kind="hold",
            code=p.reason.value,
            message=reason["message"],
            details={**ctx.facts(p), "station_id": ctx.station.id},
        )
    )


def _override(ctx: MutationContext, p: BaseModel) -> None:
    assert isinstance(p, OverrideGranted)
    try:
        by = override_actor(ctx.session, ctx.station.id, ctx.order.id, p)
    except OverrideUnproven as exc:
        raise Rejected(RejectReason.OVERRIDE_UNPROVEN, None, message=str(exc)) from None
    record_event(
        ctx.session,
        ctx.order,
        "override_granted",
        actor=by,
        payload={**ctx.facts(p), "verified": by.startswith("user:")},
        station_id=ctx.station.id,
    )
    if p.kind == "weight":
        # Recorded as an already-resolved exception: the audit trail of who let what through.
        at = station_time(ctx.mutation)
        message, say = exception_words("weight_override", by=by, reason=p.reason)
        ctx.session.add(
            OrderException(
                order_id=ctx.order.id,
                kind="weight",
                code="weight_override",
                message=message,
                details={**ctx.facts(p), "station_id": ctx.station.id, "say": say},
                created_at=at,
                resolved_at=at,
                resolved_by=by,
                resolution=p.reason,
            )
        )


def _release(ctx: MutationContext, p: BaseModel) -> None:
    assert isinstance(p, ClaimReleased)
    assert ctx.lease is not None  # check_order guarantees it
    ctx.event("claim_released", p)
    release_lease(
        ctx.session,
        ctx.order,
        ctx.lease,
        actor=ctx.actor,
        station_id=ctx.station.id,
        why="released_by_station",
    )


def _packed(ctx: MutationContext, p: BaseModel) -> None:
    assert isinstance(p, OrderPacked)
    assert ctx.lease is not None
    if S(ctx.order.status) in _PACKED_OR_LATER:
        raise _AlreadyDone()
    # A pack is a physical fact: walk through the states the station skipped, each audited.
    ctx.move_forward(S.PACKED, p)
    ctx.event("order_packed", p)
    consume_order(ctx.session, ctx.order, actor=ctx.actor, event_key="pack")
    _flag_incomplete_parcels(ctx, p)
    release_lease(
        ctx.session, ctx.order, ctx.lease, actor=ctx.actor, station_id=ctx.station.id, why="packed"
    )


def _flag_incomplete_parcels(ctx: MutationContext, p: OrderPacked) -> None:
    """Boxes the service does not see closed and labelled become an exception to act on.

    The station only reports a pack once each box has its printed label, so this is the guard
    for a disagreement (a box whose label the service replaced meanwhile, an old station). The
    pack itself stands, being a physical fact; dispatch leaves the order until it is sorted.
    """
    if not ctx.order.carrier or ctx.order.carrier not in known_carriers():
        return  # labels are made outside Packbench: nothing here to compare
    problems = unpacked_parcels(ctx.session, ctx.order, boxes=p.boxes)
    if not problems:
        return
    message, say = exception_words(
        "packed_incomplete", order=ctx.order.number, problems="; ".join(problems)
    )
    ctx.session.add(
        OrderException(
            order_id=ctx.order.id,
            kind="carrier",
            code="packed_incomplete",
            message=message,
            details={
                **ctx.facts(p),
                "problems": problems,
                "station_id": ctx.station.id,
                "say": say,
            },
        )
    )


class _AlreadyDone(Exception):
    """The same station reported a pack it had already reported: applied, nothing to do."""


def _return_unit(ctx: MutationContext, p: BaseModel) -> dict[str, Any]:
    assert isinstance(p, ReturnUnitReceived)
    return apply_unit(
        ctx.session, ctx.order, p, station_id=ctx.station.id, mutation_id=ctx.mutation.id
    )


def _return_closed(ctx: MutationContext, p: BaseModel) -> dict[str, Any]:
    assert isinstance(p, ReturnClosed)
    return apply_close(ctx.session, ctx.order, p, station_id=ctx.station.id)


# Types that only append an order event: nothing a station pulls changes (no status, lease,
# line or version: an order snapshot does not carry events), so they write no change row
# and leave the order row alone. Writing one made every scan cost an UPDATE of the order
# and a change row, and made the scanning station pull back its own, unchanged order. A
# scan that moves the order on (confirmed -> picking) is marked by transition() itself.
# Progress stays in order_events, where the supervisor's overview and figures read it.
_EVENT_ONLY = frozenset({MutationType.SCAN_RECORDED, MutationType.WEIGHT_RECORDED})

# Returns are received from any bench, long after the order's lease: no lease is checked.
_RETURN_TYPES = frozenset({MutationType.RETURN_UNIT_RECEIVED, MutationType.RETURN_CLOSED})

_HANDLERS: dict[MutationType, Callable[[MutationContext, BaseModel], dict[str, Any] | None]] = {
    MutationType.SCAN_RECORDED: _scan,
    MutationType.WEIGHT_RECORDED: _weight,
    MutationType.PARCEL_CLOSED: _parcel,
    MutationType.LABEL_PRINTED: _label,
    MutationType.EXCEPTION_RAISED: _exception,
    MutationType.OVERRIDE_GRANTED: _override,
    MutationType.CLAIM_RELEASED: _release,
    MutationType.ORDER_PACKED: _packed,
    MutationType.RETURN_UNIT_RECEIVED: _return_unit,
    MutationType.RETURN_CLOSED: _return_closed,
}


@dataclass
class Checked:
    """A mutation that passed every check that needs no write; `apply()` makes its writes."""

    ctx: MutationContext
    kind: MutationType
    payload: BaseModel

    def apply(self) -> dict[str, Any]:
        """Run the handler; may still raise Rejected or IllegalTransition, after writing."""
        order = self.ctx.order
        try:
            extra = _HANDLERS[self.kind](self.ctx, self.payload) or {}
        except _AlreadyDone:
            return {"order_status": order.status, "order_version": order.version, "noop": True}
        if self.kind not in _EVENT_ONLY:
            order.updated_at = utcnow()
            mark_changed(self.ctx.session, "order", order.id)
        return {"order_status": order.status, "order_version": order.version, **extra}


@dataclass
class CheckedOrderless:
    """A mutation about no order (a cycle count); `apply()` makes its writes."""

    session: Session
    station: StationRef
    mutation: Mutation
    payload: BaseModel

    def apply(self) -> dict[str, Any]:
        """Record the count or the person's language; a ServiceError (CountRefused, an
        unknown language or user) refuses it having written nothing."""
        if isinstance(self.payload, UserLanguageSet):
            return set_language_at_station(
                self.session, self.payload, station_id=self.station.id, mutation_id=self.mutation.id
            )
        assert isinstance(self.payload, StockCounted)
        return apply_station_count(
            self.session, self.payload, station_id=self.station.id, mutation_id=self.mutation.id
        )


def check_mutation(
    session: Session,
    station: StationRef,
    mutation: Mutation,
    orders: dict[int, Order],
    leases: dict[int, Lease],
) -> Checked | CheckedOrderless:
    """Type, payload, order and lease checks; raises Rejected having written nothing."""
    kind = parse_type(mutation)
    payload = parse_payload(kind, mutation)
    if kind in ORDERLESS_TYPES:
        if mutation.order_id is not None:
            raise Rejected(RejectReason.INVALID_PAYLOAD, "event_with_order", {"kind": kind.value})
        return CheckedOrderless(session, station, mutation, payload)
    if mutation.order_id is None:
        raise Rejected(RejectReason.INVALID_PAYLOAD, "event_without_order", {"kind": kind.value})
    order = orders.get(mutation.order_id)
    if order is None:
        raise Rejected(RejectReason.UNKNOWN_ORDER, "unknown_order", {"order": mutation.order_id})
    ctx = MutationContext(session, station, mutation, order, leases.get(order.id))
    if kind not in _RETURN_TYPES:
        check_order(ctx)
    return Checked(ctx, kind, payload)


def apply_mutation(
    session: Session,
    station: StationRef,
    mutation: Mutation,
    orders: dict[int, Order],
    leases: dict[int, Lease],
) -> dict[str, Any]:
    """Apply one mutation (the caller holds the order locks); returns its result dict."""
    return check_mutation(session, station, mutation, orders, leases).apply()
