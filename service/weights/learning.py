"""Derive what the weight history teaches, for one contents set or one product at a time.

Each refresh reads at most `stats.WINDOW` rows through an index, so a push costs the same
whatever the history's size. Profiles go to stations through the change feed; a learned
unit weight is written through the catalogue's own update path (service.catalogue.store),
so it reaches stations as a product change like any other edit.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.catalogue.store import ProductChange, apply_changes
from service.changes import mark_changed
from service.models import LearnedUnitWeight, ParcelWeight, Product, WeightProfile
from service.weights import stats

log = logging.getLogger(__name__)

ACTOR = "weight-learning"


def _profile_row(session: Session, key: str, contents: str, box_type: str) -> WeightProfile:
    """The profile row for `key`, created if missing and locked for this transaction.

    INSERT .. ON CONFLICT DO NOTHING: two stations closing the same contents at once both
    end up on one row, and the row lock orders their updates.
    """
    values = {
        "contents_key": key,
        "contents": contents,
        "box_type": box_type,
        "parcels": 0,
        "mean_grams": 0.0,
        "stdev_grams": 0.0,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(WeightProfile)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["contents_key"])
    )
    row = session.scalars(
        select(WeightProfile)
        .where(WeightProfile.contents_key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return row


def refresh_profile(session: Session, key: str, contents: str, box_type: str) -> None:
    """Recompute one contents set's profile from its most recent learnable parcels."""
    profile = _profile_row(session, key, contents, box_type)
    recent = list(
        session.scalars(
            select(ParcelWeight.grams)
            .where(ParcelWeight.contents_key == key, ParcelWeight.learn.is_(True))
            .order_by(ParcelWeight.id.desc())
            .limit(stats.WINDOW)
        )
    )
    summary = stats.summarise(recent)
    before = (profile.parcels, profile.mean_grams, profile.stdev_grams)
    after = (summary.parcels, summary.mean_grams, summary.stdev_grams)
    if before == after:
        return
    profile.parcels, profile.mean_grams, profile.stdev_grams = after
    if max(before[0], after[0]) >= stats.MIN_PARCELS:
        mark_changed(session, "weight_profile", profile.id)


def refresh_unit_weight(session: Session, sku: str) -> None:
    """Learn the weight of product `sku` if it has none (or only a learned one)."""
    product = session.scalar(select(Product).where(Product.sku == sku.strip().upper()))
    if product is None:
        return
    learned = session.get(LearnedUnitWeight, product.id)
    if product.weight_grams is not None and (
        learned is None or learned.grams != product.weight_grams
    ):
        return  # a weight someone set stands
    rows = session.execute(
        select(ParcelWeight.grams, ParcelWeight.box_grams, ParcelWeight.units)
        .where(
            ParcelWeight.single_sku == product.sku,
            ParcelWeight.learn.is_(True),
            ParcelWeight.box_grams.is_not(None),
        )
        .order_by(ParcelWeight.id.desc())
        .limit(stats.WINDOW)
    ).tuples()
    parcels = [stats.SingleProductParcel(g, b, u) for g, b, u in rows if b is not None]
    grams = stats.unit_weight(parcels)
    if grams is None:
        return
    if learned is None:
        learned = LearnedUnitWeight(product_id=product.id, grams=grams, parcels=len(parcels))
        session.add(learned)
    learned.grams, learned.parcels = grams, len(parcels)
    if product.weight_grams != grams:
        change = ProductChange(
            sku=product.sku, values={"weight_grams": grams}, label="weight learning"
        )
        apply_changes(session, [change], actor=ACTOR)
        log.info(
            "learned unit weight",
            extra={"sku": product.sku, "grams": grams, "parcels": len(parcels)},
        )
