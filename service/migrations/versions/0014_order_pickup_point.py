"""orders.pickup_point, orders.pickup_point_name

The carrier's id of the pickup point or locker the customer chose at checkout, and its name
and address as the shop showed it, so the point reaches the carrier, the label and the
packing slip. Empty for home delivery and for every existing order.

Revision ID: 0014
Revises: 0009
Create Date: 2026-12-04 22:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pickup_point", sa.String(64), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("pickup_point_name", sa.String(200), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("pickup_point_name")
        batch_op.drop_column("pickup_point")
