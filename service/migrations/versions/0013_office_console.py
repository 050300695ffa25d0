"""office users, console sessions and audit; indexes for order search

The operations console signs office users in with email + password (argon2id hash, failed
attempts counted per account), keeps each browser's session server-side (only the cookie
token's hash is stored) and audits what they do. Order search looks customers up by e-mail,
phone, the shop's order name, a parcel's tracking number and the start of a name (lower case,
pattern ops on PostgreSQL): each gets an index.

Revision ID: 0013
Revises: 0016
Create Date: 2026-12-04 21:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "office_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "office_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("office_user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["office_user_id"], ["office_users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(
        "ix_office_sessions_office_user_id", "office_sessions", ["office_user_id"], unique=False
    )
    op.create_table(
        "office_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=220), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["office_user_id"], ["office_users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_office_audit_at", "office_audit", ["at"], unique=False)
    op.create_index(
        "ix_office_audit_office_user_id", "office_audit", ["office_user_id"], unique=False
    )
    op.create_index(
        "ix_office_audit_action_target", "office_audit", ["action", "target"], unique=False
    )
    op.create_index("ix_orders_email", "orders", ["email"], unique=False)
    op.create_index("ix_orders_phone", "orders", ["phone"], unique=False)
    op.create_index("ix_orders_channel_order_name", "orders", ["channel_order_name"], unique=False)
    op.create_index("ix_parcels_tracking_number", "parcels", ["tracking_number"], unique=False)
    op.create_index(
        "ix_orders_ship_name_lower",
        "orders",
        [sa.text("lower(ship_name) varchar_pattern_ops")]
        if op.get_bind().dialect.name == "postgresql"
        else [sa.text("lower(ship_name)")],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_orders_ship_name_lower", table_name="orders")
    op.drop_index("ix_parcels_tracking_number", table_name="parcels")
    op.drop_index("ix_orders_channel_order_name", table_name="orders")
    op.drop_index("ix_orders_phone", table_name="orders")
    op.drop_index("ix_orders_email", table_name="orders")
    op.drop_table("office_audit")
    op.drop_index("ix_office_sessions_office_user_id", table_name="office_sessions")
    op.drop_table("office_sessions")
    op.drop_table("office_users")
