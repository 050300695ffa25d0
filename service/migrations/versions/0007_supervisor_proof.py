"""supervisor sessions, PIN lockout, station PIN keys

A supervisor now signs in at a station with badge + PIN (`supervisor_sessions`, only the
session token's hash is stored); wrong PINs are counted per user and lock the PIN for a
while; each station's X25519 public key from enrolment seals the PIN verifiers in its pulls.

Revision ID: 0007
Revises: 0011
Create Date: 2026-12-04 21:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pin_failures", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("pin_locked_until", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pin_public_key", sa.String(length=64), nullable=True))
    op.create_table(
        "supervisor_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("supervisor_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supervisor_sessions_station_id"), ["station_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supervisor_sessions_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("supervisor_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supervisor_sessions_user_id"))
        batch_op.drop_index(batch_op.f("ix_supervisor_sessions_station_id"))
    op.drop_table("supervisor_sessions")
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.drop_column("pin_public_key")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("pin_locked_until")
        batch_op.drop_column("pin_failures")
