"""The "access" read model: who opened a mailbox's letters, and who holds a mandate for it.

The portal shows a person every opening of their letters (reader, channel,
time) and the eBoxes they may switch to; both are read from these tables,
written by `ebox.projections.access`, never by scanning the log per request.
A rebuild fills them again from the log.

Revision ID: 0010_access_history
Revises: 0009_status_registered
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_access_history"
down_revision = "0009_status_registered"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "access_mailboxes",
        sa.Column("mailbox_id", sa.String(36), primary_key=True),
        sa.Column("ebox_type", sa.String(16), nullable=False),
        sa.Column("ebox_id_value", sa.String(32), nullable=False),
    )
    op.create_table(
        "access_messages",
        sa.Column("message_id", sa.String(36), primary_key=True),
        sa.Column("mailbox_id", sa.String(36), nullable=False),
        sa.Column("sender_kbo", sa.String(32), nullable=False),
        sa.Column("subjects", sa.JSON, nullable=False),
    )
    op.create_table(
        "access_events",
        sa.Column("notification_id", BigId, primary_key=True, autoincrement=False),
        sa.Column("mailbox_id", sa.String(36), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("reader", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("document", sa.String(200), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("access_events_mailbox_idx", "access_events", ["mailbox_id", "notification_id"])
    op.create_table(
        "mandate_holders",
        sa.Column("holder", sa.String(200), primary_key=True),
        sa.Column("mailbox_id", sa.String(36), primary_key=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("mandate_holders")
    op.drop_index("access_events_mailbox_idx", table_name="access_events")
    op.drop_table("access_events")
    op.drop_table("access_messages")
    op.drop_table("access_mailboxes")
