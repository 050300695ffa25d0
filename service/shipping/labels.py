"""Carrier labels ahead of packing, from expected weights, and new ones when a box weighs off.

A label is valid for a weight band: expected grams ± max(100 g, 10 %). The claim path calls
`prepare_labels` right after granting leases, so a station can print offline. When the
station measures a box outside its label's band, `relabel` asks the carrier for a new label
(the old one is cancelled there); until that works the parcel waits in `awaiting_label`.

A carrier that books an order's boxes as one shipment and fixes their number when it books
(GLS: `books_one_shipment`) gets the order's unprinted labels booked again as one shipment of
n parcels when the box count grows, or a box is relabelled (`rebook_shipment`): the old
parcels are deleted there first, then all boxes are booked, so the carrier never holds two
live shipments of the order from a finished attempt.

Every carrier call runs inside a SAVEPOINT: a carrier error rolls back what this attempt
wrote (so no tracking number exists without its label) and opens a `carrier` exception.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.carriers.base import (
    Address,
    CarrierAdapter,
    CarrierError,
    CreatedParcel,
    OneShipmentCarrier,
    ParcelSpec,
    ShipmentRequest,
    books_one_shipment,
    refuses_pickup_point,
)
from service.carriers.registry import carrier_config, get_adapter, known_carriers, sender_address
from service.changes import mark_changed
from service.db import utcnow
from service.jobs.queue import enqueue
from service.lifecycle import PACKABLE, OrderStatus, record_event
from service.models import Label, Order, OrderEvent, OrderException, Parcel, Product
from service.shipping.carrier_errors import record_carrier_error
from sync.protocol import exception_words

log = logging.getLogger(__name__)

BOX_GRAMS_ENV = "PACKBENCH_DEFAULT_BOX_GRAMS"
DEFAULT_BOX_GRAMS = 250
MIN_TOLERANCE_GRAMS = 100
TOLERANCE_RATIO = 0.10
LIVE = ("ready", "printed")


def default_box_grams() -> int:
    """The empty box and fill the expected weight adds (PACKBENCH_DEFAULT_BOX_GRAMS, 250 g)."""
    raw = os.environ.get(BOX_GRAMS_ENV, "").strip()
    return int(raw) if raw.isdigit() else DEFAULT_BOX_GRAMS


def weight_band(grams: int) -> tuple[int, int]:
    """(min, max) grams a label for `grams` stays valid for."""
    delta = max(MIN_TOLERANCE_GRAMS, math.ceil(grams * TOLERANCE_RATIO))
    return max(0, grams - delta), grams + delta


def expected_grams(session: Session, order: Order) -> int:
    """Sum of product weight x quantity over the lines, plus the default box."""
    ids = [line.product_id for line in order.lines if line.product_id is not None]
    skus = [line.sku for line in order.lines if line.product_id is None]
    by_id: dict[int, int] = {}
    by_sku: dict[str, int] = {}
    if ids:
        for pid, grams in session.execute(
            select(Product.id, Product.weight_grams).where(Product.id.in_(ids))
        ):
            by_id[pid] = grams or 0
    if skus:
        for sku, grams in session.execute(
            select(Product.sku, Product.weight_grams).where(Product.sku.in_(skus))
        ):
            by_sku[sku] = grams or 0
    total = 0
    for line in order.lines:
        unit = by_id.get(line.product_id or -1, by_sku.get(line.sku, 0))
        total += unit * line.quantity
    return total + default_box_grams()


def recipient(order: Order) -> Address:
    """The order's shipping address as carriers want it."""
    return Address(
        name=order.ship_name,
        company=order.ship_company,
        street1=order.ship_street1,
        street2=order.ship_street2,
        postcode=order.ship_postcode,
        city=order.ship_city,
        region=order.ship_region,
        country=order.ship_country,
        email=order.email,
        phone=order.phone,
    )


def adapter_for(order: Order) -> tuple[CarrierAdapter, dict[str, object]]:
    """The order's carrier adapter, configured for its channel."""
    config = carrier_config(order.carrier, order.channel.settings if order.channel else None)
    return get_adapter(order.carrier, config), config


def live_labels(session: Session, order_id: int, box_no: int | None = None) -> list[Label]:
    """Labels of the order (or of one box) that are ready or printed."""
    q = select(Label).where(Label.order_id == order_id, Label.status.in_(LIVE))
    if box_no is not None:
        q = q.where(Label.parcel_no == box_no)
    return list(session.scalars(q.order_by(Label.parcel_no, Label.id)))


def _store(
    session: Session,
    order: Order,
    created: Sequence[CreatedParcel],
    parcel_count: int,
    bands: dict[int, tuple[int, int]],
) -> list[Label]:
    labels: list[Label] = []
    for c in created:
        low, high = bands[c.box_no]
        label = Label(
            order_id=order.id,
            parcel_no=c.box_no,
            parcel_count=parcel_count,
            carrier=order.carrier,
            tracking_number=c.tracking_number,
            format=c.label_format,
            content=c.label,
            weight_min_grams=low,
            weight_max_grams=high,
            status="ready",
            carrier_ref=c.carrier_ref,
        )
        session.add(label)
        labels.append(label)
    session.flush()
    for label in labels:
        mark_changed(session, "label", label.id)
    return labels


def _shipment_request(
    order: Order, config: dict[str, object], weights: dict[int, int], count: int
) -> ShipmentRequest:
    """What the carrier is asked to label: these boxes ({box_no: grams}) of `count`."""
    fmt = str(config.get("label_format", "zpl"))
    dpi = str(config.get("dpi") or "203")
    return ShipmentRequest(
        order_number=order.number,
        sender=sender_address(config),
        recipient=recipient(order),
        parcels=[ParcelSpec(box, grams) for box, grams in sorted(weights.items())],
        parcel_count=count,
        service=order.service,
        label_format="pdf" if fmt == "pdf" else "zpl",
        pickup_point=order.pickup_point,
        cod_amount=order.total_amount if order.payment_state == "cod" else None,
        currency=order.currency,
        value=order.total_amount,
        dpi=int(dpi) if dpi.isdigit() else 203,
    )


def create_labels(
    session: Session,
    order: Order,
    weights: dict[int, int],
    *,
    parcel_count: int | None = None,
    actor: str = "service",
) -> list[Label]:
    """Labels for the given boxes ({box_no: grams}); [] and a carrier exception on failure."""
    count = parcel_count or max(weights)
    try:
        adapter, config = adapter_for(order)
    except CarrierError as exc:
        record_carrier_error(session, order, exc, actor=actor, boxes=sorted(weights))
        return []
    request = _shipment_request(order, config, weights, count)
    refusal = refuses_pickup_point(adapter, request)
    if refusal is not None:
        record_carrier_error(session, order, refusal, actor=actor, boxes=sorted(weights))
        return []
    bands = {box: weight_band(grams) for box, grams in weights.items()}
    created: list[CreatedParcel] = []
    try:
        with session.begin_nested():
            created = adapter.create_shipment(session, request)
            labels = _store(session, order, created, count, bands)
    except CarrierError as exc:
        record_carrier_error(session, order, exc, actor=actor, boxes=sorted(weights))
        return []
    except Exception:
        # The carrier made labels but we could not keep them: take them back there too.
        for c in created:
            _cancel_quietly(session, adapter, c)
        raise
    record_event(
        session,
        order,
        "labels_created",
        actor=actor,
        payload={
            "carrier": order.carrier,
            "labels": [
                {
                    "box_no": lb.parcel_no,
                    "tracking_number": lb.tracking_number,
                    "min": lb.weight_min_grams,
                    "max": lb.weight_max_grams,
                }
                for lb in labels
            ],
        },
    )
    return labels


def _cancel_quietly(session: Session, adapter: CarrierAdapter, created: CreatedParcel) -> bool:
    try:
        adapter.cancel(session, created)
    except CarrierError as exc:
        log.warning("could not cancel %s at %s: %s", created.tracking_number, adapter.name, exc)
        return False
    return True


def prepare_labels(session: Session, order_ids: Iterable[int], *, actor: str = "service") -> int:
    """Labels from expected weights for newly claimed orders that have none; returns how many.

    Orders whose carrier has no adapter (labels made elsewhere) are left alone.
    """
    made = 0
    for oid in sorted(set(order_ids)):
        order = session.get(Order, oid)
        if order is None or not order.carrier or order.carrier not in known_carriers():
            continue
        if OrderStatus(order.status) not in PACKABLE or live_labels(session, oid):
            continue
        made += len(create_labels(session, order, {1: expected_grams(session, order)}, actor=actor))
    return made


def _parcel(session: Session, order: Order, box_no: int) -> Parcel:
    parcel = session.scalar(
        select(Parcel).where(Parcel.order_id == order.id, Parcel.box_no == box_no)
    )
    if parcel is None:
        parcel = Parcel(order_id=order.id, box_no=box_no, status="open", items=[])
        session.add(parcel)
        session.flush()
    return parcel


def cancel_label(session: Session, label: Label, *, actor: str = "service") -> str:
    """Cancel a label here and at its carrier: "cancelled", "queued" (the carrier was away; a
    `label_void` job retries it) or "refused" (the carrier will not; logged)."""
    outcome = "cancelled"
    if label.status != "cancelled":
        try:
            adapter, _config = adapter_for(session.get_one(Order, label.order_id))
            adapter.cancel(
                session,
                CreatedParcel(
                    label.parcel_no, label.tracking_number, label.carrier_ref, "zpl", b""
                ),
            )
        except CarrierError as exc:
            log.warning("carrier kept label %s: %s", label.tracking_number, exc)
            outcome = "refused"
            if exc.transient:
                enqueue(
                    session,
                    "label_void",
                    now=utcnow(),
                    dedupe_key=f"label_void:{label.id}",
                    order_id=label.order_id,
                    target=label.carrier,
                    payload={"label_id": label.id},
                )
                outcome = "queued"
        label.status = "cancelled"
        mark_changed(session, "label", label.id)
    return outcome


def _cancel_recorded(
    session: Session, order: Order, label: Label, *, actor: str, reason: str, **details: Any
) -> str:
    """`cancel_label` plus its `label_cancelled` order event; returns its outcome."""
    outcome = cancel_label(session, label, actor=actor)
    record_event(
        session,
        order,
        "label_cancelled",
        actor=actor,
        payload={
            "box_no": label.parcel_no,
            "tracking_number": label.tracking_number,
            "reason": reason,
            **details,
            "carrier_cancelled": outcome == "cancelled",
            "carrier_cancel_queued": outcome == "queued",
        },
    )
    return outcome


def void_labels(session: Session, order: Order, *, reason: str, actor: str = "service") -> int:
    """Cancel every live label of a cancelled order, here and at its carrier; returns how many.

    A label is cancelled here at once (the station must never print it). A carrier that is
    away gets a durable `label_void` job; one that refuses, or a job that dies, becomes a
    `carrier` exception, so a person voids it at the carrier before it is billed.
    """
    voided = 0
    for label in live_labels(session, order.id):
        if _cancel_recorded(session, order, label, actor=actor, reason=reason) == "refused":
            message, say = exception_words(
                "label_not_voided",
                carrier=label.carrier,
                tracking=label.tracking_number,
                order=order.number,
            )
            session.add(
                OrderException(
                    order_id=order.id,
                    kind="carrier",
                    code="label_not_voided",
                    message=message,
                    details={
                        "carrier": label.carrier,
                        "tracking_number": label.tracking_number,
                        "say": say,
                    },
                )
            )
        voided += 1
    return voided


def relabel(
    session: Session, order: Order, box_no: int, grams: int, *, actor: str = "service"
) -> Label | None:
    """A new label for box `box_no` at `grams`, the old one cancelled; None if the carrier failed.

    Until a label exists the parcel stays `awaiting_label` (the station keeps waiting).
    """
    parcel = _parcel(session, order, box_no)
    before = (
        parcel.status
        if parcel.status != "awaiting_label"
        else ("closed" if parcel.closed_at else "open")
    )
    parcel.status = "awaiting_label"
    parcel.weight_grams = grams  # the latest measurement wins
    one = _one_shipment_adapter(session, order)
    if one is not None:
        count = _box_count(session, order, box_no)
        had = live_labels(session, order.id, box_no)
        why = "weight_out_of_band" if had else "parcel_count"
        new = rebook_shipment(session, order, one, count, actor=actor, reason=why)
        mine = next((lb for lb in new if lb.parcel_no == box_no), None)
        if mine is None:
            return None
        parcel.status = before
        return mine
    old = live_labels(session, order.id, box_no)
    others = [lb.parcel_count for lb in live_labels(session, order.id) if lb.parcel_no != box_no]
    count = max([box_no, *others])
    new = create_labels(session, order, {box_no: grams}, parcel_count=count, actor=actor)
    if not new:
        return None
    for label in old:
        _cancel_recorded(
            session, order, label, actor=actor, reason="weight_out_of_band", grams=grams
        )
    parcel.status = before
    parcel.tracking_number = new[0].tracking_number
    return new[0]


def label_fits(label: Label, grams: int) -> bool:
    """Whether a measured weight is inside the label's band."""
    return label.weight_min_grams <= grams <= label.weight_max_grams


def check_weight(
    session: Session, order: Order, box_no: int, grams: int, *, actor: str = "service"
) -> Label | None:
    """For a measured box: the label to print (existing if in band, else a new one), or None.

    The hook for weight_recorded / parcel_closed: None means the parcel is awaiting_label.
    """
    label = next(
        (lb for lb in live_labels(session, order.id, box_no) if label_fits(lb, grams)), None
    )
    if label is not None and _one_shipment_adapter(session, order) is not None:
        if any(lb.parcel_count < box_no for lb in live_labels(session, order.id)):
            _parcel(session, order, box_no).weight_grams = grams
            count_parcels(session, order, box_no, actor=actor)  # one booking for all boxes
            return next(iter(live_labels(session, order.id, box_no)), None)
        return label
    if label is None:
        label = relabel(session, order, box_no, grams, actor=actor)
        if label is None and _one_shipment_adapter(session, order) is not None:
            return None  # the booking failed once already in this request: wait, no retry
    count_parcels(session, order, box_no, actor=actor)
    return label


def count_parcels(session: Session, order: Order, count: int, *, actor: str = "service") -> None:
    """Make the order's labels count at least `count` parcels, box `count` having closed.

    A station prints an order's labels once its last box is weighed, so labels made while
    fewer boxes were known are not on a box yet. A carrier whose label shows "parcel n of m"
    renders it again (same parcel, same tracking number); for others only the stored count
    changes. A printed label is left alone; the station never prints a label whose count is
    not the order's.
    """
    stale = [
        lb
        for lb in live_labels(session, order.id)
        if lb.parcel_count < count and lb.status != "printed"
    ]
    if not stale:
        return
    one = _one_shipment_adapter(session, order)
    if one is not None:
        rebook_shipment(
            session,
            order,
            one,
            _box_count(session, order, count),
            actor=actor,
            reason="parcel_count",
        )
        return
    try:
        adapter, config = adapter_for(order)
    except CarrierError:
        return  # recorded when its labels were made
    for label in stale:
        parcel = session.scalar(
            select(Parcel).where(Parcel.order_id == order.id, Parcel.box_no == label.parcel_no)
        )
        grams = (
            parcel.weight_grams
            if parcel is not None and parcel.weight_grams is not None
            else (label.weight_min_grams + label.weight_max_grams) // 2
        )
        request = _shipment_request(order, config, {label.parcel_no: grams}, count)
        try:
            again = adapter.recount(session, request, label.tracking_number)
        except CarrierError as exc:
            record_carrier_error(session, order, exc, actor=actor, boxes=[label.parcel_no])
            continue  # the station keeps waiting for a label that counts the boxes
        label.parcel_count = count
        if again is not None:
            label.content = again.label
        mark_changed(session, "label", label.id)
        record_event(
            session,
            order,
            "label_recounted",
            actor=actor,
            payload={
                "box_no": label.parcel_no,
                "tracking_number": label.tracking_number,
                "parcel_count": count,
                "printed_again": again is not None,
            },
        )


def _one_shipment_adapter(session: Session, order: Order) -> OneShipmentCarrier | None:
    """The order's adapter if it books all boxes as one shipment and none of the order's
    labels is printed yet (a printed label is never touched: then each box keeps its own)."""
    if not order.carrier or order.carrier not in known_carriers():
        return None
    try:
        adapter, _config = adapter_for(order)
    except CarrierError:
        return None
    if any(lb.status == "printed" for lb in live_labels(session, order.id)):
        return None
    return books_one_shipment(adapter)


def _box_count(session: Session, order: Order, box_no: int) -> int:
    """How many boxes the order has with box `box_no` known: the highest of it, the count its
    labels say, and the highest weighed box."""
    weighed: list[int] = list(
        session.scalars(
            select(Parcel.box_no).where(
                Parcel.order_id == order.id, Parcel.weight_grams.is_not(None)
            )
        )
    )
    counts = [lb.parcel_count for lb in live_labels(session, order.id)]
    return max([box_no, *counts, *weighed])


def _box_weights(session: Session, order: Order, count: int) -> dict[int, int]:
    """Grams of boxes 1..count: as weighed, else the middle of its label's band, else the
    default box."""
    weighed = {
        p.box_no: p.weight_grams
        for p in session.scalars(select(Parcel).where(Parcel.order_id == order.id))
        if p.weight_grams is not None
    }
    labelled = {
        lb.parcel_no: (lb.weight_min_grams + lb.weight_max_grams) // 2
        for lb in live_labels(session, order.id)
    }
    return {
        box: weighed.get(box) or labelled.get(box) or default_box_grams()
        for box in range(1, count + 1)
    }


def _as_parcel(label: Label) -> CreatedParcel:
    return CreatedParcel(label.parcel_no, label.tracking_number, label.carrier_ref, "zpl", b"")


def rebook_shipment(
    session: Session,
    order: Order,
    adapter: OneShipmentCarrier,
    count: int,
    *,
    actor: str = "service",
    reason: str = "parcel_count",
) -> list[Label]:
    """Book the order's boxes 1..count as ONE shipment of `count` parcels; its new labels.

    For a carrier that fixes the parcel count at booking (GLS). None of the order's labels is
    printed (the caller checked). In this order, each step stopping at the first failure with a
    `carrier` exception, so the station keeps waiting and never prints a stale count:

    1. ask the carrier what it holds under the order's reference: a shipment booked by an
       earlier attempt whose answer was lost (a timeout) is in no label here; it is deleted,
       so a retry never leaves two live shipments (without that answer nothing is deleted or
       booked);
    2. delete the order's unprinted parcels there, each label cancelled here as it goes;
    3. book all boxes as one shipment and keep its labels, one per box ("k of n").

    A failure after step 2 leaves the order without a label and the exception open; the next
    weighing or closing of a box (a retry) starts again at step 1.
    """
    old = live_labels(session, order.id)
    weights = _box_weights(session, order, count)
    boxes = sorted(weights)
    now = utcnow()
    firsts = list(session.scalars(select(Label.created_at).where(Label.order_id == order.id)))
    since = min([*firsts, now]) - timedelta(days=1)
    try:
        held = adapter.find_parcels(session, order.number, since, now + timedelta(days=1))
    except CarrierError as exc:
        record_carrier_error(session, order, exc, actor=actor, boxes=boxes, step="lookup")
        return []
    known = set(session.scalars(select(Label.carrier_ref).where(Label.carrier == order.carrier)))
    # Strays deleted by an earlier attempt stay deleted (in case the carrier still lists them).
    known |= {
        str((payload or {}).get("carrier_ref"))
        for payload in session.scalars(
            select(OrderEvent.payload).where(
                OrderEvent.order_id == order.id, OrderEvent.type == "label_cancelled"
            )
        )
        if (payload or {}).get("reason") == "unrecorded_booking"
    }
    strays = [p for p in held if p.carrier_ref not in known]
    for stray in strays:
        try:
            adapter.cancel(session, stray)
        except CarrierError as exc:
            record_carrier_error(session, order, exc, actor=actor, boxes=boxes, step="delete")
            return []
        record_event(
            session,
            order,
            "label_cancelled",
            actor=actor,
            payload={
                "box_no": None,
                "tracking_number": stray.tracking_number,
                "carrier_ref": stray.carrier_ref,
                "reason": "unrecorded_booking",
                "carrier_cancelled": True,
                "carrier_cancel_queued": False,
            },
        )
    for label in old:
        try:
            adapter.cancel(session, _as_parcel(label))
        except CarrierError as exc:
            record_carrier_error(
                session, order, exc, actor=actor, boxes=boxes, step="delete",
                tracking_number=label.tracking_number,
            )  # fmt: skip
            return []
        label.status = "cancelled"
        mark_changed(session, "label", label.id)
        record_event(
            session,
            order,
            "label_cancelled",
            actor=actor,
            payload={
                "box_no": label.parcel_no,
                "tracking_number": label.tracking_number,
                "reason": reason,
                "parcel_count": label.parcel_count,
                "rebooked_as": count,
                "carrier_cancelled": True,
                "carrier_cancel_queued": False,
            },
        )
    new = create_labels(session, order, weights, parcel_count=count, actor=actor)
    if not new:
        return []
    numbers = {lb.tracking_number for lb in old}
    by_box = {lb.parcel_no: lb for lb in new}
    for parcel in session.scalars(select(Parcel).where(Parcel.order_id == order.id)):
        if parcel.box_no in by_box and (
            parcel.tracking_number is None or parcel.tracking_number in numbers
        ):
            parcel.tracking_number = by_box[parcel.box_no].tracking_number
    record_event(
        session,
        order,
        "shipment_rebooked",
        actor=actor,
        payload={
            "carrier": order.carrier,
            "reason": reason,
            "parcel_count": count,
            "voided": [lb.tracking_number for lb in old],
            "unrecorded_deleted": [p.tracking_number for p in strays],
            "made": [lb.tracking_number for lb in new],
        },
    )
    return new


class LabelKept(Exception):
    """The carrier would not void a label (e.g. it already scanned the parcel)."""

    def __init__(self, label: Label, error: CarrierError) -> None:
        super().__init__(str(error))
        self.label = label
        self.error = error


class NoNewLabel(Exception):
    """The carrier made no new label; `message` is the carrier exception's text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def replace_label(session: Session, order: Order, label: Label, *, actor: str) -> tuple[Label, str]:
    """A new label for `label`'s box (same weight band), the old one voided at its carrier.

    The new label is made first, so a carrier that makes none changes nothing (NoNewLabel).
    Then the old one is voided: a carrier that refuses (already scanned) gets the new label
    back and LabelKept is raised, so the caller rolls back and the old label stays valid; a
    carrier that is away gets the durable `label_void` job, as for a cancelled order.
    Returns the new label and the old one's outcome ("cancelled" or "queued").
    """
    try:
        adapter, _config = adapter_for(order)
    except CarrierError as exc:
        raise NoNewLabel(str(exc)) from exc
    parcel = session.scalar(
        select(Parcel).where(Parcel.order_id == order.id, Parcel.box_no == label.parcel_no)
    )
    grams = (
        parcel.weight_grams
        if parcel is not None and parcel.weight_grams is not None
        else (label.weight_min_grams + label.weight_max_grams) // 2
    )
    before = set(
        session.scalars(
            select(OrderException.id).where(
                OrderException.order_id == order.id, OrderException.resolved_at.is_(None)
            )
        )
    )
    new = create_labels(
        session, order, {label.parcel_no: grams}, parcel_count=label.parcel_count, actor=actor
    )
    if not new:
        made = session.scalars(
            select(OrderException)
            .where(OrderException.order_id == order.id, OrderException.resolved_at.is_(None))
            .order_by(OrderException.id.desc())
        ).first()
        why = made.message if made is not None and made.id not in before else "no label came back"
        raise NoNewLabel(why)
    old = CreatedParcel(label.parcel_no, label.tracking_number, label.carrier_ref, "zpl", b"")
    outcome = "cancelled"
    try:
        adapter.cancel(session, old)
    except CarrierError as exc:
        if not exc.transient:
            created = new[0]
            _cancel_quietly(
                session,
                adapter,
                CreatedParcel(
                    created.parcel_no, created.tracking_number, created.carrier_ref, "zpl", b""
                ),
            )
            raise LabelKept(label, exc) from exc
        enqueue(
            session,
            "label_void",
            now=utcnow(),
            dedupe_key=f"label_void:{label.id}",
            order_id=label.order_id,
            target=label.carrier,
            payload={"label_id": label.id},
        )
        outcome = "queued"
    label.status = "cancelled"
    mark_changed(session, "label", label.id)
    record_event(
        session,
        order,
        "label_cancelled",
        actor=actor,
        payload={
            "box_no": label.parcel_no,
            "tracking_number": label.tracking_number,
            "reason": "relabelled",
            "carrier_cancelled": outcome == "cancelled",
            "carrier_cancel_queued": outcome == "queued",
        },
    )
    if parcel is not None:
        parcel.tracking_number = new[0].tracking_number
    return new[0], outcome
