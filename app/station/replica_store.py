"""The station's ports over the local replica (`sync.replica`): catalogue, orders, users, outbox."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from app.packing.events import PackEvent
from app.packing.gtin import normalise_gtin
from app.packing.model import Catalog, LineView, OrderView, ProductRef
from app.packing.weight_rules import LearnedWeight
from app.station.ports import BatchOrderRow, BatchRow, LeaseRecord, OrderRecord, UserRecord
from sync.protocol import OrderSnapshot, ProductSnapshot
from sync.replica import Replica

log = logging.getLogger(__name__)

PACKED_STATES = frozenset({"packed", "shipped", "delivered", "completed"})


def product_ref(p: ProductSnapshot) -> ProductRef:
    """The pack session's view of a cached product."""
    return ProductRef(
        product_id=p.id,
        sku=p.sku,
        name=p.name,
        weight_grams=p.weight_grams,
        serial_required=p.serial_required,
        gtins=tuple(p.gtins),
        aliases=tuple(p.aliases),
        serial_pattern=p.serial_pattern,
    )


class ReplicaCatalog:
    """`Catalog` over the replica's indexed product lookups."""

    def __init__(self, replica: Replica) -> None:
        self.replica = replica

    def by_code(self, text: str) -> ProductRef | None:
        """A product by SKU (normalised like the service does) or alias."""
        key = text.strip()
        found = self.replica.product_by_sku(key.upper()) or self.replica.product_by_alias(key)
        return product_ref(found) if found else None

    def by_gtin14(self, gtin14: str) -> ProductRef | None:
        """A product by normalised GTIN-14."""
        found = self.replica.product_by_gtin14(gtin14)
        return product_ref(found) if found else None

    def code_containing(self, fragment: str) -> str | None:
        """A longer SKU or alias that contains `fragment`, or None."""
        return self.replica.product_code_containing(fragment)


class ReplicaStore:
    """`StationStore` over the replica; `record` commits to the outbox before returning."""

    def __init__(self, replica: Replica, station_id: int) -> None:
        self.replica = replica
        self.station_id = station_id
        self.catalog: Catalog = ReplicaCatalog(replica)

    def user_by_badge(self, badge: str) -> UserRecord | None:
        for user in self.replica.users_by_badge(badge.strip()):
            if user.active:
                return UserRecord(
                    user.id, user.name, user.role, user.badge, user.pin, language=user.language
                )
        return None

    def _record(self, snap: OrderSnapshot) -> OrderRecord:
        lines = []
        products = self.replica.products_by_skus(line.sku for line in snap.lines)
        for line in snap.lines:
            product = products.get(line.sku.strip().upper())
            lines.append(
                LineView(
                    line_id=line.line_id,
                    sku=line.sku,
                    name=line.name,
                    quantity=line.quantity,
                    product_id=line.product_id,
                    serial_required=bool(product and product.serial_required),
                    weight_grams=product.weight_grams if product else None,
                    gtins=tuple(g for g in (product.gtins if product else ()) if normalise_gtin(g)),
                    aliases=tuple(product.aliases) if product else (),
                    serial_pattern=product.serial_pattern if product else None,
                    image_url=product.image_url if product else None,
                )
            )
        lease = snap.lease
        view = OrderView(
            id=snap.id,
            number=snap.number,
            status=snap.status,
            lines=tuple(lines),
            lease_epoch=lease.epoch if lease else None,
            carrier=snap.carrier,
            service=snap.service,
            tote=snap.tote,
            channel=snap.channel,
        )
        ship = snap.ship_to
        address = (
            tuple(
                part
                for part in (
                    ship.name,
                    ship.company,
                    ship.street1,
                    ship.street2,
                    f"{ship.postcode} {ship.city}".strip(),
                    ship.country,
                )
                if part
            )
            if ship
            else ()
        )
        return OrderRecord(
            view=view,
            lease=LeaseRecord(lease.station_id, lease.station_name, lease.epoch, lease.expires_at)
            if lease
            else None,
            batch_id=snap.batch_id,
            country=snap.country,
            priority=snap.priority,
            cutoff_at=snap.cutoff_at,
            ship_to=address,
            packing_slip=snap.packing_slip,
            pickup_point=(snap.pickup_point.id, snap.pickup_point.name)
            if snap.pickup_point
            else None,
            cod=f"{snap.cod_amount:.2f} {snap.currency}".strip()
            if snap.cod_amount is not None
            else "",
            cod_amount=snap.cod_amount,
            currency=snap.currency,
            language=snap.language,
        )

    def order_by_code(self, code: str) -> OrderRecord | None:
        snap = self.replica.order_by_code(code.strip())
        return self._record(snap) if snap else None

    def order_by_id(self, order_id: int) -> OrderRecord | None:
        snap = self.replica.order_by_id(order_id)
        return self._record(snap) if snap else None

    def batches(self) -> Sequence[BatchRow]:
        rows = []
        batches = self.replica.batches_for_station(self.station_id)
        known = self.replica.order_statuses(i for b in batches for i in b.order_ids)
        for batch in batches:
            statuses = [known[i] for i in batch.order_ids if i in known]
            rows.append(
                BatchRow(
                    id=batch.id,
                    code=batch.code,
                    name=batch.name,
                    total=len(batch.order_ids),
                    packed=sum(s in PACKED_STATES for s in statuses),
                    held=sum(s == "on_hold" for s in statuses),
                    cutoff_at=batch.cutoff_at,
                )
            )
        return rows

    def batch_orders(self, batch_id: int) -> Sequence[BatchOrderRow]:
        """The orders of one of this station's batches, in the batch's order."""
        for batch in self.replica.batches_for_station(self.station_id):
            if batch.id != batch_id:
                continue
            rows = []
            for order_id in batch.order_ids:
                snap = self.replica.order_by_id(order_id)
                if snap is None:
                    continue
                view = self._record(snap).view
                rows.append(
                    BatchOrderRow(view.id, view.number, view.tote, view.status, view.total_units)
                )
            return rows
        return []

    def record(self, events: Sequence[PackEvent]) -> None:
        self.replica.record(
            [(e.type.value, e.order_id, e.lease_epoch, e.payload_json()) for e in events]
        )

    def order_events(self, order_id: int) -> Sequence[PackEvent]:
        events = []
        for local in self.replica.local_events(order_id):
            if local.status == "rejected" or local.order_id is None:
                continue  # the service refused it: it is not part of the order's progress
            try:
                events.append(
                    PackEvent.from_record(
                        local.type, local.order_id, local.payload, local.lease_epoch
                    )
                )
            except ValueError:
                log.warning("skipping unreadable local event %s of order %s", local.id, order_id)
        return events

    def queued_events(self, order_id: int, after: int) -> Sequence[PackEvent]:
        events = []
        for local in self.replica.local_events(order_id):
            if local.id <= after or local.status == "rejected" or local.order_id is None:
                continue
            try:
                events.append(
                    PackEvent.from_record(
                        local.type, local.order_id, local.payload, local.lease_epoch
                    )
                )
            except ValueError:
                log.warning("skipping unreadable local event %s of order %s", local.id, order_id)
        return events

    def queue_depth(self) -> int:
        return self.replica.queue_depth()

    def weight_profile(self, contents_key: str) -> LearnedWeight | None:
        found = self.replica.weight_profile(contents_key)
        if found is None:
            return None
        return LearnedWeight(found.parcels, found.mean_grams, found.stdev_grams)
