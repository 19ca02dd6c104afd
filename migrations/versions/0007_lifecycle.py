"""The lifecycle scheduler's due work: what becomes due for each letter, and when.

The scheduler follows the log (Sent, Read, Expired, a mailbox's Closed) and
writes one row per due item: the message, the kind of work (`expire` at the end
of the validity, `shred` after a closed mailbox's retention; the notifier's
reminders and alerts later), the moment it is due, and the publication and
mailbox it belongs to (a broadcast shares its ciphertexts between its letters,
and a closed mailbox's letters are found by mailbox). `done_at` is set in the
same transaction as the work, by a conditional UPDATE that is also the claim:
a second runner finds the row done and does nothing. `attempts` and
`last_error` (an error class, never its text) say why an item keeps failing.

Revision ID: 0007_lifecycle
Revises: 0006_search_scope
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_lifecycle"
down_revision = "0006_search_scope"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lifecycle_due",
        sa.Column("message_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("publication_id", sa.String(64), nullable=False),
        sa.Column("mailbox_id", sa.String(36), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.String(200), nullable=True),
    )
    op.create_index("lifecycle_due_pending_idx", "lifecycle_due", ["done_at", "due_at"])
    op.create_index("lifecycle_due_publication_idx", "lifecycle_due", ["publication_id"])
    op.create_index("lifecycle_due_mailbox_idx", "lifecycle_due", ["mailbox_id"])


def downgrade() -> None:
    op.drop_table("lifecycle_due")
