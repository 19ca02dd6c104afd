"""Ledger core: events, tracking, blobs, keys, Merkle log, checkpoints.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy_utils.types.uuid import UUIDType

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Exactly the table eventsourcing_sqlalchemy maps for the application "Ebox".
    op.create_table(
        "ebox_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("originator_id", UUIDType(), nullable=False),
        sa.Column("originator_version", BigId, nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
    )
    op.create_index(
        "ebox_events_aggregate_idx",
        "ebox_events",
        ["originator_id", "originator_version"],
        unique=True,
    )
    op.create_table(
        "ebox_tracking",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("position", BigId, nullable=False),
    )
    op.create_table(
        "blobs",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("size", BigId, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "wrapped_keys",
        sa.Column("message_id", sa.String(36), primary_key=True),
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "vault_keys",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("kek_id", sa.String(16), nullable=False),
        sa.Column("sealed_private_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ledger_leaves",
        sa.Column("leaf_index", BigId, primary_key=True, autoincrement=False),
        sa.Column("notification_id", BigId, nullable=False, unique=True),
        sa.Column("aggregate_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("event_hash", sa.String(64), nullable=False),
    )
    op.create_index(
        "ledger_leaves_aggregate_idx", "ledger_leaves", ["aggregate_id", "version"], unique=True
    )
    op.create_table(
        "merkle_nodes",
        sa.Column("level", sa.SmallInteger(), primary_key=True, autoincrement=False),
        sa.Column("idx", BigId, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "checkpoints",
        sa.Column("size", BigId, primary_key=True, autoincrement=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "checkpoints",
        "merkle_nodes",
        "ledger_leaves",
        "vault_keys",
        "wrapped_keys",
        "blobs",
        "ebox_tracking",
    ):
        op.drop_table(table)
    op.drop_index("ebox_events_aggregate_idx", table_name="ebox_events")
    op.drop_table("ebox_events")
