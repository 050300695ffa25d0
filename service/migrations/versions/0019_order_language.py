"""orders.language: the language an order's own papers (the packing slip) print in

The shop's locale for the order (Shopify `customer_locale`, a WooCommerce language plugin's
order meta) when it is one Packbench prints, else the destination country's language, else
English (sync.languages.customer_language). NULL for orders from before this revision: the
sync snapshot then derives it from the destination country.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 03:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("language")
