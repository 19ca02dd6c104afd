"""RFC 3161 time-stamp tokens over checkpoints (ebox.projections.timestamper).

One row per stamped checkpoint: the DER TimeStampToken whose message imprint is
SHA-256 of the checkpoint's body, its genTime and the TSA's certificate subject
(both read from the checked token, kept for queries and /health).

Revision ID: 0012_checkpoint_timestamps
Revises: 0011_portal_sessions
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_checkpoint_timestamps"
down_revision = "0011_portal_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkpoint_timestamps",
        sa.Column(
            "size",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("token", sa.LargeBinary, nullable=False),
        sa.Column("gen_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tsa", sa.String(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("checkpoint_timestamps")
