"""OAuth clients (private_key_jwt) and the client assertions already used.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Public JWKs only: no secret is ever stored in these tables.
    op.create_table(
        "oauth_clients",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(200), nullable=False),
        sa.Column("jwks", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("oauth_clients_subject_idx", "oauth_clients", ["kind", "subject"])
    op.create_table(
        "used_assertions",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("jti", sa.String(128), primary_key=True),
        sa.Column("expires_at", BigId, nullable=False),
    )
    op.create_index("used_assertions_expiry_idx", "used_assertions", ["expires_at"])


def downgrade() -> None:
    op.drop_index("used_assertions_expiry_idx", table_name="used_assertions")
    op.drop_table("used_assertions")
    op.drop_index("oauth_clients_subject_idx", table_name="oauth_clients")
    op.drop_table("oauth_clients")
