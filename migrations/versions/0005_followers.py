"""One follower engine: every follower tracks its position in `ebox_tracking`; faults apart.

Delivery and the sealer already tracked their position in `ebox_tracking`
(name, position); the read models move there from their own `<view>_tracking`
tables, keeping the position they had reached, so one kind of tracking record
serves every follower of the notification log.

`follower_faults` holds, per follower, the batch it failed on and why: the
position it was at, the notification it narrowed the failure down to, the
error's class (never its text, which may carry personal data), the attempts
made, and whether it is parked (stopped alone, waiting for a restart or an
operator). It is written in its own transaction, beside the work's, so a
failed batch leaves no trace but this.

Revision ID: 0005_followers
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_followers"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
VIEWS = ("inbox", "status", "feed")
APPLICATION = "Ebox"


def upgrade() -> None:
    bind = op.get_bind()
    for view in VIEWS:
        position = bind.execute(
            sa.text(f"SELECT notification_id FROM {view}_tracking WHERE application_name = :app"),
            {"app": APPLICATION},
        ).scalar()
        if position is not None:
            bind.execute(
                sa.text("INSERT INTO ebox_tracking (name, position) VALUES (:name, :position)"),
                {"name": view, "position": int(position)},
            )
        op.drop_table(f"{view}_tracking")
    op.create_table(
        "follower_faults",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("position", BigId, nullable=False),
        sa.Column("notification_id", BigId, nullable=True),
        sa.Column("error_class", sa.String(200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("parked", sa.Boolean(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("follower_faults")
    bind = op.get_bind()
    for view in VIEWS:
        op.create_table(
            f"{view}_tracking",
            sa.Column("application_name", sa.String(32), primary_key=True),
            sa.Column("notification_id", BigId, nullable=True),
        )
        position = bind.execute(
            sa.text("SELECT position FROM ebox_tracking WHERE name = :name"), {"name": view}
        ).scalar()
        if position is not None:
            bind.execute(
                sa.text(
                    f"INSERT INTO {view}_tracking (application_name, notification_id) "
                    "VALUES (:app, :position)"
                ),
                {"app": APPLICATION, "position": int(position)},
            )
        bind.execute(sa.text("DELETE FROM ebox_tracking WHERE name = :name"), {"name": view})
