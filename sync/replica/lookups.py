"""Read-side of the replica: the indexed lookups a packing station does on every scan.

Every lookup is one indexed query plus parsing one JSON document, so it stays far below
the 2 ms budget with 100k orders cached.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, or_, select

from sync.protocol import (
    BatchSnapshot,
    LabelSnapshot,
    OrderSnapshot,
    ProductSnapshot,
    UserSnapshot,
    WeightProfileSnapshot,
    holdings_checksum,
)
from sync.replica import tables as t


@dataclass(frozen=True, slots=True)
class LocalEvent:
    """A mutation this station recorded, with the service's verdict once it is known."""

    id: int
    type: str
    order_id: int | None
    lease_epoch: int | None
    at: datetime
    payload: dict[str, Any]
    status: str  # pending | applied | rejected | acknowledged (applied, result not returned)
    reason: str | None = None
    message: str | None = None


class ReplicaLookups:
    """Indexed reads; mixed into Replica, which provides the engine."""

    _engine: Engine

    def weight_profile(self, contents_key: str) -> WeightProfileSnapshot | None:
        """The learned weight of parcels with these contents (sync.contents.contents_key)."""
        with self._engine.connect() as conn:
            data = conn.scalar(
                select(t.weight_profiles.c.data).where(
                    t.weight_profiles.c.contents_key == contents_key
                )
            )
        return WeightProfileSnapshot.model_validate_json(data) if data else None

    def order_by_id(self, order_id: int) -> OrderSnapshot | None:
        """The cached order with this id."""
        with self._engine.connect() as conn:
            data = conn.scalar(select(t.orders.c.data).where(t.orders.c.id == order_id))
        return OrderSnapshot.model_validate_json(data) if data else None

    def order_statuses(self, order_ids: Iterable[int]) -> dict[int, str]:
        """Order id -> status of the cached orders among `order_ids`, in one query."""
        ids = list(set(order_ids))
        if not ids:
            return {}
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(t.orders.c.id, t.orders.c.status).where(t.orders.c.id.in_(ids))
            ).all()
        return {row.id: row.status for row in rows}

    def order_by_code(self, text: str) -> OrderSnapshot | None:
        """The order whose number or tote is `text` (case and surrounding space ignored).

        An order number wins over a tote code if both would match.
        """
        key = text.strip().upper()
        if not key:
            return None
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(t.orders.c.data, t.orders.c.number_key)
                .where(or_(t.orders.c.number_key == key, t.orders.c.tote_key == key))
                .limit(2)
            ).all()
        if not rows:
            return None
        best = next((r for r in rows if r.number_key == key), rows[0])
        return OrderSnapshot.model_validate_json(best.data)

    def product_by_sku(self, sku: str) -> ProductSnapshot | None:
        """The product with this SKU (case and surrounding space ignored)."""
        return self._product(
            select(t.products.c.data).where(t.products.c.sku_key == sku.strip().upper())
        )

    def product_by_gtin14(self, gtin14: str) -> ProductSnapshot | None:
        """The product with this GTIN, given normalised to 14 digits."""
        return self._product(
            select(t.products.c.data)
            .join(t.product_gtins, t.product_gtins.c.product_id == t.products.c.id)
            .where(t.product_gtins.c.gtin14 == gtin14.strip())
        )

    def product_by_alias(self, code: str) -> ProductSnapshot | None:
        """The product known by this alias (supplier code, old SKU)."""
        return self._product(
            select(t.products.c.data)
            .join(t.product_aliases, t.product_aliases.c.product_id == t.products.c.id)
            .where(t.product_aliases.c.code_key == code.strip().upper())
        )

    def product_code_containing(self, fragment: str) -> str | None:
        """A longer SKU or alias with `fragment` inside it (a scan cut in two), or None."""
        key = fragment.strip().upper()
        if not key:
            return None
        with self._engine.connect() as conn:
            for column in (t.products.c.sku_key, t.product_aliases.c.code_key):
                found = conn.scalar(
                    select(column).where(func.instr(column, key) > 0, column != key).limit(1)
                )
                if found is not None:
                    return str(found)
        return None

    def products_by_skus(self, skus: Iterable[str]) -> dict[str, ProductSnapshot]:
        """Products for many SKUs in one query (opening a 100-line order), keyed by SKU key."""
        keys = sorted({sku.strip().upper() for sku in skus})
        if not keys:
            return {}
        query = select(t.products.c.sku_key, t.products.c.data).where(
            t.products.c.sku_key.in_(keys)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return {key: ProductSnapshot.model_validate_json(data) for key, data in rows}

    def _product(self, query: Any) -> ProductSnapshot | None:
        with self._engine.connect() as conn:
            data = conn.scalar(query.limit(1))
        return ProductSnapshot.model_validate_json(data) if data else None

    def users_by_badge(self, badge: str) -> list[UserSnapshot]:
        """The users with this badge who may log in at this station (active or not)."""
        with self._engine.connect() as conn:
            rows = conn.scalars(select(t.users.c.data).where(t.users.c.badge == badge.strip()))
            return [UserSnapshot.model_validate_json(r) for r in rows]

    def batches_for_station(self, station_id: int | None = None) -> list[BatchSnapshot]:
        """Cached batches, those assigned to `station_id` if given, by id."""
        query = select(t.batches.c.data).order_by(t.batches.c.id)
        if station_id is not None:
            query = query.where(t.batches.c.station_id == station_id)
        with self._engine.connect() as conn:
            return [BatchSnapshot.model_validate_json(r) for r in conn.scalars(query)]

    def labels_for_order(self, order_id: int) -> list[LabelSnapshot]:
        """Labels fetched ahead for this order, by parcel number."""
        query = (
            select(t.labels.c.data)
            .where(t.labels.c.order_id == order_id)
            .order_by(t.labels.c.parcel_no, t.labels.c.id)
        )
        with self._engine.connect() as conn:
            return [LabelSnapshot.model_validate_json(r) for r in conn.scalars(query)]

    def order_count(self) -> int:
        """How many orders the replica holds."""
        with self._engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(t.orders)) or 0)

    def holdings(self) -> tuple[int, str]:
        """(count, checksum) of the held orders, comparable with GET /v1/sync/checksum."""
        with self._engine.connect() as conn:
            pairs = [
                (r.id, r.version) for r in conn.execute(select(t.orders.c.id, t.orders.c.version))
            ]
        return len(pairs), holdings_checksum(pairs)

    def local_events(self, order_id: int) -> list[LocalEvent]:
        """This station's own mutations for an order, pending or acknowledged, oldest first."""
        query = (
            select(t.mutation_log)
            .where(t.mutation_log.c.order_id == order_id)
            .order_by(t.mutation_log.c.id)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            LocalEvent(
                id=r.id,
                type=r.type,
                order_id=r.order_id,
                lease_epoch=r.lease_epoch,
                at=datetime.fromisoformat(r.at),
                payload=json.loads(r.payload),
                status=r.status,
                reason=r.reason,
                message=r.message,
            )
            for r in rows
        ]
