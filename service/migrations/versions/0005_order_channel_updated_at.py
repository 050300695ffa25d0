"""orders.channel_updated_at

The channel's own last-modified time of an order, as of the delivery applied last, so an
older delivery arriving late (shops do not promise delivery order) is recognised and not
applied over a newer one. Existing orders have none: their next delivery is applied.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 01:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel_updated_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("channel_updated_at")
