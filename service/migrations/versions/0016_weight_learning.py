"""weight learning: parcel_weights, weight_profiles, learned_unit_weights

Every accepted parcel weight with its contents and box (`parcel_weights`), the expected
weight of each repeated contents set (`weight_profiles`, pulled by stations), and the product
weights learned from single-product parcels (`learned_unit_weights`).

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-04 21:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "parcel_weights",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("mutation_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("box_no", sa.Integer(), nullable=False),
        sa.Column("box_type", sa.String(length=20), nullable=False),
        sa.Column("box_grams", sa.Integer(), nullable=True),
        sa.Column("contents_key", sa.String(length=64), nullable=False),
        sa.Column("contents", sa.Text(), nullable=False),
        sa.Column("single_sku", sa.String(length=64), nullable=True),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("grams", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("learn", sa.Boolean(), nullable=False),
        sa.Column("weighed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("station_id", "mutation_id", name="uq_parcel_weight_mutation"),
    )
    with op.batch_alter_table("parcel_weights", schema=None) as batch_op:
        batch_op.create_index(
            "ix_parcel_weights_contents", ["contents_key", "learn", "id"], unique=False
        )
        batch_op.create_index(
            "ix_parcel_weights_single_sku", ["single_sku", "learn", "id"], unique=False
        )
        batch_op.create_index("ix_parcel_weights_box", ["order_id", "box_no"], unique=False)
    op.create_table(
        "weight_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contents_key", sa.String(length=64), nullable=False),
        sa.Column("contents", sa.Text(), nullable=False),
        sa.Column("box_type", sa.String(length=20), nullable=False),
        sa.Column("parcels", sa.Integer(), nullable=False),
        sa.Column("mean_grams", sa.Float(), nullable=False),
        sa.Column("stdev_grams", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contents_key"),
    )
    op.create_table(
        "learned_unit_weights",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("grams", sa.Integer(), nullable=False),
        sa.Column("parcels", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("product_id"),
    )


def downgrade() -> None:
    op.drop_table("learned_unit_weights")
    op.drop_table("weight_profiles")
    with op.batch_alter_table("parcel_weights", schema=None) as batch_op:
        batch_op.drop_index("ix_parcel_weights_box")
        batch_op.drop_index("ix_parcel_weights_single_sku")
        batch_op.drop_index("ix_parcel_weights_contents")
    op.drop_table("parcel_weights")
