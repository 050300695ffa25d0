"""catalogue: serial patterns on products, shop listings of products

`products.serial_pattern` is the regular expression a captured serial must match.
`product_listings` remembers which shop product (by the shop's id) gave which SKU, so a
shop's product delete, which names only its own id, finds our products.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-04 20:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("serial_pattern", sa.String(length=200), nullable=True))
    op.create_table(
        "product_listings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("shop_product_id", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "channel_id", "shop_product_id", "product_id", name="uq_product_listing"
        ),
    )
    with op.batch_alter_table("product_listings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_listings_product_id"), ["product_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("product_listings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_listings_product_id"))
    op.drop_table("product_listings")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_column("serial_pattern")
