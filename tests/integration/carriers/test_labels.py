"""Labels ahead of packing, relabelling out of band, concurrent number allocation."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from service.carriers.numbers import is_valid_tracking
from service.models import ChangeRow, Label, Order, OrderEvent, OrderException, Parcel
from service.shipping.labels import (
    check_weight,
    expected_grams,
    live_labels,
    prepare_labels,
    relabel,
)


def test_claimed_order_gets_a_label_from_expected_weight(
    sessions: sessionmaker[Session], make_order: Callable[..., int]
) -> None:
    oid = make_order()
    with sessions() as s, s.begin():
        assert expected_grams(s, s.get_one(Order, oid)) == 2 * 300 + 450 + 250
        assert prepare_labels(s, [oid]) == 1
        assert prepare_labels(s, [oid]) == 0  # already labelled: nothing new
    with sessions() as s:
        (label,) = s.scalars(select(Label).where(Label.order_id == oid)).all()
        assert (label.weight_min_grams, label.weight_max_grams) == (1170, 1430)
        assert label.format == "zpl" and label.status == "ready" and label.carrier == "house"
        assert is_valid_tracking(label.tracking_number)
        assert label.tracking_number.encode() in label.content
        # In the pull feed, so the station that holds the order receives it.
        assert s.scalar(
            select(func.count()).where(ChangeRow.entity == "label", ChangeRow.entity_id == label.id)
        )


def test_label_format_per_channel_and_carriers_without_an_adapter_are_left_alone(
    sessions: sessionmaker[Session], make_order: Callable[..., int]
) -> None:
    dhl = make_order(carrier="dhl")
    pdf = make_order(channel="pdfshop", settings={"carriers": {"house": {"label_format": "pdf"}}})
    with sessions() as s, s.begin():
        assert prepare_labels(s, [dhl, pdf]) == 1
        assert s.scalar(select(func.count()).select_from(OrderException)) == 0
        label = s.scalars(select(Label)).one()
        assert label.order_id == pdf
        assert label.format == "pdf" and label.content.startswith(b"%PDF")


def test_weight_in_band_keeps_the_label_out_of_band_relabels(
    sessions: sessionmaker[Session], make_order: Callable[..., int]
) -> None:
    oid = make_order()
    with sessions() as s, s.begin():
        prepare_labels(s, [oid])
    with sessions() as s, s.begin():
        order = s.get_one(Order, oid)
        first = check_weight(s, order, 1, 1300)
        assert first is not None and first.status == "ready"
        second = check_weight(s, order, 1, 1800)
        assert second is not None and second.id != first.id
        assert (second.weight_min_grams, second.weight_max_grams) == (1620, 1980)
        assert first.status == "cancelled"
        parcel = s.scalars(select(Parcel).where(Parcel.order_id == oid)).one()
        assert parcel.status == "open" and parcel.tracking_number == second.tracking_number
        types = list(s.scalars(select(OrderEvent.type).where(OrderEvent.order_id == oid)))
        assert types.count("labels_created") == 2 and "label_cancelled" in types
        # A second box gets its own label, "parcel 2 of 2", and box 1's label (not printed:
        # a station prints once the last box is weighed) is rendered again as "1 of 2": the
        # same label and tracking number, in the pull feed again.
        number = second.tracking_number
        label2 = check_weight(s, order, 2, 700)
        assert label2 is not None and (label2.parcel_no, label2.parcel_count) == (2, 2)
        assert b"Parcel 2 of 2" in label2.content
        (box1,) = [lb for lb in live_labels(s, oid) if lb.parcel_no == 1]
        assert box1.id == second.id and box1.tracking_number == number
        assert box1.status == "ready" and box1.parcel_count == 2
        assert b"Parcel 1 of 2" in box1.content and b"Parcel 1 of 1" not in box1.content
        recounted = s.scalars(
            select(OrderEvent.payload).where(
                OrderEvent.order_id == oid, OrderEvent.type == "label_recounted"
            )
        ).all()
        assert recounted == [
            {"box_no": 1, "tracking_number": number, "parcel_count": 2, "printed_again": True}
        ]
        # A printed label is on a box already: it is left as it is.
        box1.status = "printed"
        check_weight(s, order, 3, 400)
        assert box1.status == "printed" and box1.parcel_count == 2
        assert label2.parcel_count == 3 and b"Parcel 2 of 3" in label2.content


def test_relabel_failure_leaves_the_parcel_awaiting_label_and_no_tracking_number(
    sessions: sessionmaker[Session], make_order: Callable[..., int]
) -> None:
    oid = make_order(ship_street1="", ship_city="")  # the house carrier rejects it
    with sessions() as s, s.begin():
        assert relabel(s, s.get_one(Order, oid), 1, 900) is None
    with sessions() as s:
        parcel = s.scalars(select(Parcel).where(Parcel.order_id == oid)).one()
        assert parcel.status == "awaiting_label" and parcel.tracking_number is None
        assert s.scalar(select(func.count()).select_from(Label)) == 0
        exc = s.scalars(select(OrderException)).one()
        assert exc.kind == "carrier" and exc.code == "carrier_rejected"
        assert "no street or city" in exc.message


def test_concurrent_shipments_never_share_a_tracking_number(
    sessions: sessionmaker[Session], make_order: Callable[..., int]
) -> None:
    ids = [make_order() for _ in range(6)]
    errors: list[BaseException] = []

    def work(oid: int) -> None:
        try:
            with sessions() as s, s.begin():
                prepare_labels(s, [oid])
        except BaseException as exc:  # reported below, in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(oid,)) for oid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    with sessions() as s:
        numbers = list(s.scalars(select(Label.tracking_number)))
    assert len(numbers) == 6 and len(set(numbers)) == 6
