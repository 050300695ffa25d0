"""drop two more indexes that are prefixes of others

`ix_orders_status` is the first column of `ix_orders_status_created` and
`ix_orders_channel_id` the first of the unique constraint `uq_orders_channel_order` (both from
0001; 0006 dropped two such). PostgreSQL and SQLite use the longer index for every query the
short one served (and for the foreign key's checks), and a new order, the webhook's insert,
no longer writes two index entries nothing reads, nor does every status change one.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 01:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_status")
        batch_op.drop_index("ix_orders_channel_id")


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_channel_id", ["channel_id"], unique=False)
        batch_op.create_index("ix_orders_status", ["status"], unique=False)
