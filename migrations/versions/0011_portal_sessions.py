"""The portal's sessions and the embedded issuer's one-time codes move into the database.

They lived in the API process that made them, so a restart or a second replica
signed people out (and the proxy had to pin each browser to one replica). Rows
are keyed by the SHA-256 of the session id / code: the cookie and the code are
the secrets and are never stored. Nothing to carry over: sessions of the old
per-process store end with the process anyway.

Revision ID: 0011_portal_sessions
Revises: 0010_access_history
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_portal_sessions"
down_revision = "0010_access_history"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_sessions",
        sa.Column("id_sha256", sa.String(64), primary_key=True),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created", sa.Double, nullable=False),
        sa.Column("last_seen", sa.Double, nullable=False),
        sa.Column("nrn", sa.String(11), nullable=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("acting_for_type", sa.String(16), nullable=True),
        sa.Column("acting_for_id", sa.String(64), nullable=True),
        sa.Column("pending_state", sa.String(64), nullable=True),
        sa.Column("pending_nonce", sa.String(64), nullable=True),
        sa.Column("pending_verifier", sa.String(128), nullable=True),
        sa.Column("pending_next", sa.Text, nullable=True),
    )
    op.create_index("portal_sessions_last_seen_idx", "portal_sessions", ["last_seen"])
    op.create_table(
        "portal_signin_codes",
        sa.Column("code_sha256", sa.String(64), primary_key=True),
        sa.Column("nrn", sa.String(11), nullable=False),
        sa.Column("code_challenge", sa.Text, nullable=False),
        sa.Column("nonce", sa.Text, nullable=False),
        sa.Column("expires", sa.Double, nullable=False),
    )
    op.create_index("portal_signin_codes_expires_idx", "portal_signin_codes", ["expires"])


def downgrade() -> None:
    op.drop_table("portal_signin_codes")
    op.drop_table("portal_sessions")
