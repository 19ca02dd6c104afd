"""Witness cosignatures of checkpoints (ebox.projections.witnessing).

`witness_cosignatures`: one verified C2SP cosignature/v1 line per checkpoint and
witness (named by its cosigner vkey); `witness_status`: the size each witness
last cosigned and its last failure, for the next add-checkpoint and /health.

Revision ID: 0013_witnessing
Revises: 0012_checkpoint_timestamps
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_witnessing"
down_revision = "0012_checkpoint_timestamps"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "witness_cosignatures",
        sa.Column("size", BigId, primary_key=True, autoincrement=False),
        sa.Column("witness", sa.String(), primary_key=True),
        sa.Column("line", sa.String(), nullable=False),
        sa.Column("cosigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "witness_status",
        sa.Column("witness", sa.String(), primary_key=True),
        sa.Column("cosigned_size", BigId, nullable=True),
        sa.Column("succeeded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("witness_status")
    op.drop_table("witness_cosignatures")
