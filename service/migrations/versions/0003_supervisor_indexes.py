"""supervisor indexes

Indexes for the supervisor overview (service.supervisor): one kind of event over a time
range, a batch's orders by status, the shift's rejected mutations, and the exception lookups
that stay cheap once those tables hold months of rows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 23:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.create_index("ix_order_events_type_at", ["type", "at"], unique=False)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_batch_status", ["batch_id", "status"], unique=False)
    with op.batch_alter_table("order_exceptions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_order_exceptions_kind_created", ["kind", "created_at"], unique=False
        )
        batch_op.create_index("ix_order_exceptions_kind_code", ["kind", "code"], unique=False)
    with op.batch_alter_table("station_mutations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_station_mutations_status_applied", ["status", "applied_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("station_mutations", schema=None) as batch_op:
        batch_op.drop_index("ix_station_mutations_status_applied")
    with op.batch_alter_table("order_exceptions", schema=None) as batch_op:
        batch_op.drop_index("ix_order_exceptions_kind_code")
        batch_op.drop_index("ix_order_exceptions_kind_created")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_batch_status")
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.drop_index("ix_order_events_type_at")
