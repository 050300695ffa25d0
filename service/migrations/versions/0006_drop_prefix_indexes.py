"""drop indexes that are prefixes of others

`ix_orders_batch_id` is the first column of `ix_orders_batch_status` and `ix_order_events_type`
the first of `ix_order_events_type_at` (both from 0003): PostgreSQL and SQLite use the longer
index for every query the short one served, and each order event (one per scan) no longer
updates an index nothing needs.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 02:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.drop_index("ix_order_events_type")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_batch_id")


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_batch_id", ["batch_id"], unique=False)
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.create_index("ix_order_events_type", ["type"], unique=False)
