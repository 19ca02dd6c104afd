"""The keys a database is bound to: the ledger keys (in order) and the KEK, with the origin.

At first use the ledger records the id of its ledger signing key, the KEK's
fingerprint and its origin; from then on a data directory holding other keys is
refused (ebox.adapters.key_binding). `ledger_keys` keeps every ledger key the
log was ever signed with and the first checkpoint size each one signs, so that
a rotation leaves the old checkpoints verifiable.

Revision ID: 0008_key_binding
Revises: 0007_lifecycle
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_key_binding"
down_revision = "0007_lifecycle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_binding",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("origin", sa.String(200), nullable=False),
        sa.Column("kek_id", sa.String(16), nullable=False),
        sa.Column("bound_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ledger_keys",
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("key_id", sa.String(8), nullable=False),
        sa.Column("vkey", sa.String(200), nullable=False, unique=True),
        sa.Column("first_size", sa.BigInteger, nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ledger_keys")
    op.drop_table("ledger_binding")
