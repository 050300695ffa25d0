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


# Plain ALTER TABLE, not batch mode: SQLite adds and (3.35+) drops a column in place, and a
# batch table copy would lose the expression index ix_orders_ship_name_lower (lower()).


def upgrade() -> None:
    op.add_column("orders", sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    op.drop_column("orders", "language")
