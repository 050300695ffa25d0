"""change rows written without a lock, numbered later

Writers used to number their change rows at commit under the change_counter row lock, so
every writer queued for that row through its commit. Now they insert rows with no number
and service.changes.number_changes numbers committed rows before a pull. The table gets its
own 64-bit id (insert order) and `seq` becomes a nullable unique 64-bit number; existing
rows keep their numbers, so stations' cursors stay valid.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 00:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_SET_ASIDE = (
    "CREATE TABLE changes_migrating AS SELECT seq, entity, entity_id, station_id, at FROM changes"
)


def _set_aside_old_rows() -> None:
    """Copy the feed to a plain table and drop `changes` with its indexes and key names."""
    op.execute(_SET_ASIDE)
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_changes_station_id"))
        batch_op.drop_index("ix_changes_entity")
    op.drop_table("changes")


def upgrade() -> None:
    _set_aside_old_rows()
    op.create_table(
        "changes",
        sa.Column("id", _ROW_ID, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seq"),
    )
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.create_index("ix_changes_entity", ["entity", "entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_changes_station_id"), ["station_id"], unique=False)
        batch_op.create_index(
            "ix_changes_unnumbered",
            ["id"],
            unique=False,
            postgresql_where=sa.text("seq IS NULL"),
            sqlite_where=sa.text("seq IS NULL"),
        )
    # Old rows keep their number, and their number becomes their id (numbers were gap-free
    # and in commit order, so ids stay in insert order).
    op.execute(
        "INSERT INTO changes (id, seq, entity, entity_id, station_id, at) "
        "SELECT seq, seq, entity, entity_id, station_id, at FROM changes_migrating ORDER BY seq"
    )
    op.drop_table("changes_migrating")
    with op.batch_alter_table("change_counter", schema=None) as batch_op:
        batch_op.alter_column("value", existing_type=sa.Integer(), type_=sa.BigInteger())
    if op.get_bind().dialect.name == "postgresql":
        # The id sequence continues after the copied ids.
        op.execute(
            "SELECT setval(pg_get_serial_sequence('changes', 'id'), "
            "COALESCE((SELECT MAX(id) FROM changes), 0) + 1, false)"
        )


def downgrade() -> None:
    # Number what is still unnumbered, in insert order, so no change is lost on the way down.
    op.execute(
        "UPDATE changes SET seq = (SELECT value FROM change_counter WHERE id = 1) + "
        "(SELECT COUNT(*) FROM changes AS c WHERE c.seq IS NULL AND c.id <= changes.id) "
        "WHERE seq IS NULL"
    )
    op.execute(
        "UPDATE change_counter SET value = COALESCE((SELECT MAX(seq) FROM changes), value) "
        "WHERE id = 1"
    )
    op.execute(_SET_ASIDE)
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_index("ix_changes_unnumbered")
        batch_op.drop_index(batch_op.f("ix_changes_station_id"))
        batch_op.drop_index("ix_changes_entity")
    op.drop_table("changes")
    op.create_table(
        "changes",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.create_index("ix_changes_entity", ["entity", "entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_changes_station_id"), ["station_id"], unique=False)
    op.execute(
        "INSERT INTO changes (seq, entity, entity_id, station_id, at) "
        "SELECT seq, entity, entity_id, station_id, at FROM changes_migrating ORDER BY seq"
    )
    op.drop_table("changes_migrating")
    with op.batch_alter_table("change_counter", schema=None) as batch_op:
        batch_op.alter_column("value", existing_type=sa.BigInteger(), type_=sa.Integer())
