"""webhook_receipts: a partial index over failed deliveries, per channel

The console's channels page and `channel inbox` count and list the deliveries the inbox
could not apply. Without an index each of those reads every receipt ever stored (a million
at a large site); only failed rows are indexed, so it stays as small as they are few.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 18:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FAILED = sa.text("outcome = 'failed'")


def upgrade() -> None:
    op.create_index(
        "ix_webhook_receipts_failed",
        "webhook_receipts",
        ["channel_id", "id"],
        postgresql_where=FAILED,
        sqlite_where=FAILED,
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_receipts_failed", table_name="webhook_receipts")
