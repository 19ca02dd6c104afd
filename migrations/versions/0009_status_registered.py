"""The sender status view knows which letters are registered (their legal moment of receipt).

searchMessageStatus states, for a registered letter, when it counts as received
and under which rule; the view needs the registered flag from the Sent event.
Rows already there take it from the inbox view (same Sent event, same message
id); a letter the inbox view has not seen yet is taken as not registered until
the status view is rebuilt (`ebox projections rebuild status`).

Revision ID: 0009_status_registered
Revises: 0008_key_binding
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_status_registered"
down_revision = "0008_key_binding"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("status_messages") as batch:
        batch.add_column(
            sa.Column("registered", sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE status_messages SET registered = COALESCE((SELECT i.registered "
        "FROM inbox_messages i WHERE i.message_id = status_messages.message_id), "
        "status_messages.registered)"
    )


def downgrade() -> None:
    with op.batch_alter_table("status_messages") as batch:
        batch.drop_column("registered")
