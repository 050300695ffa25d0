"""webhook_receipts as the webhook inbox: channel_order_id, body, error and the queue's indexes

A delivery that cannot be applied while the shop waits (the service is busy, or an earlier
delivery of the same order is still queued) is stored with outcome "queued" and its raw
body, answered 202, and applied by service.ingest.inbox. Existing receipts keep NULL in the
new columns: they were applied when they came.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 15:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUED = sa.text("outcome = 'queued'")


def upgrade() -> None:
    op.add_column(
        "webhook_receipts", sa.Column("channel_order_id", sa.String(length=64), nullable=True)
    )
    op.add_column("webhook_receipts", sa.Column("body", sa.LargeBinary(), nullable=True))
    op.add_column("webhook_receipts", sa.Column("error", sa.String(length=300), nullable=True))
    for name, columns in (
        ("ix_webhook_receipts_queued", ["id"]),
        ("ix_webhook_receipts_queued_order", ["channel_id", "channel_order_id", "id"]),
    ):
        op.create_index(
            name, "webhook_receipts", columns, postgresql_where=QUEUED, sqlite_where=QUEUED
        )


def downgrade() -> None:
    op.drop_index("ix_webhook_receipts_queued_order", table_name="webhook_receipts")
    op.drop_index("ix_webhook_receipts_queued", table_name="webhook_receipts")
    op.drop_column("webhook_receipts", "error")
    op.drop_column("webhook_receipts", "body")
    op.drop_column("webhook_receipts", "channel_order_id")
